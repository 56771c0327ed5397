"""Do ensembles of checkpoints translate better? Best single checkpoint against the mean of the last two and three.

Trains the default preset for `--train-seconds` on the first `--pairs` Tatoeba pairs, keeping
epoch checkpoints, then scores greedy and beam 5 on `--sentences` English sentences from the
rest of the corpus (never trained on, all references) with the best checkpoint alone and with
ensembles of the last checkpoints, and times each. Prints a table and writes JSON.

    python benchmarks/ensemble.py [--train-seconds 240] [--sentences 1500]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine, write_result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--train-seconds", type=float, default=240)
    parser.add_argument("--sentences", type=int, default=1_500)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "ensemble")
    parser.add_argument("--out", type=Path, default=RESULTS / "ensemble.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.evaluation.scores import evaluate_model

    warnings.simplefilter("ignore")
    pairs = seq2seq.read_tatoeba(args.data).pairs
    checkpoints = args.work / "checkpoints"
    if not any(checkpoints.glob("epoch-*.keras")):
        config = TrainConfig(max_time=args.train_seconds, epochs=1000, verbose=2, checkpoint_dir=str(checkpoints))
        seq2seq.train(pairs[: args.pairs], ModelConfig.from_preset("attention"), config)
    seen = {source for source, _ in pairs[: args.pairs]}
    unseen = sorted({source for source, _ in pairs[args.pairs :]} - seen)
    chosen = set(random.Random(0).sample(unseen, args.sentences))
    held_out = [pair for pair in pairs if pair[0] in chosen]
    from seq2seq.training.checkpoints import read_state

    epochs = sorted(checkpoints.glob("epoch-*.keras"))
    best = checkpoints / f"epoch-{read_state(checkpoints)['best_epoch']:03d}.keras"
    systems = {f"best checkpoint ({best.stem})": seq2seq.load(best)}
    for count in (2, 3):
        systems[f"ensemble of the last {count} ({', '.join(p.stem for p in epochs[-count:])})"] = seq2seq.load_ensemble(
            epochs[-count:]
        )
    rows = []
    for name, system in systems.items():
        row = {"system": name}
        for label, beam in (("greedy", 1), ("beam 5", 5)):
            system.translate([source for source, _ in held_out[:64]], beam=beam)  # compile first
            started = time.perf_counter()
            scores, _ = evaluate_model(system, held_out, beam=beam)
            row[label] = {
                "bleu": scores["bleu"],
                "chrf": scores["chrf"],
                "seconds": round(time.perf_counter() - started, 2),
            }
        rows.append(row)
        print(
            f"{name:45s} greedy {row['greedy']['bleu']:6.2f} / {row['greedy']['chrf']:6.2f} "
            f"({row['greedy']['seconds']} s)"
            f"   beam 5 {row['beam 5']['bleu']:6.2f} / {row['beam 5']['chrf']:6.2f} ({row['beam 5']['seconds']} s)",
            flush=True,
        )
    write_result(
        args.out,
        {
            "benchmark": "ensemble",
            "training": (
                f"attention preset, {args.train_seconds:g} s on the first {args.pairs} pairs, epoch checkpoints"
            ),
            "held_out": f"{len(chosen)} English sentences outside the training pairs ({len(held_out)} references)",
            "machine": machine(),
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
