"""Training speed and memory: the classic recipe against our pipeline, side by side.

The classic model (LSTM 256, character level, batch 64) on the first 10,000 pairs of the
Tatoeba file, trained for the same number of epochs

  (a) the classic way: one-hot arrays padded to the longest sentence (padding is a one-hot
      space, as in the recipe), `categorical_crossentropy`, `rmsprop`, TensorFlow's default
      threads;
  (b) with our pipeline: integer ids in length buckets (each batch padded to its own longest
      sentence), the same one-hot LSTM model (run by the fused LSTM kernel), cross-entropy
      over real tokens, Adam, and the thread settings `seq2seq train` uses.

Both train on the first 80 % of the pairs and are scored on the last 20 % (the recipe's
`validation_split=0.2`). Each way runs in a process of its own (thread settings are per
process) and the parent alternates their epochs, so machine noise hits both alike. Reported:
seconds per epoch (median after the first) and CPU seconds, real tokens per second,
validation loss per real (non-padding) token after each epoch, and the ratio. Peak memory is
measured in separate processes, one per way; a last part trains ours on the whole file.

    python benchmarks/train.py [--epochs 5] [--pairs 10000] [--full-epochs 1] [--skip-full]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, TATOEBA, machine, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

UNITS, BATCH = 256, 64
VALIDATION_FRACTION = 0.2


# ---------------------------------------------------------------------------------------------
# (a) the classic recipe


class ClassicRecipe:
    """The `lstm_seq2seq` example as it is written: dense one-hot arrays padded with spaces."""

    def __init__(self, train_pairs, validation_pairs):
        import keras
        import numpy as np

        sources = [s for s, _ in train_pairs + validation_pairs]
        targets = ["\t" + t + "\n" for _, t in train_pairs + validation_pairs]
        self.source_index = {c: i for i, c in enumerate(sorted({c for s in sources for c in s} | {" "}))}
        self.target_index = {c: i for i, c in enumerate(sorted({c for t in targets for c in t} | {" "}))}
        self.max_source = max(len(s) for s in sources)
        self.max_target = max(len(t) for t in targets)
        self.train = self.arrays(train_pairs)
        self.validation = self.arrays(validation_pairs)
        self.validation_lengths = np.array([len(t) + 1 for _, t in validation_pairs])  # characters + "\n"

        encoder_inputs = keras.Input((None, len(self.source_index)))
        _, state_h, state_c = keras.layers.LSTM(UNITS, return_state=True)(encoder_inputs)
        decoder_inputs = keras.Input((None, len(self.target_index)))
        decoder_outputs, _, _ = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True)(
            decoder_inputs, initial_state=[state_h, state_c]
        )
        outputs = keras.layers.Dense(len(self.target_index), activation="softmax")(decoder_outputs)
        self.model = keras.Model([encoder_inputs, decoder_inputs], outputs)
        self.model.compile(optimizer="rmsprop", loss="categorical_crossentropy")

    def arrays(self, pairs):
        import numpy as np

        count = len(pairs)
        encoder = np.zeros((count, self.max_source, len(self.source_index)), "float32")
        decoder = np.zeros((count, self.max_target, len(self.target_index)), "float32")
        target = np.zeros((count, self.max_target, len(self.target_index)), "float32")
        space_in, space_out = self.source_index[" "], self.target_index[" "]
        for row, (source, target_text) in enumerate(pairs):
            text = "\t" + target_text + "\n"
            for t, char in enumerate(source):
                encoder[row, t, self.source_index[char]] = 1.0
            encoder[row, len(source) :, space_in] = 1.0
            for t, char in enumerate(text):
                decoder[row, t, self.target_index[char]] = 1.0
                if t > 0:
                    target[row, t - 1, self.target_index[char]] = 1.0
            decoder[row, len(text) :, space_out] = 1.0
            target[row, len(text) - 1 :, space_out] = 1.0
        return [encoder, decoder], target

    def train_epoch(self) -> None:
        inputs, targets = self.train
        self.model.fit(inputs, targets, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)

    def validation_loss_per_real_token(self) -> float:
        import numpy as np

        inputs, targets = self.validation
        probabilities = self.model.predict(inputs, batch_size=256, verbose=0)
        picked = np.sum(probabilities * targets, axis=-1)
        real = np.arange(self.max_target)[None, :] < self.validation_lengths[:, None]
        return float(-np.log(np.maximum(picked[real], 1e-12)).mean())

    def array_bytes(self) -> int:
        return sum(a.nbytes for a in self.train[0]) + self.train[1].nbytes

    def facts(self) -> dict:
        positions = len(self.train[1]) * (self.max_source + self.max_target)
        return {
            "padded_positions_per_epoch": positions,
            "one_hot_array_mb": round(self.array_bytes() / 2**20, 1),
            "target_vocabulary": len(self.target_index),
        }


# ---------------------------------------------------------------------------------------------
# (b) ours


class OurPipeline:
    """The same one-hot LSTM model through `seq2seq`'s training pipeline."""

    def __init__(self, train_pairs, validation_pairs, seed=0):
        import keras

        from seq2seq.config import ModelConfig, TrainConfig
        from seq2seq.data.batching import teacher_forcing_arrays
        from seq2seq.models.seq2seq import Seq2Seq
        from seq2seq.training.fit import build_vocabularies, compile_for_training, training_batches

        model_config = ModelConfig.from_preset("classic")
        train_config = TrainConfig(batch_size=BATCH, seed=seed)
        keras.utils.set_random_seed(seed)
        source_vocab, target_vocab = build_vocabularies(train_pairs, model_config, train_config)
        self.model = Seq2Seq(model_config, source_vocab, target_vocab)
        compile_for_training(self.model, train_config)
        self.train_pairs, self.seed = train_pairs, seed
        self.batches = training_batches(self.model, train_pairs, BATCH, seed=seed)
        self.validation = (
            teacher_forcing_arrays(validation_pairs, source_vocab, target_vocab) if validation_pairs else None
        )

    def train_epoch(self) -> None:
        self.model.fit(self.batches, epochs=1, shuffle=False, verbose=0)

    def validation_loss_per_real_token(self) -> float:
        import numpy as np

        inputs, targets = self.validation
        logits = self.model.predict(inputs, batch_size=256, verbose=0).astype("float64")
        logits -= logits.max(axis=-1, keepdims=True)
        log_probabilities = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)[..., 0]
        return float(-picked[targets != 0].mean())

    def computed_tokens(self) -> int:
        """Source and decoder positions computed in one epoch, padding included.

        Counted on a twin of the training batches (each pass over a dataset is its next epoch).
        """
        from seq2seq.training.fit import training_batches

        twin = training_batches(self.model, self.train_pairs, BATCH, seed=self.seed)
        return sum(int(x["encoder_tokens"].shape[0] * (x["encoder_tokens"].shape[1] + y.shape[1])) for x, y in twin)

    def facts(self) -> dict:
        import tensorflow as tf

        threads = [
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        ]
        return {
            "computed_positions_per_epoch": self.computed_tokens(),
            "target_vocabulary": len(self.model.target_vocab),
            "intra_inter_op_threads": threads,
        }


# ---------------------------------------------------------------------------------------------
# parts


def split(pairs):
    cut = int(len(pairs) * (1 - VALIDATION_FRACTION))
    return pairs[:cut], pairs[cut:]


def real_tokens(pairs) -> int:
    """Source characters plus predicted target positions (characters and the end)."""
    return sum(len(s) + len(t) + 1 for s, t in pairs)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def training_flop(pairs, target_vocabulary: int) -> float:
    """Arithmetic of one training epoch over real tokens only (input products as lookups).

    Per source token the recurrent product (2·U·4U); per target position that and the output
    layer (2·U·V); a training step costs about three forward passes.
    """
    recurrent = 2 * UNITS * 4 * UNITS
    source = sum(len(s) for s, _ in pairs)
    target = sum(len(t) + 1 for _, t in pairs)
    return 3.0 * (source * recurrent + target * (recurrent + 2 * UNITS * target_vocabulary))


def part_speed(args) -> dict:
    """Both ways in processes of their own, their epochs alternating; one result per way."""
    ways = {name: EpochServer(args, name) for name in ("classic", "ours")}
    epochs = {name: [] for name in ways}
    for epoch in range(args.epochs):
        for name, way in ways.items():
            epochs[name].append(way.train_epoch())
            report = epochs[name][-1]
            print(
                f"  epoch {epoch + 1} {name:8s} {report['seconds']:6.2f} s (CPU {report['cpu_seconds']:6.2f} s)"
                f"  val loss/real token {report['validation_loss']:.4f}",
                flush=True,
            )
    facts = {name: way.close() for name, way in ways.items()}
    train_pairs, validation_pairs = split(read_pairs(args.data, args.pairs))
    tokens = real_tokens(train_pairs)
    result = {
        "training_pairs": len(train_pairs),
        "validation_pairs": len(validation_pairs),
        "real_tokens_per_epoch": tokens,
    }
    for name in ways:
        seconds = [e["seconds"] for e in epochs[name]]
        typical = statistics.median(seconds[1:] or seconds)
        result[name] = {
            "seconds_per_epoch": round(typical, 2),
            "epoch_seconds": [round(s, 2) for s in seconds],
            "cpu_seconds_per_epoch": round(statistics.median([e["cpu_seconds"] for e in epochs[name]][1:] or [0]), 2),
            "real_tokens_per_second": round(tokens / typical),
            "validation_loss_per_real_token": [round(e["validation_loss"], 4) for e in epochs[name]],
            **facts[name],
        }
    flop = training_flop(train_pairs, result["ours"].pop("target_vocabulary"))
    result["classic"].pop("target_vocabulary")
    result["real_token_tflop_per_epoch"] = round(flop / 1e12, 3)
    result["ours"]["gflop_per_second"] = round(flop / result["ours"]["seconds_per_epoch"] / 1e9, 1)
    result["bound_seconds_at_110_200_gflops"] = [round(flop / 110e9, 2), round(flop / 200e9, 2)]
    result["speedup"] = round(result["classic"]["seconds_per_epoch"] / result["ours"]["seconds_per_epoch"], 2)
    result["cpu_saving"] = round(
        result["classic"]["cpu_seconds_per_epoch"] / result["ours"]["cpu_seconds_per_epoch"], 2
    )
    return result


class EpochServer:
    """A child process that holds one way's trainer and trains one epoch per request."""

    def __init__(self, args, way: str):
        command = [
            sys.executable,
            __file__,
            "--part",
            f"{way}-epochs",
            "--data",
            str(args.data),
            "--pairs",
            str(args.pairs),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.facts = self._reply()

    def train_epoch(self) -> dict:
        self.process.stdin.write("epoch\n")
        self.process.stdin.flush()
        return self._reply()

    def close(self) -> dict:
        self.process.stdin.close()
        if self.process.wait():
            raise SystemExit(f"an epoch server failed with exit status {self.process.returncode}")
        return self.facts

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line.startswith("{"):
            raise SystemExit(f"an epoch server stopped: {line!r}")
        return json.loads(line)


def serve_epochs(args, way: str) -> int:
    """Child: build one way's trainer, then train an epoch per line read; answer in JSON lines."""
    if way == "ours":
        from seq2seq.training.process_setup import configure_training_threads

        configure_training_threads()
    train_pairs, validation_pairs = split(read_pairs(args.data, args.pairs))
    trainer = (ClassicRecipe if way == "classic" else OurPipeline)(train_pairs, validation_pairs)
    print(json.dumps(trainer.facts()), flush=True)
    for _ in sys.stdin:
        started, cpu_started = time.perf_counter(), time.process_time()
        trainer.train_epoch()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        report = {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "validation_loss": trainer.validation_loss_per_real_token(),
        }
        print(json.dumps(report), flush=True)
    return 0


def read_pairs(path, limit):
    from seq2seq.data.corpus import read_tatoeba

    return read_tatoeba(path, limit=limit).pairs


def part_memory(pairs, way: str, epochs: int) -> dict:
    if way == "ours":
        from seq2seq.training.process_setup import configure_training_threads

        configure_training_threads()
    train_pairs, validation_pairs = split(pairs)
    started = time.perf_counter()
    trainer = (ClassicRecipe if way == "classic" else OurPipeline)(train_pairs, validation_pairs)
    for _ in range(epochs):
        trainer.train_epoch()
    return {
        "pairs": len(pairs),
        "epochs": epochs,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak_memory_mb()),
    }


def classic_full_file_mb(pairs) -> float:
    """What the classic recipe's three one-hot arrays would take for `pairs` (not allocated)."""
    sources, targets = [s for s, _ in pairs], ["\t" + t + "\n" for _, t in pairs]
    source_chars, target_chars = {c for s in sources for c in s} | {" "}, {c for t in targets for c in t} | {" "}
    cells = len(pairs) * (max(map(len, sources)) * len(source_chars) + 2 * max(map(len, targets)) * len(target_chars))
    return round(cells * 4 / 2**20)


# ---------------------------------------------------------------------------------------------


def run_part(args, part: str, **options) -> dict:
    """Run one part in a fresh process (its own peak memory) and return its JSON result."""
    command = [sys.executable, __file__, "--part", part, "--data", str(args.data)]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            lines.append(line)
            if not line.startswith("{"):
                print(line, end="", flush=True)
    if process.returncode:
        raise SystemExit(f"part {part} failed with exit status {process.returncode}")
    return json.loads(lines[-1])


def child(args) -> int:
    if args.part.endswith("-epochs"):
        return serve_epochs(args, args.part.removesuffix("-epochs"))
    result = part_memory(read_pairs(args.data, args.pairs), args.part.removesuffix("-memory"), args.epochs)
    print(json.dumps(result))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--full-epochs", type=int, default=1)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument(
        "--part", choices=("classic-epochs", "ours-epochs", "classic-memory", "ours-memory"), help=argparse.SUPPRESS
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "train.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    if args.part:
        return child(args)

    print(f"speed: {args.epochs} epochs each, alternating")
    speed = part_speed(args)
    memory = {way: run_part(args, f"{way}-memory", pairs=args.pairs, epochs=1) for way in ("classic", "ours")}
    result = {
        "machine": machine(),
        "pairs": args.pairs,
        "epochs": args.epochs,
        "speed": speed,
        "memory_10k": memory,
    }
    if not args.skip_full:
        from seq2seq.data.corpus import read_tatoeba

        all_pairs = read_tatoeba(args.data).pairs
        result["full_file"] = run_part(args, "ours-memory", pairs=len(all_pairs), epochs=args.full_epochs)
        result["full_file"]["classic_one_hot_arrays_would_need_mb"] = classic_full_file_mb(split(all_pairs)[0])

    classic, ours = speed["classic"], speed["ours"]
    rows = [
        ("seconds per epoch", classic["seconds_per_epoch"], ours["seconds_per_epoch"]),
        ("CPU seconds per epoch", classic["cpu_seconds_per_epoch"], ours["cpu_seconds_per_epoch"]),
        ("real tokens per second", classic["real_tokens_per_second"], ours["real_tokens_per_second"]),
        (
            "val loss / real token, last epoch",
            classic["validation_loss_per_real_token"][-1],
            ours["validation_loss_per_real_token"][-1],
        ),
        ("positions computed per epoch", classic["padded_positions_per_epoch"], ours["computed_positions_per_epoch"]),
        (f"peak memory, {args.pairs:,} pairs (MB)", memory["classic"]["peak_rss_mb"], memory["ours"]["peak_rss_mb"]),
    ]
    print(f"\n{'':36s} {'classic':>12s} {'ours':>12s}")
    for label, a, b in rows:
        print(f"{label:36s} {a:>12} {b:>12}")
    print(f"speed-up per epoch: {speed['speedup']}x")
    low, high = speed["bound_seconds_at_110_200_gflops"]
    print(
        f"real-token arithmetic: {speed['real_token_tflop_per_epoch']} TFLOP/epoch, {low}-{high} s at 110-200 "
        f"GFLOP/s; ours runs at {ours['gflop_per_second']} GFLOP/s"
    )
    if "full_file" in result:
        full = result["full_file"]
        print(
            f"whole file ({full['pairs']} pairs, {full['epochs']} epoch): peak memory {full['peak_rss_mb']} MB in "
            f"{full['seconds']} s; "
            f"the classic one-hot arrays alone would take {full['classic_one_hot_arrays_would_need_mb']} MB"
        )
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
