"""Translation quality of the three presets at one training budget, on held-out Tatoeba sentences.

Holds out English sentences (all their French translations become the references, and no
test sentence is seen in training), trains `classic`, `bidirectional` and `attention` for the
same budget of processor time each, and scores greedy translations of the held-out sentences
with sacrebleu (BLEU, chrF, TER, all references). Prints a table and writes JSON after each
preset, so a long run leaves its results as it goes.

The budget is processor time (user + system, all threads of this process): 20 minutes of wall
time on 2 cores is 2,400 CPU seconds. Counting processor time keeps presets comparable when
something else shares the machine.

    python benchmarks/quality.py [--minutes 20] [--presets classic,bidirectional,attention]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
TATOEBA = ROOT.parent / "shared" / "data" / "tatoeba" / "fra-eng.txt"


def processor_budget_callback(cpu_seconds: float):
    """A Keras callback that stops training once this process has used `cpu_seconds`."""
    import keras

    class ProcessorBudget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = time.process_time()
            self.stopped_at_epoch = None

        def on_train_batch_end(self, batch, logs=None):
            if time.process_time() - self.started >= cpu_seconds:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self.model.stop_training and self.stopped_at_epoch is None:
                self.stopped_at_epoch = epoch + 1

    return ProcessorBudget()


def train_preset(preset: str, train_pairs, args, cpu_budget: float):
    """Train one preset within the processor budget; return the model and its training facts."""
    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig

    budget = processor_budget_callback(cpu_budget)
    wall, cpu = time.perf_counter(), time.process_time()
    model = seq2seq.train(
        train_pairs,
        ModelConfig.from_preset(preset),
        TrainConfig(epochs=1000, batch_size=args.batch_size, validation_split=args.validation_split, verbose=2),
        callbacks=[budget],
    )
    summary = model.training_summary
    return model, {
        "config": model.model_config.to_dict(),
        "parameters": model.count_params(),
        "epochs": summary["epochs"],
        "best_epoch": summary["best_epoch"],
        "best_validation_loss": summary["best_validation_loss"],
        "training_wall_seconds": round(time.perf_counter() - wall, 1),
        "training_cpu_seconds": round(time.process_time() - cpu, 1),
    }


def facts_from_model(model) -> dict:
    """Training facts recorded in a saved model (for a run whose results file was lost)."""
    summary = model.training_summary
    return {
        "config": model.model_config.to_dict(),
        "parameters": model.count_params(),
        "epochs": summary["epochs"],
        "best_epoch": summary["best_epoch"],
        "best_validation_loss": summary["best_validation_loss"],
        "training_wall_seconds": summary["seconds"],
        "training_cpu_seconds": None,
    }


def score(model, sources, references, search: dict) -> dict:
    """Translate the held-out sources and score them against all their references."""
    from seq2seq.evaluation import score_translations

    started = time.perf_counter()
    hypotheses = model.translate(sources, **search)
    return {**score_translations(hypotheses, references), "decode_seconds": round(time.perf_counter() - started, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TATOEBA)
    parser.add_argument("--minutes", type=float, default=20.0, help="wall minutes on all cores, as processor time")
    parser.add_argument("--presets", default="classic,bidirectional,attention")
    parser.add_argument("--test-sources", type=int, default=1000, help="held-out English sentences")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--validation-split", type=float, default=0.02)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--reuse-models", action="store_true", help="score the models a previous run saved, without training")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "quality.json")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0

    import keras

    import seq2seq
    import seq2seq.evaluation
    import seq2seq.translator  # noqa: F401  (load every module now: a long run must not mix versions)
    from seq2seq.data.corpus import split_pairs
    from seq2seq.evaluation import group_references

    pairs = seq2seq.read_tatoeba(args.data).pairs
    sources_total = len({source for source, _ in pairs})
    train_pairs, test_pairs = split_pairs(pairs, args.test_sources / sources_total, seed=0)
    test_sources, references = group_references(test_pairs)
    cpu_budget = args.minutes * 60 * (os.cpu_count() or 1)
    result = {
        "benchmark": "quality",
        "data": f"{args.data.name}: {len(train_pairs)} training pairs, {len(test_sources)} held-out English sentences "
        f"({len(test_pairs)} references)",
        "budget": {"minutes": args.minutes, "cpu_seconds": cpu_budget},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
        "keras": keras.version(),
        "backend": keras.backend.backend(),
        "batch_size": args.batch_size,
        "command": "python benchmarks/quality.py " + " ".join(sys.argv[1:]),
        "presets": {},
    }
    previous = json.loads(args.out.read_text()) if args.reuse_models and args.out.is_file() else {"presets": {}}
    if args.reuse_models:  # the models come from the run that trained them
        result["command"] = f"{previous.get('command')}, then {result['command']}"
    for preset in args.presets.split(","):
        model_path = ROOT / "benchmarks" / "results" / f"quality-{preset}.keras"
        if args.reuse_models:
            model = seq2seq.load(model_path)
            row = previous["presets"].get(preset) or facts_from_model(model)
        else:
            model, row = train_preset(preset, train_pairs, args, cpu_budget)
            model.save(model_path)
        if not (row.get("greedy") and row.get("beam")):  # a reused row keeps the scores it has
            row["greedy"] = score(model, test_sources, references, {})
            row["beam"] = score(model, test_sources, references, {"beam": args.beam, "length_penalty": args.length_penalty})
            hypotheses = model.translate(test_sources[:8], beam=args.beam, length_penalty=args.length_penalty)
            row["examples"] = [
                {"source": s, "hypothesis": h, "references": r} for s, h, r in zip(test_sources, hypotheses, references)
            ]
        result["presets"][preset] = row
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"{preset}: greedy {json.dumps(row['greedy'])}, beam {json.dumps(row['beam'])}", flush=True)

    print(f"\n{'preset':<14} {'epochs':>6} {'greedy BLEU':>11} {'chrF':>6} {'beam BLEU':>10} {'chrF':>6}")
    for preset, row in result["presets"].items():
        greedy, beam = row["greedy"], row["beam"]
        print(f"{preset:<14} {row['epochs']:>6} {greedy['bleu']:>11} {greedy['chrf']:>6} {beam['bleu']:>10} {beam['chrf']:>6}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
