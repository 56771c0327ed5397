"""Attention over the encoder outputs: additive (Bahdanau) and multiplicative (Luong).

Bahdanau, Cho & Bengio (2015), "Neural Machine Translation by Jointly Learning to Align and
Translate": `score(q, k) = v . tanh(W_q q + W_k k)`.
Luong, Pham & Manning (2015), "Effective Approaches to Attention-based Neural Machine
Translation": `dot: score = q . k`, `general: score = q . (W k)`.

Keys are projected once per source batch (`keys`), then each decoder step scores its query
against them. Padding positions (mask False) get no weight.
"""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.layers.former_keys import current_keys

KINDS = ("bahdanau", "luong-dot", "luong-general")
MASKED_SCORE = -1e9


@keras.saving.register_keras_serializable(package="seq2seq")
class Attention(keras.layers.Layer):
    """`(query (batch, q_units), memory (batch, src_len, m_units), keys, mask)` to context and weights.

    `attention` is the score's kind, one of `KINDS`, named as the command line's `--attention`.
    """

    def __init__(self, attention: str, query_units: int, memory_units: int, **kwargs):
        super().__init__(**kwargs)
        if attention not in KINDS:
            raise ValueError(
                f"Received an invalid value for argument `attention`, expected one of {KINDS}, got {attention!r}."
            )
        self.attention = attention
        self.query_units = query_units
        self.memory_units = memory_units
        if attention == "bahdanau":
            self.query_projection = keras.layers.Dense(query_units, use_bias=False, name="query_projection")
            self.key_projection = keras.layers.Dense(query_units, use_bias=False, name="key_projection")
            self.score_vector = keras.layers.Dense(1, use_bias=False, name="score_vector")
        elif attention == "luong-general":
            self.key_projection = keras.layers.Dense(query_units, use_bias=False, name="key_projection")

    def build_for(self, query_units: int, memory_units: int) -> None:
        """Create the projection weights for queries and memories of these widths."""
        if self.attention == "bahdanau":
            self.query_projection.build((None, query_units))
            self.score_vector.build((None, None, self.query_units))
        if self.attention != "luong-dot":
            self.key_projection.build((None, None, memory_units))
        self.built = True

    def keys(self, memory):
        """What each query is scored against: `(batch, src_len, query_units or m_units)`."""
        return memory if self.attention == "luong-dot" else self.key_projection(memory)

    def call(self, query, memory, keys, mask):
        if self.attention == "bahdanau":
            hidden = ops.tanh(keys + ops.expand_dims(self.query_projection(query), 1))
            scores = ops.squeeze(self.score_vector(hidden), -1)
        else:
            scores = ops.squeeze(ops.matmul(keys, ops.expand_dims(query, -1)), -1)
        scores = ops.where(ops.cast(mask, "bool"), scores, MASKED_SCORE)
        scores = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))  # a softmax that allows one position
        weights = scores / ops.sum(scores, axis=-1, keepdims=True)
        context = ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), memory), 1)
        return context, weights

    def get_config(self):
        return {
            **super().get_config(),
            "attention": self.attention,
            "query_units": self.query_units,
            "memory_units": self.memory_units,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**current_keys(config, {"kind": "attention"}))
