"""Does fine-tuning adapt a model to a new kind of sentence, and what does it lose elsewhere?

Splits the Tatoeba corpus by English source: sentences with a negation (not, n't, never, no,
nothing, ...) against all others. A small attention model (the base) trains for `--base-epochs`
on `--base-pairs` pairs without any negation; it is then fine-tuned for `--tune-epochs` on
`--tune-pairs` negation pairs at several learning rates and with frozen embeddings or encoder,
once more at the default rate on those pairs mixed with as many
of the base's pairs, and the same architecture is trained from scratch on those pairs alone for as many epochs and
steps. Every model translates (greedy) `--sentences` held-out negation sources and as many
held-out other sources, never trained on, scored against all their references. Fixed epochs,
not a time budget: the figures do not depend on the machine's load. Prints a table and writes JSON.

    python benchmarks/finetune.py [--base-pairs 12000] [--base-epochs 10] [--tune-pairs 1500] [--tune-epochs 6]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import warnings
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine, write_result

NEGATION = re.compile(r"\b(not|never|no|nothing|nobody|none|nowhere|neither|nor|cannot)\b|n't\b", re.IGNORECASE)
MODEL = {"units": 128, "embedding_dim": 64, "vocab_size": 2000}  # the attention preset, smaller
RATES = (3e-3, 1e-3, 3e-4)  # TrainConfig's rate, a third and a tenth of it


def split_by_source(pairs, seed: int = 0) -> dict[str, list[list]]:
    """The pairs grouped by source, sources shuffled, in two kinds: `negation` and `other`."""
    by_source: dict[str, list] = {}
    for pair in pairs:
        by_source.setdefault(pair[0], []).append(pair)
    sources = sorted(by_source)
    random.Random(seed).shuffle(sources)
    kinds = {"negation": [], "other": []}
    for source in sources:
        kinds["negation" if NEGATION.search(source) else "other"].append(by_source[source])
    return kinds


def take_pairs(groups: list[list], count: int) -> tuple[list, list[list]]:
    """Pairs of whole source groups from the front until `count` pairs; the groups left."""
    taken, used = [], 0
    while used < len(groups) and len(taken) < count:
        taken.extend(groups[used])
        used += 1
    return taken, groups[used:]


def held_out(groups: list[list], sentences: int) -> list:
    """Every pair of the first `sentences` sources of `groups`."""
    return [pair for group in groups[:sentences] for pair in group]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--base-pairs", type=int, default=12_000)
    parser.add_argument("--base-epochs", type=int, default=10)
    parser.add_argument("--tune-pairs", type=int, default=1_500)
    parser.add_argument("--tune-epochs", type=int, default=6)
    parser.add_argument("--sentences", type=int, default=400)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "finetune")
    parser.add_argument("--out", type=Path, default=RESULTS / "finetune.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0
    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.evaluation.scores import evaluate_model
    from seq2seq.training.finetuning import coverage_message, fine_tune, fine_tuning_config, vocabulary_coverage

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    kinds = split_by_source(seq2seq.read_tatoeba(args.data).pairs)
    negation_test, other_test = held_out(kinds["negation"], args.sentences), held_out(kinds["other"], args.sentences)
    tune_pairs, _ = take_pairs(kinds["negation"][args.sentences :], args.tune_pairs)
    base_pairs, _ = take_pairs(kinds["other"][args.sentences :], args.base_pairs)
    model_config = ModelConfig.from_preset("attention", **MODEL)
    args.work.mkdir(parents=True, exist_ok=True)
    base_file = args.work / "base.keras"
    steps = {}
    base = seq2seq.train(
        base_pairs, model_config, TrainConfig(epochs=args.base_epochs, verbose=0), callbacks=[counter(steps, "base")]
    )
    base.save(base_file)
    base = seq2seq.load(base_file)
    print(f"base: {len(base_pairs)} pairs, {args.base_epochs} epochs ({time.perf_counter() - started:.0f} s)")
    coverage = vocabulary_coverage(base, tune_pairs)
    print(coverage_message(coverage))
    systems = {"base (no negations)": base}
    runs = [(f"tuned, rate {rate:g}", {"learning_rate": rate}, None) for rate in RATES]
    runs += [(f"tuned, {freeze} frozen", {}, freeze) for freeze in ("embeddings", "encoder")]  # at the default rate
    for name, settings, freeze in runs:
        tuning = fine_tuning_config(epochs=args.tune_epochs, verbose=0, **settings)
        systems[name] = fine_tune(base, tune_pairs, tuning, freeze, callbacks=[counter(steps, name)])
    name = "tuned on the negations and as many base pairs"  # old data mixed in against forgetting
    mixed = tune_pairs + random.Random(1).sample(base_pairs, len(tune_pairs))
    tuning = fine_tuning_config(epochs=args.tune_epochs, verbose=0)
    systems[name] = fine_tune(base, mixed, tuning, callbacks=[counter(steps, name)])
    name = "from scratch on the tuning pairs"
    scratch = TrainConfig(epochs=args.tune_epochs, verbose=0)
    systems[name] = seq2seq.train(tune_pairs, model_config, scratch, callbacks=[counter(steps, name)])
    rows = []
    for name, system in systems.items():
        summary = system.training_summary
        row = {
            "system": name,
            "epochs": summary.get("epochs"),
            "steps": steps.get(name, steps["base"] if system is base else None),
            "best_epoch": summary.get("best_epoch"),
            "learning_rate": (summary.get("fine_tuning") or {}).get("learning_rate"),
        }
        for label, test in (("negation", negation_test), ("other", other_test)):
            scores, _ = evaluate_model(system, test)
            row[label] = {"bleu": scores["bleu"], "chrf": scores["chrf"]}
        rows.append(row)
        print(
            f"{name:46s} negations BLEU {row['negation']['bleu']:6.2f} chrF {row['negation']['chrf']:6.2f}   "
            f"others BLEU {row['other']['bleu']:6.2f} chrF {row['other']['chrf']:6.2f}",
            flush=True,
        )
    seconds = round(time.perf_counter() - started)
    print(f"{seconds} s in all")
    write_result(
        args.out,
        {
            "benchmark": "finetune",
            "model": f"attention preset with {MODEL}",
            "base": f"{len(base_pairs)} pairs without a negation, {args.base_epochs} epochs",
            "base_steps": steps["base"],
            "tuning": f"{len(tune_pairs)} negation pairs, {args.tune_epochs} epochs",
            "held_out": (
                f"{args.sentences} negation and {args.sentences} other English sources never trained on "
                f"({len(negation_test)} and {len(other_test)} references)"
            ),
            "tuning_coverage": coverage,
            "seconds": seconds,
            "machine": machine(),
            "rows": rows,
        },
    )
    return 0


def counter(steps: dict, name: str):
    """A callback that counts the gradient steps of a training into `steps[name]`."""
    import keras

    class CountSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps[name] = steps.get(name, 0) + 1

    return CountSteps()


if __name__ == "__main__":
    sys.exit(main())
