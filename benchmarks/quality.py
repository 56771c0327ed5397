"""Translation quality of exactly the user's command, `seq2seq train FILE --out M --max-time 20m`.

Holds out English sentences of the shared corpus (all their French translations become the
references; none of them is trained on), runs the command in a subprocess with the defaults
only (or with the extra flags of a named variant), then scores greedy and beam-5 translations
of the held-out sentences with sacrebleu (BLEU, chrF, TER, all references) and measures the
attention's health (`seq2seq.evaluation.attention_stats`). Also reports the epochs trained, target tokens
per second (target pieces plus the end token, as the peers count them) and the training
process's peak memory. Prints a table and writes JSON after each system.

    python benchmarks/quality.py [--minutes 20] [--variant 'dropout3=--dropout 0.3'] [--skip-default]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PEAK_MEMORY_POLL_SECONDS = 0.5


def run_training(command: list[str], log_path: Path) -> dict:
    """Run the training command; its wall time and peak resident memory (polled from /proc)."""
    started = time.perf_counter()
    peak_kb = 0
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        while process.poll() is None:
            peak_kb = max(peak_kb, _peak_kb(process.pid))
            time.sleep(PEAK_MEMORY_POLL_SECONDS)
    if process.returncode != 0:
        raise SystemExit(f"training failed ({process.returncode}); see {log_path}")
    return {"wall_seconds": round(time.perf_counter() - started, 1), "peak_memory_mb": round(peak_kb / 1024)}


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def target_tokens_per_second(model, train_pairs) -> float | None:
    """Target pieces plus one end token per sentence, over every step trained, per second of `fit`."""
    from seq2seq.config import TrainConfig
    from seq2seq.data.pipeline import EncodedPairs
    from seq2seq.host import to_host
    from seq2seq.training.fit import training_batches, validation_split

    summary = model.training_summary
    config = TrainConfig()  # the command's defaults: its validation split and batch size
    fitted_pairs, _ = validation_split(train_pairs, config)
    encoded = EncodedPairs.encode(fitted_pairs, model.source_vocab, model.target_vocab)
    tokens_per_epoch = int(encoded.target_lengths.sum()) + len(encoded)
    steps_per_epoch = len(training_batches(model, encoded, config.batch_size))
    steps = int(to_host(model.optimizer.iterations)) if model.optimizer is not None else None
    if not steps or not summary.get("seconds"):
        return None
    return round(tokens_per_epoch * steps / steps_per_epoch / summary["seconds"])


def evaluate(model, sources, references, beam: int) -> dict:
    """Greedy and beam scores, attention health and a few examples."""
    from seq2seq.evaluation.attention_stats import attention_statistics
    from seq2seq.evaluation.scores import score_translations

    row = {}
    for name, search in (("greedy", {}), ("beam", {"beam": beam})):
        started = time.perf_counter()
        hypotheses = model.translate(sources, **search)
        row[name] = {
            **score_translations(hypotheses, references),
            "decode_seconds": round(time.perf_counter() - started, 2),
        }
        if name == "beam":
            row["examples"] = [
                {"source": s, "hypothesis": h, "references": r}
                for s, h, r in list(zip(sources, hypotheses, references))[:8]
            ]
    row["attention"] = attention_statistics(model, sources) if model.has_attention else None
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--minutes", type=float, default=20.0, help="the command's --max-time")
    parser.add_argument("--test-sources", type=int, default=2000, help="held-out English sentences")
    parser.add_argument("--split-seed", type=int, default=12345)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=FLAGS", help="also run the command with these flags"
    )
    parser.add_argument("--skip-default", action="store_true", help="run only the variants")
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0

    import keras

    import seq2seq
    from seq2seq.data.corpus import split_pairs
    from seq2seq.evaluation.scores import group_references

    pairs = seq2seq.read_tatoeba(args.data).pairs
    sources_total = len({source for source, _ in pairs})
    train_pairs, test_pairs = split_pairs(pairs, args.test_sources / sources_total, seed=args.split_seed)
    test_sources, references = group_references(test_pairs)
    systems = ([] if args.skip_default else [("default", [])]) + [
        (name, shlex.split(flags)) for name, flags in (variant.split("=", 1) for variant in args.variant)
    ]
    result = {
        "benchmark": "quality",
        "data": f"{args.data.name}: {len(train_pairs)} training pairs, {len(test_sources)} held-out English sentences "
        f"({len(test_pairs)} references), split seed {args.split_seed}",
        "machine": machine(),
        "keras": keras.version(),
        "backend": keras.backend.backend(),
        "command": "python benchmarks/quality.py " + " ".join(sys.argv[1:]),
        "systems": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        train_file = Path(scratch) / "train.txt"
        train_file.write_text("".join(f"{s}\t{t}\n" for s, t in train_pairs), encoding="utf-8")
        for name, flags in systems:
            model_path = ROOT / "build" / "quality" / f"{name}.keras"  # kept, with its checkpoints (build/ is ignored)
            model_path.parent.mkdir(parents=True, exist_ok=True)
            user_command = [
                "seq2seq",
                "train",
                "TRAIN.txt",
                "--out",
                "M.keras",
                "--max-time",
                f"{args.minutes:g}m",
                *flags,
            ]
            command = [sys.executable, "-m", "seq2seq.cli", *user_command[1:]]
            command[command.index("TRAIN.txt")], command[command.index("M.keras")] = str(train_file), str(model_path)
            print(f"{name}: {' '.join(user_command)}", flush=True)
            log_path = Path(scratch) / f"{name}.log"
            run = run_training(command, log_path)
            model = seq2seq.load(model_path)
            summary = model.training_summary
            row = {
                "command": " ".join(user_command),
                "config": model.model_config.to_dict(),
                "parameters": model.count_params(),
                "epochs": summary["epochs"],
                "best_epoch": summary["best_epoch"],
                "best_validation_loss": summary["best_validation_loss"],
                "stopped": summary.get("stopped_early"),
                "target_tokens_per_second": target_tokens_per_second(model, train_pairs),
                **run,
                "log": [
                    line
                    for line in log_path.read_text(encoding="utf-8").splitlines()
                    if "val_loss" in line or line.startswith(("Stopped", "Saved"))
                ],
                **evaluate(model, test_sources, references, args.beam),
            }
            result["systems"][name] = row
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            print(
                f"{name}: greedy {json.dumps(row['greedy'])}, beam {json.dumps(row['beam'])}, attention "
                f"{json.dumps(row['attention'])}",
                flush=True,
            )

    print(
        f"\n{'system':<12} {'epochs':>6} {'greedy BLEU':>11} {'chrF':>6} {'beam BLEU':>10} {'chrF':>6} "
        f"{'1st-token w':>11} "
        f"{'entropy':>7} {'monot.':>6} {'tok/s':>6} {'peak MB':>7}"
    )
    for name, row in result["systems"].items():
        greedy, beam, attention = row["greedy"], row["beam"], row["attention"] or {}
        print(
            f"{name:<12} {row['epochs']:>6} {greedy['bleu']:>11} {greedy['chrf']:>6} {beam['bleu']:>10} "
            f"{beam['chrf']:>6} "
            f"{attention.get('first_token_weight', '-'):>11} {attention.get('entropy', '-'):>7} "
            f"{attention.get('monotonicity', '-'):>6} "
            f"{row['target_tokens_per_second']:>6} {row['peak_memory_mb']:>7}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
