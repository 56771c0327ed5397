"""Data-parallel scaling on this machine: seconds per training step on one device and on two.

For each engine a fresh process splits the CPU into two devices (TensorFlow's
`SEQ2SEQ_LOGICAL_CPUS=2`, JAX's `--xla_force_host_platform_device_count=2`) and trains the same
model on the same global batches twice in one run: on one device, then on both (`--distribute
mirrored`'s placement). Step time is the median over the epochs after the first (which
compiles), divided by the steps per epoch. Two logical devices share the machine's cores, so
on a CPU this measures the overhead of splitting and summing, not a speed-up; on GPUs each
replica has a device of its own.

    python benchmarks/distributed.py [--pairs 3000] [--epochs 4] [--batch-size 64] [--units 64]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import RESULTS, ROOT, TATOEBA, machine, write_result

ENGINES = ("tensorflow", "jax")


def epoch_clock():
    """A callback that keeps each epoch's seconds."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    return EpochClock()


def measure(args) -> dict:
    """Child: step seconds of one device and of two, on the same global batches, in this process."""
    from seq2seq.training.distribution import split_cpu_from_environment

    split_cpu_from_environment()
    import keras

    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.data.corpus import read_tatoeba
    from seq2seq.models.seq2seq import Seq2Seq
    from seq2seq.training.distribution import Placement, placement_for
    from seq2seq.training.fit import build_vocabularies, compile_for_training, training_batches
    from seq2seq.training.workers import build_before_fit

    pairs = read_tatoeba(TATOEBA, limit=args.pairs).pairs
    model_config = ModelConfig(units=args.units, embedding_dim=args.units, tokenizer="word")
    train_config = TrainConfig(lr_schedule="constant")
    vocabularies = build_vocabularies(pairs, model_config, train_config)
    two = placement_for("mirrored")
    result = {"devices": two.replicas}
    for name, placement in (("one_device", Placement()), ("two_devices", two)):
        keras.utils.set_random_seed(0)
        with placement.scope():
            model = Seq2Seq(model_config, *vocabularies)
            compile_for_training(model, train_config)
        batches = training_batches(model, pairs, args.batch_size, seed=0, placement=two)
        build_before_fit(model, placement)
        clock = epoch_clock()
        with placement.scope():
            history = model.fit(batches, epochs=args.epochs, verbose=0, shuffle=False, callbacks=[clock])
        result[name] = {
            "step_ms": round(1000 * statistics.median(clock.seconds[1:]) / len(batches), 1),
            "final_loss": round(history.history["loss"][-1], 4),
        }
    result["two_over_one"] = round(result["two_devices"]["step_ms"] / result["one_device"]["step_ms"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args)))
        return
    engines = {}
    for engine in ENGINES:
        env = {
            **os.environ,
            "KERAS_BACKEND": engine,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SEQ2SEQ_LOGICAL_CPUS": "2",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        }
        options = ["--pairs", str(args.pairs), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
        command = [sys.executable, __file__, "--child", engine, *options, "--units", str(args.units)]
        run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        engines[engine] = json.loads(run.stdout.strip().splitlines()[-1])
        print(engine, engines[engine], flush=True)
    settings = {"pairs": args.pairs, "epochs": args.epochs, "batch_size": args.batch_size, "units": args.units}
    write_result(RESULTS / "distributed.json", {"settings": settings, "engines": engines, "machine": machine()})


if __name__ == "__main__":
    main()
