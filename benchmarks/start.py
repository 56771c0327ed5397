"""The whole `seq2seq translate` process, start to exit: the `.keras` file against its ONNX export.

Uses the default-preset model of `decode_attention.py` (trained 150 s on the first 20,000 pairs
if `build/decode-attention.keras` is missing), exports it with `seq2seq export --format onnx`,
then times `seq2seq translate MODEL < sentences` for the `.keras` file (Keras on the default
backend, TensorFlow) and for the exported directory (onnxruntime, no Keras or TensorFlow
imported), on 2,000 sentences and on three, greedy. The runs of the two alternate (median of
`--runs`), and the translations are compared. Prints a table and writes JSON.

    python benchmarks/start.py [--sentences 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, ROOT, machine, write_result
from decode_attention import add_model_options, sample_sources, trained_model

WAYS = {"keras file (TensorFlow)": "model", "ONNX export (onnxruntime)": "export"}


def run_translate(model: Path, lines: list[str]) -> tuple[float, list[str]]:
    """Wall seconds of `seq2seq translate MODEL < lines`, and what it printed."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "seq2seq.cli", "translate", str(model)]
    started = time.perf_counter()
    completed = subprocess.run(command, input="\n".join(lines) + "\n", capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - started
    if completed.returncode or len(completed.stdout.splitlines()) != len(lines):
        raise RuntimeError(f"seq2seq translate {model} failed: {completed.stderr[-500:]}")
    return seconds, completed.stdout.splitlines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_options(parser)
    parser.add_argument("--out", type=Path, default=RESULTS / "start.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    if importlib.util.find_spec("tf2onnx") is None or importlib.util.find_spec("onnxruntime") is None:
        print('skipped: ONNX export needs the export extra (pip install -e ".[export]")')
        return 0

    paths = {"model": trained_model(args), "export": ROOT / "build" / "start-onnx"}
    shutil.rmtree(paths["export"], ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "seq2seq.cli", "export", str(paths["model"]), str(paths["export"]), "--format", "onnx"],
        check=True,
        capture_output=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    sources = sample_sources(args.data, args.sentences)
    inputs = {
        "2,000 sentences" if len(sources) == 2000 else f"{len(sources)} sentences": sources,
        "3 sentences": sources[:3],
    }
    seconds = {(way, name): [] for way in WAYS for name in inputs}
    printed = {}
    for _ in range(args.runs):
        for name, lines in inputs.items():
            for way, key in WAYS.items():
                elapsed, printed[way, name] = run_translate(paths[key], lines)
                seconds[way, name].append(elapsed)

    rows = []
    for way in WAYS:
        row = {"way": way, **{name: round(statistics.median(seconds[way, name]), 2) for name in inputs}}
        row["identical_to_keras_file"] = sum(
            a == b for a, b in zip(printed[way, next(iter(inputs))], printed[next(iter(WAYS)), next(iter(inputs))])
        )
        rows.append(row)
    print(f"\n{'seq2seq translate, greedy':28s} " + " ".join(f"{name:>16s}" for name in inputs) + f" {'same':>6s}")
    for row in rows:
        print(
            f"{row['way']:28s} "
            + " ".join(f"{row[name]:>14.2f} s" for name in inputs)
            + f" {row['identical_to_keras_file']:>6d}"
        )

    result = {
        "benchmark": "start",
        "model": f"attention preset, trained {args.train_seconds:g} s on the first {args.pairs} pairs",
        "sentences": len(sources),
        "runs": args.runs,
        "machine": machine(),
        "rows": rows,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
