"""Sentence vectors from a trained model's encoder: its final states, or the mean of its outputs."""

from __future__ import annotations

import numpy as np
from keras import ops

from seq2seq.config import POOLINGS
from seq2seq.data.batching import pad_batch, round_up
from seq2seq.errors import ConfigError
from seq2seq.host import to_host
from seq2seq.layers.recurrent import STATE_KINDS, recurrent_dropout_off


def final_hidden_states(final_states: list, cell: str, bidirectional: bool):
    """The top layer's last hidden state `h` (forward and backward joined): `(batch, units or 2 x units)`."""
    kinds = STATE_KINDS[cell]
    top = final_states[-len(kinds) * (2 if bidirectional else 1) :]
    return ops.concatenate([state for state, kind in zip(top, kinds * 2) if kind == "h"], axis=-1)


def mean_of_outputs(outputs, token_ids):
    """The encoder outputs averaged over each sentence's real tokens (zeros for an empty one)."""
    mask = ops.expand_dims(ops.cast(ops.not_equal(token_ids, 0), outputs.dtype), -1)
    return ops.sum(outputs * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)


def encode_texts(model, texts, pooling: str = "final", batch_size: int = 256) -> np.ndarray:
    """One float32 vector per text, `(len(texts), dim)`, in the caller's order.

    `final`: the encoder's last hidden state of its top layer (both directions joined for a
    bidirectional encoder), what the classic recipe hands to its decoder; `mean`: its outputs
    averaged over the real tokens.
    """
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}.")
    if isinstance(texts, str):
        raise TypeError("encode_texts() takes a list of texts; wrap a single text in a list.")
    config = model.model_config
    encoded = model.translator.encode_sources(texts)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    vectors: list = [None] * len(encoded)
    with recurrent_dropout_off(model):
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            longest = max(len(encoded[i]) for i in rows)
            token_ids = pad_batch([encoded[i] for i in rows], length=max(8, round_up(longest, 8)))  # empty texts too
            outputs, final_states = model.encoder(token_ids, training=False)
            if pooling == "final":
                pooled = final_hidden_states(list(final_states), config.cell, config.bidirectional)
            else:
                pooled = mean_of_outputs(outputs, token_ids)
            for row, vector in zip(rows, to_host(pooled, dtype="float32")):
                vectors[row] = vector
    if not vectors:
        return np.zeros((0, config.encoder_output_units), dtype="float32")
    return np.stack(vectors)
