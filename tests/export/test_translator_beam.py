"""Beam search and n-best lists of an exported model equal the Keras model's, on real sentences."""

from __future__ import annotations

import importlib.util

import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.errors import ConfigError
from seq2seq.export.exporter import export_model
from seq2seq.export.translator import ExportedTranslator
from seq2seq.training.fit import train

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning"),
    pytest.mark.skipif(
        importlib.util.find_spec("tf2onnx") is None, reason="tf2onnx is not installed (the export extra)"
    ),
]
MODELS = {
    "attention": {"attention": "luong-general", "bidirectional": True, "bridge": "dense", "units": 24},
    "no-attention": {"cell": "gru", "units": 20, "embedding_dim": 12},
}
SEARCHES = [
    {"beam": 3, "nbest": 2},
    {"beam": 5, "nbest": 2},
    {"beam": 4, "nbest": 3, "length_penalty": 0.6, "min_length": 2},
]


@pytest.fixture(scope="module")
def pairs(tatoeba_path):
    return read_tatoeba(tatoeba_path, limit=900).pairs


@pytest.fixture(scope="module", params=list(MODELS))
def model(request, pairs):
    config = ModelConfig(tokenizer="word", **MODELS[request.param])
    return train(pairs[:800], config, TrainConfig(epochs=2, batch_size=32, seed=5, verbose=0))


@pytest.fixture(scope="module")
def sentences(pairs):
    return sorted({source for source, _ in pairs[800:]})[:30]


@pytest.mark.parametrize("format", ["onnx", "saved_model"])
def test_the_exported_beam_search_gives_the_keras_texts_and_scores(model, sentences, format, tmp_path):
    exported = ExportedTranslator(export_model(model, tmp_path / format, format))
    searches = SEARCHES + ([{"beam": 3, "nbest": 2, "coverage_penalty": 0.3}] if model.has_attention else [])
    for search in searches:
        keras_found = model.translate_nbest(sentences, **search)
        found = exported.translate_nbest(sentences, **search)
        assert [[h.text for h in hypotheses] for hypotheses in found] == [
            [h.text for h in hypotheses] for hypotheses in keras_found
        ], search
        differences = [abs(a.score - b.score) for x, y in zip(found, keras_found) for a, b in zip(x, y)]
        assert max(differences) < 1e-4, search
        assert sum(len(hypotheses) == search["nbest"] for hypotheses in found) > len(sentences) // 2


def test_the_exported_runner_refuses_what_it_cannot_search_as_keras_does(model, tmp_path):
    exported = ExportedTranslator(export_model(model, tmp_path / "onnx", "onnx"))
    for search, expected in [
        ({"sample": True}, "sampling and n-gram blocking need the .keras file"),
        ({"beam": 3, "no_repeat_ngram": 2}, "sampling and n-gram blocking need the .keras file"),
    ] + ([] if model.has_attention else [({"beam": 3, "coverage_penalty": 0.2}, "needs attention models")]):
        with pytest.raises(ConfigError, match=expected):
            exported.translate_nbest(["Go."], **search)


def test_batches_searched_at_once_give_what_one_batch_at_a_time_gives(model, sentences, tmp_path):
    exported = ExportedTranslator(export_model(model, tmp_path / "onnx", "onnx"))
    heard = []
    exported.graphs.workers = 3  # 30 sentences in batches of 7: five batches over three threads
    together = exported.translate_nbest(sentences, beam=3, nbest=2, batch_size=7, progress=heard.append)
    exported.graphs.workers = 1
    alone = exported.translate_nbest(sentences, beam=3, nbest=2, batch_size=7)
    assert together == alone
    assert [[h.text for h in found] for found in together] == [
        [h.text for h in found] for found in model.translate_nbest(sentences, beam=3, nbest=2)
    ]
    assert sorted(heard) == [2, 7, 7, 7, 7] and sum(heard) == len(sentences)
