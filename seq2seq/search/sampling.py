"""Sampling: draw each token from the model's distribution, sharpened or cut as asked."""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.layers.decoder import IMPOSSIBLE
from seq2seq.search.one_hypothesis import SingleHypothesisSearch


class Sampling(SingleHypothesisSearch):
    """Random decoding with a temperature, top-k and top-p (nucleus) filtering.

    `seed_generator` is a `keras.random.SeedGenerator`; resetting its state before a call
    repeats the same draws. It is not a setting: `get_config` leaves it out.
    """

    def __init__(self, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, seed_generator=None):
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.seed_generator = seed_generator or keras.random.SeedGenerator(0)

    def choose(self, log_probs):
        logits = filter_logits(log_probs / self.temperature, self.top_k, self.top_p)
        return ops.cast(keras.random.categorical(logits, 1, seed=self.seed_generator)[:, 0], "int32")

    def get_config(self) -> dict:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p}


def filter_logits(logits, top_k: int = 0, top_p: float = 1.0):
    """Keep the `top_k` largest logits and the smallest set whose probability reaches `top_p`."""
    if top_k:
        kth_largest = ops.top_k(logits, min(top_k, logits.shape[-1]))[0][:, -1:]
        logits = ops.where(logits < kth_largest, IMPOSSIBLE, logits)
    if top_p < 1.0:
        ordered = ops.flip(ops.sort(logits, axis=-1), axis=-1)
        probabilities = ops.softmax(ordered, axis=-1)
        before = ops.cumsum(probabilities, axis=-1) - probabilities  # mass of the larger ones
        kept = ops.where(before < top_p, ordered, ops.full_like(ordered, -IMPOSSIBLE))
        smallest_kept = ops.min(kept, axis=-1, keepdims=True)
        logits = ops.where(logits < smallest_kept, IMPOSSIBLE, logits)
    return logits
