"""Separate vocabularies, one joint vocabulary, and joint with tied embeddings, side by side.

Trains the default model (`seq2seq train`'s `attention` preset and training settings) three
ways on the same split of the Tatoeba corpus: as it is, with `--joint-vocab` (one SentencePiece
model of both sides' text, the same 4,000 pieces), and with `--joint-vocab --tie-embeddings`
(one matrix for the source embedding, the target embedding and the output projection). Each
trains for the same fixed number of steps, not minutes, so the figures do not hang on the
machine's load: `--epochs` epochs of the system with the fewest batches per epoch (the learning
rate decays over each system's own epochs, as the command's does). Every model then translates
held-out English sentences, never trained on, with beam 5, scored with sacrebleu against all
their references. Reports BLEU, chrF, parameters, the saved file's size, steps and minutes;
prints a table and writes JSON.

    python benchmarks/shared_vocab.py [--epochs 1] [--test-sources 1000] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from common import RESULTS, ROOT, TATOEBA, machine, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SYSTEMS = {
    "separate": {"joint_vocab": False, "tie_embeddings": False},  # the attention preset's default until it won here
    "joint": {"joint_vocab": True, "tie_embeddings": False},
    "joint + tied": {"joint_vocab": True, "tie_embeddings": True},
}


def build_system(train_pairs, settings: dict, train_config):
    """The model `seq2seq.training.fit.train` builds for these settings, and its encoded training pairs."""
    import keras

    from seq2seq.config import ModelConfig
    from seq2seq.data.pipeline import EncodedPairs
    from seq2seq.data.vocabulary import build_vocabularies
    from seq2seq.models.seq2seq import Seq2Seq
    from seq2seq.training.fit import compile_for_training

    model_config = ModelConfig.from_preset("attention", **settings)
    keras.utils.set_random_seed(train_config.seed)
    source_vocab, target_vocab = build_vocabularies(
        [source for source, _ in train_pairs],
        [target for _, target in train_pairs],
        model_config.tokenizer,
        model_config.lowercase,
        model_config.effective_vocab_size,
        train_config.min_frequency,
        joint=model_config.joint_vocab,
    )
    model = Seq2Seq(model_config, source_vocab, target_vocab)
    compile_for_training(model, train_config)
    encoded = EncodedPairs.encode(train_pairs, source_vocab, target_vocab)
    model.decoder.start_from_token_prior(encoded.target_token_counts(len(target_vocab), target_vocab.end_id))
    return model, encoded


def stop_after(steps: int):
    """A callback that ends `fit` after exactly `steps` steps (Keras then validates the partial epoch)."""
    import keras

    class StopAfterSteps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.steps >= steps:
                self.model.stop_training = True

    return StopAfterSteps()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(TATOEBA))
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the system with the fewest batches")
    parser.add_argument("--test-sources", type=int, default=1000, help="held-out English sentences")
    parser.add_argument("--split-seed", type=int, default=12345)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--limit", type=int, help="use only the first N pairs (a quick trial)")
    parser.add_argument("--out", type=Path, default=RESULTS / "shared-vocab.json")
    args = parser.parse_args()
    if not os.path.isfile(args.data):
        print(f"skipped: the Tatoeba corpus is not at {args.data}")
        return 0

    import keras

    import seq2seq
    from seq2seq.config import TrainConfig
    from seq2seq.data.corpus import split_pairs
    from seq2seq.evaluation.scores import group_references, score_translations
    from seq2seq.training.fit import fit, training_batches, validation_split

    pairs = seq2seq.read_tatoeba(args.data, limit=args.limit).pairs
    sources_total = len({source for source, _ in pairs})
    train_pairs, test_pairs = split_pairs(pairs, args.test_sources / sources_total, seed=args.split_seed)
    test_sources, references = group_references(test_pairs)
    train_config = TrainConfig(epochs=args.epochs, verbose=2)  # the command's defaults otherwise
    fitted_pairs, validation_pairs = validation_split(train_pairs, train_config)
    built = {name: build_system(fitted_pairs, settings, train_config) for name, settings in SYSTEMS.items()}
    per_epoch = {
        name: len(training_batches(model, encoded, train_config.batch_size)) for name, (model, encoded) in built.items()
    }
    steps = args.epochs * min(per_epoch.values())
    result = {
        "benchmark": "shared-vocab",
        "data": f"{os.path.basename(args.data)}: {len(fitted_pairs)} training and {len(validation_pairs)} validation "
        f"pairs, {len(test_sources)} held-out English sentences ({len(test_pairs)} references), "
        f"split seed {args.split_seed}",
        "steps": steps,
        "machine": {**machine(), "load_average_at_start": round(os.getloadavg()[0], 1)},
        "keras": keras.version(),
        "backend": keras.backend.backend(),
        "command": "python benchmarks/shared_vocab.py " + " ".join(sys.argv[1:]),
        "systems": {},
    }
    out_folder = ROOT / "build" / "shared-vocab"  # the models are kept (build/ is ignored)
    out_folder.mkdir(parents=True, exist_ok=True)
    for name, (model, encoded) in built.items():
        print(f"{name}: {SYSTEMS[name] or 'separate vocabularies'}, {steps} steps", flush=True)
        stopper = stop_after(steps)
        started = time.perf_counter()
        fit(model, encoded, validation_pairs, train_config, [stopper])
        minutes = (time.perf_counter() - started) / 60
        path = out_folder / f"{name.replace(' + ', '-')}.keras"
        model.save(path)
        started = time.perf_counter()
        hypotheses = model.translate(test_sources, beam=args.beam)
        row = {
            "settings": SYSTEMS[name],
            "source_vocabulary": len(model.source_vocab),
            "target_vocabulary": len(model.target_vocab),
            "parameters": model.count_params(),
            "model_file_mb": round(path.stat().st_size / 2**20, 2),
            "steps": stopper.steps,
            "steps_per_epoch": per_epoch[name],
            "training_minutes": round(minutes, 1),
            "best_validation_loss": model.training_summary["best_validation_loss"],
            "beam": {
                **score_translations(hypotheses, references),
                "decode_seconds": round(time.perf_counter() - started, 1),
            },
            "load_average_after": round(os.getloadavg()[0], 1),
        }
        result["systems"][name] = row
        write_result(args.out, result)
        print(f"{name}: {row}", flush=True)

    print(f"\n{steps} steps each; beam {args.beam} on {len(test_sources)} held-out sentences")
    print(f"{'system':<14} {'BLEU':>6} {'chrF':>6} {'parameters':>11} {'file MB':>8} {'steps':>6} {'minutes':>8}")
    for name, row in result["systems"].items():
        print(
            f"{name:<14} {row['beam']['bleu']:>6} {row['beam']['chrf']:>6} {row['parameters']:>11,} "
            f"{row['model_file_mb']:>8} {row['steps']:>6} {row['training_minutes']:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
