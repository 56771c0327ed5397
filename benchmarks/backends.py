"""The same models on each Keras backend: training step times and greedy sentences per second.

Each backend runs in processes of its own (`KERAS_BACKEND` is read at import), one after the
other in one run:

- the classic model (LSTM 256, character level, one-hot inputs, batch 64) trained on the first
  `--pairs` pairs of the Tatoeba file for `--epochs` epochs with the thread settings of
  `seq2seq train` (seconds per epoch: the median after the first, which includes compilation),
  then, in a fresh process with default threads as `seq2seq translate` has, greedy translation
  of `--sentences` of its sources (median of 3 runs after a warm-up);
- the default `attention` preset (bidirectional LSTM 256, Luong attention with input feeding,
  4,000 subword pieces per side counted on the first 20,000 pairs, batch 64): two epochs over
  `--attention-pairs` pairs drawn (seeded) from those 20,000, the steady-state step time being
  the median of the second epoch's step intervals (the first one compiles every bucket's program).

The load average of the machine is recorded at the start and at the end of each part.

    python benchmarks/backends.py [--pairs 5000] [--epochs 3] [--sentences 1000] [--attention-pairs 3200]
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


def measure_attention_steps(args) -> dict:
    """Child: the attention preset's training step time on this process's backend, as `seq2seq train` runs it."""
    import random

    import keras

    from seq2seq.training.process_setup import configure_training_threads

    configure_training_threads()

    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.data.pipeline import EncodedPairs
    from seq2seq.models.seq2seq import Seq2Seq
    from seq2seq.training.fit import build_vocabularies, compile_for_training, training_batches

    load_before = os.getloadavg()[0]
    corpus = seq2seq.read_tatoeba(args.data, limit=20_000).pairs
    pairs = random.Random(7).sample(corpus, min(args.attention_pairs, len(corpus)))
    model_config = ModelConfig.from_preset("attention")
    train_config = TrainConfig(batch_size=64, seed=0)
    keras.utils.set_random_seed(0)
    source_vocab, target_vocab = build_vocabularies(corpus, model_config, train_config)
    model = Seq2Seq(model_config, source_vocab, target_vocab)
    compile_for_training(model, train_config)
    encoded = EncodedPairs.encode(pairs, source_vocab, target_vocab)
    model.decoder.start_from_token_prior(encoded.target_token_counts(len(target_vocab), target_vocab.end_id))
    batches = training_batches(model, encoded, 64, seed=0)
    ends: list[list[float]] = []

    class StepTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            ends.append([time.perf_counter()])

        def on_train_batch_end(self, batch, logs=None):
            ends[-1].append(time.perf_counter())

    fitted = model.fit(batches, epochs=2, shuffle=False, verbose=0, callbacks=[StepTimer()])
    steps = [later - earlier for earlier, later in zip(ends[-1], ends[-1][1:])]
    tokens = int(encoded.target_lengths.sum()) + len(encoded)  # predicted positions: targets and their ends
    return {
        "backend": keras.backend.backend(),
        "steps_per_epoch": len(steps),
        "first_epoch_seconds": round(ends[0][-1] - ends[0][0], 1),
        "step_ms": round(1000 * statistics.median(steps), 1),
        "step_ms_quartiles": [round(1000 * q, 1) for q in statistics.quantiles(steps, n=4)[::2]],
        "target_tokens_per_second": round(tokens / len(steps) / statistics.median(steps)),
        "training_loss": [round(float(loss), 4) for loss in fitted.history["loss"]],
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
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


PARTS = {"train": measure_training, "translate": measure_translation, "attention": measure_attention_steps}


def run_backend(args, backend: str, parts) -> dict:
    """The figures of `parts`, each measured in a process of its own on `backend`."""
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = {"backend": backend}
    with tempfile.TemporaryDirectory() as folder:
        for part in parts:
            command = [sys.executable, __file__, "--child", part, "--model", f"{folder}/model.keras"]
            for option in ("data", "pairs", "epochs", "sentences", "attention_pairs"):
                command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
            completed = subprocess.run(command, capture_output=True, text=True, env=environment)
            if completed.returncode:
                return {"backend": backend, "error": f"{part}: {completed.stderr.strip().splitlines()[-1]}"}
            figures = json.loads(completed.stdout.strip().splitlines()[-1])
            if part == "attention":
                figures = {"attention": {k: v for k, v in figures.items() if k != "backend"}}
            result.update(figures)
    return result


def print_table(rows) -> None:
    print(f"\n{'backend':12s} {'s/epoch':>9s} {'first epoch':>12s} {'greedy sent/s':>14s} {'attention ms/step':>18s}")
    for row in rows:
        if "error" in row:
            print(f"{row['backend']:12s} failed: {row['error']}")
            continue
        attention = row.get("attention", {})
        print(
            f"{row['backend']:12s} {row.get('seconds_per_epoch', '-'):>9} {row.get('epoch_seconds', ['-'])[0]:>12} "
            f"{row.get('greedy_sentences_per_second', '-'):>14} {attention.get('step_ms', '-'):>18}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=5_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=1_000)
    parser.add_argument("--attention-pairs", type=int, default=3_200)
    parser.add_argument("--parts", default="train,translate,attention", help="which measurements, comma-separated")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="which backends, comma-separated")
    parser.add_argument("--child", choices=tuple(PARTS), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "backends.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    if args.child:
        print(json.dumps(PARTS[args.child](args)))
        return 0

    rows = []
    for backend in args.backends.split(","):
        if importlib.util.find_spec(backend) is None:
            rows.append({"backend": backend, "error": "not installed"})
            continue
        print(f"{backend} ...", flush=True)
        rows.append(run_backend(args, backend, args.parts.split(",")))
    print_table(rows)
    result = summary(args, rows)
    print(f"fastest training: {result['fastest_training']}; fastest greedy: {result['fastest_greedy']}")
    print(f"attention step time against TensorFlow's: {result['attention_step_ratio_to_tensorflow']}")
    write_result(args.out, result)
    return 0


def summary(args, rows) -> dict:
    """The result file: every row, the fastest backends, and each attention step time over TensorFlow's."""
    measured = [row for row in rows if "error" not in row]
    trained = [row for row in measured if "seconds_per_epoch" in row]
    decoded = [row for row in measured if "greedy_sentences_per_second" in row]
    steps = {row["backend"]: row["attention"]["step_ms"] for row in measured if "attention" in row}
    reference = steps.get("tensorflow")
    return {
        "machine": machine(),
        "pairs": args.pairs,
        "epochs": args.epochs,
        "sentences": args.sentences,
        "attention_pairs": args.attention_pairs,
        "backends": rows,
        "fastest_training": min(trained, key=lambda r: r["seconds_per_epoch"])["backend"] if trained else None,
        "fastest_greedy": max(decoded, key=lambda r: r["greedy_sentences_per_second"])["backend"] if decoded else None,
        "attention_step_ratio_to_tensorflow": {
            backend: round(ms / reference, 2) for backend, ms in steps.items() if reference
        },
    }


if __name__ == "__main__":
    sys.exit(main())
