"""Searches that keep one hypothesis per sentence and extend it by one chosen token per step.

Greedy search and sampling differ only in how they choose (`choose`); the loop is this one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from keras import ops

from seq2seq.search.state import SearchState, call_step
from seq2seq.search.strategy import SearchStrategy, forced_tokens


class Chosen(NamedTuple):
    """Per sentence: the tokens chosen so far and the sum of their log-probabilities."""

    output: Any  # (batch, width) int32: the end id, then zeros, once the sentence has ended
    scores: Any  # (batch,) float32
    forced: Any = ()  # (batch, width) int32: each sentence's prefix ids, then zeros; () without prefixes


class SingleHypothesisSearch(SearchStrategy):
    """Batched decoding as one `while` loop that ends when every sentence has ended.

    Row `b` stops at the end id or after `max_lengths[b]` tokens, so a sentence gets the same
    output in any batch. The result is `(ids (batch, 1, width), scores (batch, 1))`: the ids
    keep the end id and zeros after it; a score is the sum of the chosen tokens' log-probabilities.
    """

    def choose(self, log_probs):
        """The token each row takes, `(rows,)` int32, from `log_probs (rows, vocab)`."""
        raise NotImplementedError

    def found_before(self, batch, width, source_mask):
        return Chosen(ops.zeros((batch, width), dtype="int32"), ops.zeros((batch,), dtype="float32"))

    def advance(self, step, state: SearchState, end_id: int) -> SearchState:
        """One step for every sentence; ended sentences emit padding and keep their score."""
        index, finished, found = state.index, state.done, state.found
        log_probs, states = call_step(step, state.rows)
        choice, forced = self.choose(log_probs), forced_tokens(found.forced, index)
        if forced is not None:  # a sentence still in its prefix takes the prefix's token
            choice = ops.where(ops.greater(forced, 0), forced, choice)
        chosen = ops.where(finished, ops.zeros_like(state.rows.tokens), choice)
        gained = ops.take_along_axis(log_probs, ops.expand_dims(chosen, 1), axis=1)[:, 0]
        ended = ops.logical_or(ops.equal(chosen, end_id), ops.greater_equal(index + 1, state.max_lengths))
        found = found._replace(
            output=ops.slice_update(found.output, (0, index), ops.expand_dims(chosen, 1)),
            scores=found.scores + ops.where(finished, 0.0, gained),
        )
        rows = state.rows._replace(tokens=chosen, states=tuple(states))
        return SearchState(index + 1, state.max_lengths, ops.logical_or(finished, ended), found, rows)

    def result(self, state: SearchState):
        return ops.expand_dims(state.found.output, 1), ops.expand_dims(state.found.scores, 1)
