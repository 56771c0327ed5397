"""Decoding speed: the classic `decode_sequence` loop against our compiled batched searches.

Trains (or reuses) a `classic` model on the first 10,000 pairs of the Tatoeba file, then decodes
the same sentences with (a) the classic loop calling `predict` once per token, one sentence at a
time (timed on a sample: it is slow), (b) greedy search as `model.translate` runs it (batched,
compiled, ended sentences dropped between runs of a few steps where that pays) and (c) the same
with beam search. Beside (b) and (c), in the same process and alternating with them run by run,
the baseline: the same search as one uninterrupted loop per batch (`Translator(model,
compact=False)`, the search of commit b714247). A default more than 10 % slower than its
baseline on a quiet machine, or taking 7 % more CPU time under any load, is flagged: that is how
a 25 % drop of the classic model's greedy speed went unseen once. Reports wall time (median of
`--runs`), CPU time (user + system, less sensitive to other processes' load) and the machine's
load. Prints a table and writes JSON.

    python benchmarks/decode.py [--sentences 4000] [--classic-sample 40] [--epochs 8] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from common import ROOT, TATOEBA, machine, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


SLOWER = 0.9  # a default below this share of its baseline's speed is flagged (where the machine is quiet)
CPU_SLOWER = 1.07  # a default taking this many times its baseline's CPU time is flagged (under any load)


def timed(function, *args) -> tuple[float, float, object]:
    """Wall seconds and CPU seconds (user + system, all threads) of `function(*args)`, and its result."""
    started, cpu = time.perf_counter(), time.process_time()
    found = function(*args)
    return time.perf_counter() - started, time.process_time() - cpu, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--sentences", type=int, default=4_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--classic-sample", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--model", type=Path, default=ROOT / "benchmarks" / "results" / "decode-classic.keras")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "decode.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0

    import keras

    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.models.classic import decode_sequence
    from seq2seq.search.config import SearchConfig
    from seq2seq.search.hypothesis import default_max_length
    from seq2seq.translation.translator import Translator

    load_before = os.getloadavg()[0]

    pairs = seq2seq.read_tatoeba(args.data, limit=args.pairs).pairs
    if args.model.is_file():
        model = seq2seq.load(args.model)
    else:
        model = seq2seq.train(pairs, ModelConfig.from_preset("classic"), TrainConfig(epochs=args.epochs, verbose=2))
        model.save(args.model)
    sources = sorted({source for source, _ in pairs})
    sources = random.Random(0).sample(sources, min(args.sentences, len(sources)))
    sample = sources[: args.classic_sample]

    started = time.perf_counter()
    classic = [decode_sequence(model, s, default_max_length(len(model.source_vocab.encode(s)))) for s in sample]
    classic_rate = len(sample) / (time.perf_counter() - started)

    searches = {"greedy": SearchConfig(batch_size=args.batch_size), f"beam {args.beam}": None}
    searches[f"beam {args.beam}"] = SearchConfig(batch_size=args.batch_size, beam=args.beam)
    ways = {"default": Translator(model), "one loop (baseline)": Translator(model, compact=False)}
    measured, outputs = {}, {}
    for search_name, config in searches.items():
        for translator in ways.values():
            translator.search(sources, config)  # compile once
        timings = {way: [] for way in ways}
        for _ in range(args.runs):  # alternate, so both ways meet the same load
            for way, translator in ways.items():
                seconds, cpu, found = timed(translator.search, sources, config)
                timings[way].append((seconds, cpu))
                outputs[search_name, way] = [hypotheses[0].text if hypotheses else "" for hypotheses in found]
        for way in ways:
            wall = statistics.median(seconds for seconds, _ in timings[way])
            measured[search_name, way] = {
                "sentences": len(sources),
                "batch_size": args.batch_size,
                "sentences_per_second": round(len(sources) / wall, 1),
                "cpu_seconds": round(statistics.median(cpu for _, cpu in timings[way]), 3),
                "seconds_runs": [round(seconds, 3) for seconds, _ in timings[way]],
            }
    greedy_rate = measured["greedy", "default"]["sentences_per_second"]
    beam_rate = measured[f"beam {args.beam}", "default"]["sentences_per_second"]
    identical = sum(a == b for a, b in zip(classic, outputs["greedy", "default"][: len(sample)]))

    print(f"\n{'method':<52} {'sentences':>9} {'sent/s':>10} {'CPU s':>8} {'x classic':>10} {'x baseline':>10}")
    print(f"{'classic decode_sequence (predict per token)':<52} {len(sample):>9} {classic_rate:>10.1f}")
    slower = []
    for (search_name, way), row in measured.items():
        rate, baseline = row["sentences_per_second"], measured[search_name, "one loop (baseline)"]
        ratio = rate / baseline["sentences_per_second"]
        row["speed_vs_baseline"] = round(ratio, 3)
        row["identical_to_baseline"] = sum(
            a == b for a, b in zip(outputs[search_name, way], outputs[search_name, "one loop (baseline)"])
        )
        name = f"seq2seq {search_name}, batch {args.batch_size}, {way}"
        columns = f"{len(sources):>9} {rate:>10.1f} {row['cpu_seconds']:>8.2f} {rate / classic_rate:>10.0f}"
        print(f"{name:<52} {columns} {ratio:>10.2f}")
        cpu_ratio = row["cpu_seconds"] / baseline["cpu_seconds"]
        quiet = max(load_before, os.getloadavg()[0]) < (os.cpu_count() or 1)  # else wall times follow others' load
        if way == "default" and (cpu_ratio > CPU_SLOWER or (quiet and ratio < SLOWER)):
            slower.append(f"{search_name}: {ratio:.2f}x the baseline's speed, {cpu_ratio:.2f}x its CPU time")
    print(f"greedy outputs identical to the classic loop: {identical}/{len(sample)}")
    load = {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)}
    print(f"load average (1 min): {load['start']} at the start, {load['end']} at the end (2 cores)")
    for line in slower:
        print(f"WARNING: the default search is slower than one uninterrupted loop ({line})")
    result = {
        "benchmark": "decode",
        "model": "classic (LSTM 256, char, one-hot), first %d pairs, %s epochs"
        % (args.pairs, model.training_summary.get("epochs")),
        "machine": machine(),
        "load_average_1min": load,
        "keras": keras.version(),
        "backend": keras.backend.backend(),
        "classic_loop": {
            "sentences": len(sample),
            "sentences_per_second": round(classic_rate, 3),
            "timed_on_a_sample": True,
        },
        "greedy": measured["greedy", "default"],
        "greedy_one_loop": measured["greedy", "one loop (baseline)"],
        "beam": {"beam": args.beam, **measured[f"beam {args.beam}", "default"]},
        "beam_one_loop": {"beam": args.beam, **measured[f"beam {args.beam}", "one loop (baseline)"]},
        "greedy_speedup": round(greedy_rate / classic_rate, 1),
        "beam_speedup": round(beam_rate / classic_rate, 1),
        "greedy_identical_to_classic": {"identical": identical, "compared": len(sample)},
        "slower_than_baseline": slower,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
