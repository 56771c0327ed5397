"""Fine-tuning: a trained model trained further on new data (domain adaptation), its vocabularies and
architecture kept.

The tuned model is a copy of the base model: the same settings, the same vocabularies and
tokenizers (never rebuilt: a token the base model lacks stays unknown, and the coverage report
says how many there are), the base model's weights. It trains with the project's training
machinery (`seq2seq.training.fit.fit`: validation split, best-weights selection, schedules,
checkpoints, time budget) under a new optimizer and learning-rate schedule, at a lower rate
than a training from scratch: large steps would soon wash out what the base model knew.
Optionally the token embeddings, or the embeddings and the whole encoder, are frozen. Tuned on
the new data alone, a model forgets part of the rest; some of the old pairs mixed into the new
ones keep most of it (measured in docs/training.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import keras

from seq2seq.config import TrainConfig
from seq2seq.models.freezing import freeze_layers, layers_to_freeze
from seq2seq.models.seq2seq import Seq2Seq
from seq2seq.training.distribution import placement_for, precision_policy
from seq2seq.training.fit import compile_for_training, fit, new_run_split
from seq2seq.training.process_setup import enable_compilation_cache

# A third of a new training's rate (TrainConfig's 0.003). In benchmarks/finetune.py (see docs/training.md),
# six epochs at the full rate gained the most on the new kind of sentence and lost the most on the others;
# a third kept most of that gain (+10.5 BLEU against +13.5) for less loss, a tenth only half of it.
FINE_TUNING_LEARNING_RATE = 1e-3
UNITS = {"char": "characters", "word": "words", "subword": "pieces", "space": "tokens"}
# What the summary of a tuned model keeps of its base model's.
BASE_SUMMARY_KEYS = ("data", "training_pairs", "epochs", "best_epoch", "best_validation_loss", "best_validation_score")
SHOWN_UNKNOWN = 5  # the most frequent unknown tokens a coverage report names


def fine_tuning_config(**settings) -> TrainConfig:
    """Training settings for fine-tuning: `TrainConfig(**settings)`, at `FINE_TUNING_LEARNING_RATE` unless a
    `learning_rate` is given."""
    return TrainConfig(**{"learning_rate": FINE_TUNING_LEARNING_RATE, **settings})


def fine_tune(
    base: Seq2Seq,
    pairs: Sequence[tuple[str, str]],
    train_config: TrainConfig | None = None,
    freeze: str | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    data_description: str = "",
) -> Seq2Seq:
    """A copy of `base` trained further on `pairs`, with the weights of its best epoch; `base` is left unchanged.

    `train_config` (default `fine_tuning_config()`) is used as given, its `learning_rate` too:
    build it with `fine_tuning_config` for the fine-tuning rate. `freeze` is None, `"embeddings"`
    (the source and target token embeddings) or `"encoder"` (the embeddings and the encoder
    stack); frozen weights end as they began. The summary of the tuned model holds the base
    model's (`fine_tuned_from`) and `fine_tuning`: the rate, what was frozen and the vocabulary
    coverage of `pairs` (see `vocabulary_coverage`).
    """
    train_config = train_config or fine_tuning_config()
    layers_to_freeze(base, freeze)  # a bad choice fails before anything is done
    train_pairs, validation_pairs = new_run_split(pairs, train_config)
    coverage = vocabulary_coverage(base, pairs)
    enable_compilation_cache()
    keras.utils.set_random_seed(train_config.seed)
    summary = {
        "data": data_description,
        "training_pairs": len(train_pairs),
        "validation_pairs": len(validation_pairs),
        "source_vocabulary": len(base.source_vocab),
        "target_vocabulary": len(base.target_vocab),
        **train_config.extra,
        "fine_tuned_from": {key: base.training_summary.get(key) for key in BASE_SUMMARY_KEYS},
    }
    placement = placement_for(train_config.distribute)
    with placement.scope(), precision_policy(train_config.mixed_precision):
        model = copy_model(base, summary)
        frozen = freeze_layers(model, freeze)  # a model built from this one's file freezes them again
        compile_for_training(model, train_config)  # a new optimizer over the weights left trainable
    model.training_summary["fine_tuning"] = {
        "learning_rate": train_config.learning_rate,
        "frozen": freeze,
        "frozen_weights": sum(math.prod(weight.shape) for layer in frozen for weight in layer.weights),
        "vocabulary_coverage": coverage,
    }
    model.training_summary["replicas"] = placement.replicas
    return fit(model, train_pairs, validation_pairs, train_config, callbacks)


def copy_model(base: Seq2Seq, training_summary: dict) -> Seq2Seq:
    """A new model of `base`'s settings and vocabularies holding `base`'s weights, built in the current scope."""
    model = Seq2Seq(base.model_config, base.source_vocab, base.target_vocab, training_summary=training_summary)
    model.set_weights(base.get_weights())
    return model


def vocabulary_coverage(model: Seq2Seq, pairs: Sequence[tuple[str, str]]) -> dict:
    """How much of `pairs` the model's vocabularies lack, per side.

    Each side's texts are cut by that side's own tokenizer (subword models: into the pieces of
    their SentencePiece model) and every token the vocabulary reads as `<unk>` is counted:
    `{"unit", "pairs", "source": {"tokens", "unknown", "rate", "unknown_kinds", "most_common"}, "target": ...}`,
    `most_common` being the `SHOWN_UNKNOWN` most frequent unknown tokens with their counts.
    """
    report = {"unit": UNITS.get(model.source_vocab.tokenizer.name, "tokens"), "pairs": len(pairs)}
    for index, (side, vocabulary) in enumerate((("source", model.source_vocab), ("target", model.target_vocab))):
        unknown, total = Counter(), 0
        for pair in pairs:
            tokens = vocabulary.tokenizer.tokenize(pair[index])
            total += len(tokens)
            unknown.update(
                token for token in tokens if vocabulary.token_to_id.get(token, vocabulary.unk_id) == vocabulary.unk_id
            )
        count = sum(unknown.values())
        report[side] = {
            "tokens": total,
            "unknown": count,
            "rate": count / total if total else 0.0,
            "unknown_kinds": len(unknown),
            "most_common": [[token, times] for token, times in unknown.most_common(SHOWN_UNKNOWN)],
        }
    return report


def coverage_message(report: dict) -> str:
    """One line saying what share of the new data's tokens the base vocabularies lack."""
    unit = report["unit"]
    parts = []
    for side in ("source", "target"):
        counts = report[side]
        text = f"{counts['rate']:.2%} of {side} {unit} ({counts['unknown']:,} of {counts['tokens']:,}"
        if counts["most_common"]:
            shown = ", ".join(repr(token) for token, _ in counts["most_common"])
            kinds = counts["unknown_kinds"]
            text += f"; {kinds:,} kind{'s' if kinds != 1 else ''}, most often {shown}"
        parts.append(text + ")")
    lacking = report["source"]["unknown"] + report["target"]["unknown"]
    consequence = (
        "they read as <unk>: the vocabularies are kept, so train a new model to add them"
        if lacking
        else "the vocabularies cover all of it"
    )
    return f"The base model's vocabularies lack {parts[0]} and {parts[1]} of the new data; {consequence}."
