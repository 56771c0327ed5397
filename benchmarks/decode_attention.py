"""Decoding speed of the default `attention` preset on every backend, and the whole `seq2seq translate` process.

Trains (or reuses) a default-preset model for `--train-seconds` on the first `--pairs` pairs of
the Tatoeba file (quality does not matter for speed), then, in one process per backend,
translates `--sentences` English sentences of the corpus (a seeded sample, Tatoeba's short
kind) greedy and with beam 5, at batch 64 and the default batch: sentences per second after a
warm-up that compiles every shape (median of `--runs`). Each is measured side by side with
the baseline of one uninterrupted search loop per batch (`Translator(model, compact=False)`),
and the outputs are compared across backends and with the baseline. Last, the whole
`seq2seq translate MODEL < sentences` process is timed on each backend, greedy and beam 5,
and on three sentences (the start). The default batch is also measured in bfloat16 maths
(`--precision bfloat16`), with its outputs compared to float32's. Prints a table and writes JSON.

    python benchmarks/decode_attention.py [--sentences 2000] [--runs 3] [--backends tensorflow,jax,torch]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine, write_result

BACKENDS = ("tensorflow", "jax", "torch")
SETTINGS = [(64, 1), (64, 5), (256, 1), (256, 5)]  # (batch size, beam); 256 is the default batch
BFLOAT16_SETTINGS = [(256, 1), (256, 5)]


def sample_sources(data: Path, count: int) -> list[str]:
    """`count` distinct English sentences of the corpus, a seeded sample."""
    import seq2seq

    sources = sorted({source for source, _ in seq2seq.read_tatoeba(data).pairs})
    return random.Random(0).sample(sources, count)


def trained_model(args) -> Path:
    """The default-preset model, trained briefly once and kept under build/."""
    if args.model.is_file():
        return args.model
    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig

    pairs = seq2seq.read_tatoeba(args.data, limit=args.pairs).pairs
    config = TrainConfig(max_time=args.train_seconds, epochs=1000, verbose=2)
    model = seq2seq.train(pairs, ModelConfig.from_preset("attention"), config)
    args.model.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.model)
    return args.model


def timed_search(translator, sources, config, runs: int) -> tuple[list[str], int, float]:
    """The best translations, sentences per second (median of `runs` after a warm-up that compiles every shape),
    warm-up seconds."""
    started = time.perf_counter()
    found = translator.search(sources, config)
    first = time.perf_counter() - started
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        translator.search(sources, config)
        seconds.append(time.perf_counter() - started)
    texts = [hypotheses[0].text if hypotheses else "" for hypotheses in found]
    return texts, round(len(sources) / statistics.median(seconds)), round(first, 2)


def measure_backend(args) -> dict:
    """Child: sentences per second of each setting, compacting and as one loop; the outputs."""
    import warnings

    import keras

    import seq2seq
    from seq2seq.search.config import SearchConfig
    from seq2seq.translation.translator import Translator

    warnings.simplefilter("ignore")
    sources = json.loads(Path(args.sources).read_text())
    started = time.perf_counter()
    model = seq2seq.load(args.model)
    load_seconds = time.perf_counter() - started
    translators = {"compacting": Translator(model), "one loop": Translator(model, compact=False)}
    rows, outputs = [], {}
    for batch_size, beam in SETTINGS:
        config = SearchConfig(beam=beam, batch_size=batch_size)
        row = {"batch_size": batch_size, "beam": beam}
        for name, translator in translators.items():
            texts, speed, first = timed_search(translator, sources, config, args.runs)
            outputs.setdefault(f"{batch_size}-{beam}", {})[name] = texts
            row[name] = {"sentences_per_second": speed, "first_call_seconds": first}
        same = outputs[f"{batch_size}-{beam}"]
        row["identical_to_one_loop"] = sum(a == b for a, b in zip(same["compacting"], same["one loop"]))
        rows.append(row)
    Path(args.outputs).write_text(json.dumps({key: value["compacting"] for key, value in outputs.items()}))
    return {
        "backend": keras.backend.backend(),
        "load_seconds": round(load_seconds, 2),
        "settings": rows,
        "bfloat16": measure_bfloat16(args, sources, outputs),
    }


def measure_bfloat16(args, sources, float32_outputs) -> list[dict]:
    """The default batch in bfloat16 maths (`--precision bfloat16`): speed, and outputs equal to float32's."""
    import seq2seq
    from seq2seq.search.config import SearchConfig
    from seq2seq.translation.translator import Translator

    translator = Translator(seq2seq.load(args.model, precision="bfloat16"))
    rows = []
    for batch_size, beam in BFLOAT16_SETTINGS:
        texts, speed, _ = timed_search(translator, sources, SearchConfig(beam=beam, batch_size=batch_size), args.runs)
        float32_texts = float32_outputs[f"{batch_size}-{beam}"]["compacting"]
        rows.append(
            {
                "batch_size": batch_size,
                "beam": beam,
                "sentences_per_second": speed,
                "identical_to_float32": sum(a == b for a, b in zip(texts, float32_texts)),
            }
        )
    return rows


def time_process(backend: str, model: Path, lines: list[str], beam: int, *options: str) -> float:
    """Wall seconds of `seq2seq translate MODEL --beam B [options] < lines`, from start to exit."""
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "seq2seq.cli", "translate", str(model), "--beam", str(beam), *options]
    started = time.perf_counter()
    completed = subprocess.run(command, input="\n".join(lines) + "\n", capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - started
    if completed.returncode or len(completed.stdout.splitlines()) != len(lines):
        raise RuntimeError(f"seq2seq translate failed on {backend}: {completed.stderr[-500:]}")
    return round(seconds, 2)


def add_model_options(parser) -> None:
    """The corpus, the benchmark model (trained if missing), the sentences and the runs (shared with start.py)."""
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--train-seconds", type=float, default=150)
    parser.add_argument("--sentences", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path, default=ROOT / "build" / "decode-attention.keras")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_options(parser)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--out", type=Path, default=RESULTS / "decode-attention.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--outputs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_backend(args)))
        return 0
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0

    model = trained_model(args)
    sources = sample_sources(args.data, args.sentences)
    work = ROOT / "build" / "decode-attention"
    work.mkdir(parents=True, exist_ok=True)
    (work / "sources.json").write_text(json.dumps(sources))
    backends = [b for b in args.backends.split(",") if importlib.util.find_spec(b) is not None]
    results, outputs = [], {}
    for backend in backends:
        print(f"{backend} ...", flush=True)
        environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [
            sys.executable,
            __file__,
            "--child",
            "--model",
            str(model),
            "--runs",
            str(args.runs),
            "--sources",
            str(work / "sources.json"),
            "--outputs",
            str(work / f"{backend}.json"),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, env=environment)
        if completed.returncode:
            results.append({"backend": backend, "error": completed.stderr.strip().splitlines()[-1]})
            continue
        row = json.loads(completed.stdout.strip().splitlines()[-1])
        row["process_seconds"] = {
            "greedy": time_process(backend, model, sources, 1),
            "beam 5": time_process(backend, model, sources, 5),
            "three sentences": time_process(backend, model, sources[:3], 1),
            "greedy bfloat16": time_process(backend, model, sources, 1, "--precision", "bfloat16"),
            "beam 5 bfloat16": time_process(backend, model, sources, 5, "--precision", "bfloat16"),
        }
        outputs[backend] = json.loads((work / f"{backend}.json").read_text())
        results.append(row)

    reference = outputs.get(backends[0], {}) if backends else {}
    for row in results:
        if "error" not in row:
            row["identical_to_" + backends[0]] = {
                key: sum(a == b for a, b in zip(texts, reference[key]))
                for key, texts in outputs[row["backend"]].items()
            }
    print(f"\n{'backend':11s} {'batch':>5s} {'beam':>4s} {'sent/s':>7s} {'one loop':>9s} {'x':>5s} {'same':>5s}")
    for row in results:
        if "error" in row:
            print(f"{row['backend']:11s} failed: {row['error']}")
            continue
        for setting in row["settings"]:
            fast, slow = setting["compacting"]["sentences_per_second"], setting["one loop"]["sentences_per_second"]
            print(
                f"{row['backend']:11s} {setting['batch_size']:>5d} {setting['beam']:>4d} {fast:>7d} {slow:>9d} "
                f"{fast / slow:>5.2f} {setting['identical_to_one_loop']:>5d}"
            )
    print(f"\n{'bfloat16':11s} {'batch':>5s} {'beam':>4s} {'sent/s':>7s} {'same as float32':>16s}")
    for row in results:
        for setting in row.get("bfloat16", []):
            print(
                f"{row['backend']:11s} {setting['batch_size']:>5d} {setting['beam']:>4d} "
                f"{setting['sentences_per_second']:>7d} {setting['identical_to_float32']:>16d}"
            )
    print(f"\n{'backend':11s} {'load s':>7s} {'translate greedy s':>19s} {'beam 5 s':>9s} {'3 sentences s':>14s}")
    for row in results:
        if "error" not in row:
            seconds = row["process_seconds"]
            print(
                f"{row['backend']:11s} {row['load_seconds']:>7} {seconds['greedy']:>19} {seconds['beam 5']:>9} "
                f"{seconds['three sentences']:>14}"
            )
            print(f"{'':11s} {'bfloat16':>7} {seconds['greedy bfloat16']:>19} {seconds['beam 5 bfloat16']:>9}")

    import keras

    result = {
        "benchmark": "decode-attention",
        "model": f"attention preset, trained {args.train_seconds:g} s on the first {args.pairs} pairs",
        "sentences": len(sources),
        "runs": args.runs,
        "machine": machine(),
        "keras": keras.version(),
        "backends": results,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
