"""The whole `seq2seq translate model.keras` process, start to exit: through Keras, and through its cached export.

Uses the default-preset model of `decode_attention.py` (trained 150 s on the first 20,000 pairs
if `build/decode-attention.keras` is missing), copied to `build/start/model.keras`. Its cached
ONNX export (`.model.keras.export` beside it) is made by a first, timed run, then
`seq2seq translate model.keras < sentences` is timed with `--no-cache` (Keras on the default
backend, TensorFlow) and without (the cached export: onnxruntime, no Keras or TensorFlow
imported), on 2,000 sentences greedy and with `--beam 5`, and on three sentences greedy. The runs
of the two ways alternate (median of `--runs`), and the translations are compared line by line.
Each run's wall time (start to exit) and CPU time (user + system of the child, all its threads)
are kept with the machine's load: on a shared machine the wall time follows the others' load,
the CPU time much less. Prints a table and writes JSON.

    python benchmarks/start.py [--sentences 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, ROOT, machine, write_result
from decode_attention import add_model_options, sample_sources, trained_model

WAYS = {"keras file, Keras (--no-cache)": ["--no-cache"], "keras file, cached ONNX export": []}
SEARCHES = {"greedy": [], "beam 5": ["--beam", "5"]}


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_translate(model: Path, lines: list[str], options: list[str]) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds of `seq2seq translate MODEL OPTIONS < lines`, and what it printed."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "seq2seq.cli", "translate", str(model), *options]
    started, cpu = time.perf_counter(), children_cpu()
    completed = subprocess.run(command, input="\n".join(lines) + "\n", capture_output=True, text=True, env=environment)
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
    if completed.returncode or len(completed.stdout.splitlines()) != len(lines):
        raise RuntimeError(f"seq2seq translate {model} failed: {completed.stderr[-500:]}")
    return seconds, cpu, completed.stdout.splitlines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_options(parser)
    parser.add_argument("--out", type=Path, default=RESULTS / "start.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    if any(importlib.util.find_spec(name) is None for name in ("tf2onnx", "onnx", "onnxruntime")):
        print('skipped: the cached export needs the export extra (pip install -e ".[export]")')
        return 0

    load_before = os.getloadavg()[0]  # other processes' load: on a shared machine it slows both ways
    work = ROOT / "build" / "start"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model = work / "model.keras"
    shutil.copy2(trained_model(args), model)
    sources = sample_sources(args.data, args.sentences)
    first_run, _, _ = run_translate(model, sources[:3], [])  # loads the model with Keras and writes the cache
    many = "2,000 sentences" if len(sources) == 2000 else f"{len(sources)} sentences"
    inputs = {f"{many}, {search}": (sources, options) for search, options in SEARCHES.items()}
    inputs["3 sentences, greedy"] = (sources[:3], [])

    seconds = {(way, name): [] for way in WAYS for name in inputs}
    cpu_seconds = {(way, name): [] for way in WAYS for name in inputs}
    loads, printed = [], {}
    for _ in range(args.runs):
        for name, (lines, options) in inputs.items():
            for way, way_options in WAYS.items():
                elapsed, cpu, printed[way, name] = run_translate(model, lines, options + way_options)
                seconds[way, name].append(elapsed)
                cpu_seconds[way, name].append(cpu)
                loads.append(os.getloadavg()[0])

    keras_way = next(iter(WAYS))
    rows = []
    for way in WAYS:
        row = {"way": way, **{name: round(statistics.median(seconds[way, name]), 2) for name in inputs}}
        row.update({f"{name}, CPU": round(statistics.median(cpu_seconds[way, name]), 2) for name in inputs})
        for name in inputs:
            if name.startswith(many):
                same = sum(a == b for a, b in zip(printed[way, name], printed[keras_way, name]))
                row[f"identical to Keras, {name.split(', ')[1]}"] = same
        rows.append(row)
    print(f"\n{'seq2seq translate model.keras':34s} " + " ".join(f"{name:>26s}" for name in inputs))
    for row in rows:
        print(f"{row['way']:34s} " + " ".join(f"{row[name]:>24.2f} s" for name in inputs))
        print(f"{'  CPU time (user + system)':34s} " + " ".join(f"{row[name + ', CPU']:>24.2f} s" for name in inputs))
    print(f"load average (1 min) during the runs: {min(loads):.2f} to {max(loads):.2f} on {os.cpu_count()} CPUs")
    print(f"first run, which writes the cache: {first_run:.2f} s; identical lines: {rows[-1]}")

    result = {
        "benchmark": "start",
        "model": f"attention preset, trained {args.train_seconds:g} s on the first {args.pairs} pairs",
        "sentences": len(sources),
        "runs": args.runs,
        "machine": machine(),
        "load_average_1min": {
            "start": round(load_before, 2),
            "end": round(os.getloadavg()[0], 2),
            "during_runs": {
                "min": round(min(loads), 2),
                "median": round(statistics.median(loads), 2),
                "max": round(max(loads), 2),
            },
        },
        "first_run_seconds": round(first_run, 2),
        "rows": rows,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
