"""Does a coverage or length penalty help beam search? BLEU/chrF of beam 5 with each, on held-out sentences.

Uses the model of `benchmarks/decode_attention.py` (the default preset trained briefly on the
first `--pairs` Tatoeba pairs; run that first) and `--sentences` English sentences from the rest
of the corpus that it never saw, each scored against all its French translations. Prints a
table and writes JSON.

    python benchmarks/search_penalties.py [--sentences 1500] [--model build/decode-attention.keras]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine, write_result

GRID = [
    (0.0, 0.0),
    (0.0, 0.1),
    (0.0, 0.2),
    (0.0, 0.4),
    (0.6, 0.0),
    (0.6, 0.2),
    (1.0, 0.2),
]  # (length alpha, coverage beta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=20_000, help="the pairs the model was trained on (first N)")
    parser.add_argument("--sentences", type=int, default=1_500)
    parser.add_argument("--model", type=Path, default=ROOT / "build" / "decode-attention.keras")
    parser.add_argument("--out", type=Path, default=RESULTS / "search-penalties.json")
    args = parser.parse_args()
    if not args.data.is_file() or not args.model.is_file():
        print(f"skipped: needs {args.data} and {args.model} (python benchmarks/decode_attention.py trains it)")
        return 0
    import seq2seq
    from seq2seq.evaluation.scores import evaluate_model

    warnings.simplefilter("ignore")
    pairs = seq2seq.read_tatoeba(args.data).pairs
    seen = {source for source, _ in pairs[: args.pairs]}
    unseen = sorted({source for source, _ in pairs[args.pairs :]} - seen)
    chosen = set(random.Random(0).sample(unseen, args.sentences))
    held_out = [pair for pair in pairs if pair[0] in chosen]
    model = seq2seq.load(args.model)
    rows = []
    for alpha, beta in GRID:
        started = time.perf_counter()
        scores, _ = evaluate_model(model, held_out, beam=5, length_penalty=alpha, coverage_penalty=beta)
        rows.append(
            {
                "length_penalty": alpha,
                "coverage_penalty": beta,
                "bleu": scores["bleu"],
                "chrf": scores["chrf"],
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(f"alpha {alpha:<4} beta {beta:<4} BLEU {scores['bleu']:6.2f} chrF {scores['chrf']:6.2f}", flush=True)
    baseline = rows[0]
    result = {
        "benchmark": "search-penalties",
        "model": f"{args.model.name}: {model.training_summary.get('data', '')}",
        "held_out": (
            f"{len(chosen)} English sentences outside the first {args.pairs} pairs ({len(held_out)} references)"
        ),
        "machine": machine(),
        "beam": 5,
        "rows": rows,
        "best": max(rows, key=lambda row: (row["bleu"], row["chrf"])),
        "baseline": baseline,
    }
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
