"""Greedy search: at each step take the most probable token, for a whole batch at once."""

from __future__ import annotations

from keras import ops

from seq2seq.search.one_hypothesis import SingleHypothesisSearch


class GreedySearch(SingleHypothesisSearch):
    """One hypothesis per sentence, extended by its most probable token (see `SingleHypothesisSearch`)."""

    def choose(self, log_probs):
        return ops.cast(ops.argmax(log_probs, axis=-1), "int32")
