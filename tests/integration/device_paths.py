"""Run every path that reads tensors on the host, with NumPy conversion refused as on a CUDA device.

    KERAS_BACKEND=torch python -m tests.integration.device_paths CORPUS WORK_DIR [PATH ...]

Trains a small model for two short epochs on a slice of the real corpus (selection by greedy
BLEU, validation between epochs, averaging of the last epochs), then translates (greedy, beam,
n-best, sampling, coverage penalty, bfloat16, an ensemble), decodes with the classic loop,
evaluates with attention statistics and pictures, encodes sentence vectors, averages two
saved checkpoints and serves `/translate` and `/attention`, all inside
`device_guard.refusing_numpy()`. Prints one JSON line: the paths that ran (or the one that
failed, with its error) and, as a check that the guard bites, the error that converting a
real search state with `np.asarray` raised. PATH names run only those paths.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import keras
import numpy as np

import seq2seq
from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.batching import pad_batch
from seq2seq.evaluation.attention_plot import attention_matrix
from seq2seq.evaluation.attention_stats import attention_statistics
from seq2seq.evaluation.scores import evaluate_model
from seq2seq.models.classic import decode_sequence
from seq2seq.training.averaging import average_checkpoints
from seq2seq.training.fit import training_batches
from seq2seq.training.selection import Validator
from seq2seq.translation.ensemble import Ensemble
from tests.integration.device_guard import refusing_numpy

SOURCES = ["Go.", "I am cold.", "Who are you?", "", "Tom is here."]


def train_small(pairs):
    """Two short epochs: weights chosen by greedy BLEU, validated between epochs too, the last two averaged."""
    config = ModelConfig(
        tokenizer="char", embedding_dim=11, units=13, attention="luong-general", bidirectional=True, bridge="dense"
    )
    settings = TrainConfig(
        epochs=2,
        batch_size=32,
        select_by="bleu",
        validate_every=4,
        average_last=2,
        max_validation_sources=20,
        seed=3,
        verbose=0,
    )
    return seq2seq.train(pairs, config, settings)


def average_two_saved(model, work: Path):
    paths = [work / "a.keras", work / "b.keras"]
    for path in paths:
        model.save(path)
    return average_checkpoints(paths).translate(SOURCES[:2])


def in_bfloat16(model):
    model.set_precision("bfloat16")
    return model.translate(SOURCES, beam=2), model.encode_texts(SOURCES).dtype.name


def serve(model):
    from fastapi.testclient import TestClient

    from seq2seq.serving.app import create_app

    with TestClient(create_app(model), base_url="http://localhost") as client:
        translated = client.post("/translate", json={"texts": SOURCES[:3], "beam": 2, "nbest": 2})
        attended = client.post("/attention", json={"text": SOURCES[1]})
    assert translated.status_code == 200 and attended.status_code == 200, (translated.text, attended.text)
    return [translated.json()["translations"], attended.json()["translation"]]


def paths(model, pairs, work: Path) -> dict:
    """Each path's name and a callable that runs it (returning something JSON can hold)."""
    sources = [pair[0] for pair in pairs]
    return {
        "greedy": lambda: model.translate(SOURCES),
        "beam": lambda: model.translate(SOURCES, beam=3),
        "nbest": lambda: [[h.text for h in row] for row in model.translate_nbest(SOURCES, beam=3, nbest=2)],
        "sampling": lambda: model.translate(SOURCES, sample=True, top_k=5, seed=1),
        "coverage": lambda: model.translate(SOURCES, beam=2, coverage_penalty=0.2),
        "many sentences": lambda: len(model.translate(sources, batch_size=200, beam=2)),  # looks between chunks
        "ensemble": lambda: Ensemble([model, model]).translate(SOURCES, beam=2),
        "classic loop": lambda: decode_sequence(model, SOURCES[1], 12),
        "evaluate": lambda: evaluate_model(model, pairs[:40])[0],
        "attention statistics": lambda: attention_statistics(model, sources[:40]),
        "attention picture": lambda: attention_matrix(model, SOURCES[2])[1],
        "sentence vectors": lambda: [list(model.encode_texts(SOURCES, pooling).shape) for pooling in ("final", "mean")],
        "validation loss": lambda: Validator(training_batches(model, pairs[:50], 16), pairs[:50]).loss(model),
        "averaging": lambda: average_two_saved(model, work),
        "serving": lambda: serve(model),
        "bfloat16": lambda: in_bfloat16(model),
    }


def guard_check(model) -> str:
    """The error that `np.asarray` of a real search state's `done` flags raises under the guard (the old crash)."""
    searcher = model.translator._searcher_for(seq2seq.SearchConfig())
    state = searcher.begin(pad_batch([[5, 6, 7]]), np.array([4], dtype="int32"), 8)
    try:
        np.asarray(state.done)
    except TypeError as error:
        return str(error)
    return "no error"


def main(corpus: str, work: str, *only: str) -> None:
    pairs = seq2seq.read_tatoeba(corpus, limit=200).pairs
    result: dict = {"backend": keras.backend.backend(), "ran": []}
    with refusing_numpy():
        try:
            model = train_small(pairs)
            result["ran"].append("training")
            for name, run in paths(model, pairs, Path(work)).items():
                if not only or name in only:
                    run()
                    result["ran"].append(name)
        except Exception as error:  # report which path met the guard, and where
            failure = f"{type(error).__name__}: {error}"
            result["failed"] = {"error": failure[:2000], "traceback": traceback.format_exc()[-2500:]}
        result["guard"] = guard_check(model) if "training" in result["ran"] else None
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
