"""The same model on each Keras backend: training seconds per epoch and greedy sentences per second.

Each backend runs in processes of its own (`KERAS_BACKEND` is read at import), one after the
other in one run: the classic model (LSTM 256, character level, one-hot inputs, batch 64)
trained on the first `--pairs` pairs of the Tatoeba file for `--epochs` epochs with the
thread settings of `seq2seq train` (seconds per epoch: the median after the first, which
includes compilation), then, in a fresh process with default threads as `seq2seq translate`
has, greedy translation of `--sentences` of its sources (median of 3 runs after a warm-up).

    python benchmarks/backends.py [--pairs 5000] [--epochs 3] [--sentences 1000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, TATOEBA, machine, write_result

BACKENDS = ("tensorflow", "jax", "torch")


def measure_training(args) -> dict:
    """Child: train on this process's backend with `seq2seq train`'s thread settings; save the model."""
    import keras

    from seq2seq.training.process_setup import configure_training_threads

    configure_training_threads()  # (TensorFlow only; before anything runs on it)

    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig

    pairs = seq2seq.read_tatoeba(args.data, limit=args.pairs).pairs
    epoch_seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.started)

    train_config = TrainConfig(epochs=args.epochs, batch_size=64, validation_split=0.0, verbose=0)
    model = seq2seq.train(pairs, ModelConfig.from_preset("classic"), train_config, callbacks=[EpochTimer()])
    model.save(args.model)
    return {
        "backend": keras.backend.backend(),
        "epoch_seconds": [round(s, 2) for s in epoch_seconds],
        "seconds_per_epoch": round(statistics.median(epoch_seconds[1:] or epoch_seconds), 2),
        "final_training_loss": model.training_summary.get("final_training_loss"),
    }


def measure_translation(args) -> dict:
    """Child: greedy translation with the saved model, with the backend's default threads (as `seq2seq translate`)."""
    import seq2seq

    pairs = seq2seq.read_tatoeba(args.data, limit=args.pairs).pairs
    model = seq2seq.load(args.model)
    sources = sorted({source for source, _ in pairs})[: args.sentences]
    started = time.perf_counter()
    model.translate(sources)  # compiles
    first_call = time.perf_counter() - started
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        model.translate(sources)
        timings.append(time.perf_counter() - started)
    return {
        "greedy_sentences_per_second": round(len(sources) / statistics.median(timings)),
        "greedy_first_call_seconds": round(first_call, 1),
    }


def run_backend(args, backend: str) -> dict:
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        for part in ("train", "translate"):
            command = [
                sys.executable,
                __file__,
                "--child",
                part,
                "--data",
                str(args.data),
                "--pairs",
                str(args.pairs),
                "--epochs",
                str(args.epochs),
                "--sentences",
                str(args.sentences),
                "--model",
                f"{folder}/model.keras",
            ]
            completed = subprocess.run(command, capture_output=True, text=True, env=environment)
            if completed.returncode:
                return {"backend": backend, "error": completed.stderr.strip().splitlines()[-1]}
            result.update(json.loads(completed.stdout.strip().splitlines()[-1]))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=5_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=1_000)
    parser.add_argument("--child", choices=("train", "translate"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "backends.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    if args.child:
        print(json.dumps(measure_training(args) if args.child == "train" else measure_translation(args)))
        return 0

    rows = []
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is None:
            rows.append({"backend": backend, "error": "not installed"})
            continue
        print(f"{backend} ...", flush=True)
        rows.append(run_backend(args, backend))
    print(f"\n{'backend':12s} {'s/epoch':>9s} {'first epoch':>12s} {'greedy sent/s':>14s}")
    for row in rows:
        if "error" in row:
            print(f"{row['backend']:12s} failed: {row['error']}")
        else:
            print(
                f"{row['backend']:12s} {row['seconds_per_epoch']:>9} {row['epoch_seconds'][0]:>12} "
                f"{row['greedy_sentences_per_second']:>14}"
            )
    measured = [row for row in rows if "error" not in row]
    result = {
        "machine": machine(),
        "pairs": args.pairs,
        "epochs": args.epochs,
        "sentences": args.sentences,
        "backends": rows,
        "fastest_training": min(measured, key=lambda r: r["seconds_per_epoch"])["backend"] if measured else None,
        "fastest_greedy": max(measured, key=lambda r: r["greedy_sentences_per_second"])["backend"]
        if measured
        else None,
    }
    print(f"fastest training: {result['fastest_training']}; fastest greedy: {result['fastest_greedy']}")
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
