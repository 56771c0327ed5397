"""Which layers a fine-tuning freezes, so that a model file written during one freezes them again when loaded.

A fine-tuned model's summary names what its training froze (`fine_tuning.frozen`: `embeddings`,
`encoder` or None). Keras' file keeps the model's settings, not each layer's `trainable` flag,
so `Seq2Seq` re-applies the freezing whenever it is built: a training resumed from a checkpoint
goes on with the same weights frozen, and its optimizer is rebuilt over the same weights it had.
"""

from __future__ import annotations

import keras

from seq2seq.errors import ConfigError

FREEZABLE = ("embeddings", "encoder")


def layers_to_freeze(model, freeze: str | None) -> list[keras.layers.Layer]:
    """The layers that `freeze` names in `model` (a `Seq2Seq`): none, both token embeddings, or the embeddings and
    the encoder."""
    if freeze is None:
        return []
    if freeze not in FREEZABLE:
        raise ConfigError(f"freeze must be one of {', '.join(FREEZABLE)} (or None), got {freeze!r}.")
    if freeze == "encoder":  # the encoder holds the source embedding; the target one sits in the decoder
        return [model.encoder, model.decoder.token_input]
    if model.model_config.embedding_dim is None:
        raise ConfigError(
            "the model reads one-hot tokens, so it has no embeddings to freeze; freeze the encoder, or nothing."
        )
    return [model.encoder.token_input, model.decoder.token_input]


def freeze_layers(model, freeze: str | None) -> list[keras.layers.Layer]:
    """Make the layers `freeze` names untrainable; return them."""
    frozen = layers_to_freeze(model, freeze)
    for layer in frozen:
        layer.trainable = False
    return frozen


def frozen_by_summary(training_summary: dict) -> str | None:
    """What a model's training summary says its fine-tuning froze (None where it was not fine-tuned)."""
    fine_tuning = training_summary.get("fine_tuning")
    return fine_tuning.get("frozen") if isinstance(fine_tuning, dict) else None
