"""Decoding speed: the classic `decode_sequence` loop against our compiled batched searches.

Trains (or reuses) a `classic` model on the first 10,000 pairs of the Tatoeba file, then
decodes the same sentences with (a) the classic loop calling `predict` once per token, one
sentence at a time (timed on a sample: it is slow), (b) `model.translate` (batched, compiled
greedy) and (c) the same with beam search. Prints a table and writes JSON.

    python benchmarks/decode.py [--sentences 1000] [--classic-sample 40] [--epochs 8]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--sentences", type=int, default=1_000)
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
    from seq2seq.translation.translator import default_max_length

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

    model.translate(sources, batch_size=args.batch_size)  # compile once
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        greedy = model.translate(sources, batch_size=args.batch_size)
        timings.append(time.perf_counter() - started)
    greedy_rate = len(sources) / statistics.median(timings)
    identical = sum(a == b for a, b in zip(classic, greedy[: len(sample)]))

    model.translate(sources, batch_size=args.batch_size, beam=args.beam)  # compile once
    beam_timings = []
    for _ in range(3):
        started = time.perf_counter()
        model.translate(sources, batch_size=args.batch_size, beam=args.beam)
        beam_timings.append(time.perf_counter() - started)
    beam_rate = len(sources) / statistics.median(beam_timings)

    rows = [
        ("classic decode_sequence (predict per token)", len(sample), classic_rate, 1.0),
        (f"seq2seq greedy, batch {args.batch_size}", len(sources), greedy_rate, greedy_rate / classic_rate),
        (f"seq2seq beam {args.beam}, batch {args.batch_size}", len(sources), beam_rate, beam_rate / classic_rate),
    ]
    print(f"\n{'method':<46} {'sentences':>9} {'sent/s':>10} {'x classic':>10}")
    for name, count, rate, ratio in rows:
        print(f"{name:<46} {count:>9} {rate:>10.1f} {ratio:>10.0f}")
    print(f"greedy outputs identical to the classic loop: {identical}/{len(sample)}")
    result = {
        "benchmark": "decode",
        "model": "classic (LSTM 256, char, one-hot), first %d pairs, %s epochs"
        % (args.pairs, model.training_summary.get("epochs")),
        "machine": machine(),
        "keras": keras.version(),
        "backend": keras.backend.backend(),
        "classic_loop": {
            "sentences": len(sample),
            "sentences_per_second": round(classic_rate, 3),
            "timed_on_a_sample": True,
        },
        "greedy": {
            "sentences": len(sources),
            "batch_size": args.batch_size,
            "sentences_per_second": round(greedy_rate, 1),
            "seconds_runs": [round(t, 3) for t in timings],
        },
        "beam": {
            "sentences": len(sources),
            "beam": args.beam,
            "batch_size": args.batch_size,
            "sentences_per_second": round(beam_rate, 1),
            "seconds_runs": [round(t, 3) for t in beam_timings],
        },
        "greedy_speedup": round(greedy_rate / classic_rate, 1),
        "beam_speedup": round(beam_rate / classic_rate, 1),
        "greedy_identical_to_classic": {"identical": identical, "compared": len(sample)},
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
