"""The typed state a search carries from step to step, and what can be done with it between steps.

A `SearchState` holds what every strategy has (the step `index`, shared by every sentence; per
sentence its `max_lengths` and `done` flags) and two typed parts: `found`, the strategy's own
per-sentence buffers (a NamedTuple whose tensors all start with the batch axis), and `rows`,
what the step function reads, one row per hypothesis (`beam` per sentence). NamedTuples
are trees on every backend (JAX pytrees, TensorFlow nests, Keras' trees for PyTorch), so a
compiled `while` loop carries the state as it is. Because sentences never interact, a state
can be cut down to some of its sentences between steps (`keep_sentences`), so the sentences
that have ended stop costing work while the long ones go on.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from keras import ops, tree


class Rows(NamedTuple):
    """What the step function reads, one row per hypothesis."""

    tokens: Any  # (rows,) int32: each hypothesis's last token
    states: tuple  # the decoder states, each (rows, ...)
    memory: Any  # what the step reads besides the states (the prepared encoder outputs), or () for nothing


class SearchState(NamedTuple):
    """A search between two steps: the common part, the strategy's buffers and the step's rows."""

    index: Any  # () int32: the number of steps taken
    max_lengths: Any  # (batch,) int32: the most tokens each sentence may take
    done: Any  # (batch,) bool: sentences whose result can no longer change
    found: Any  # the strategy's per-sentence NamedTuple, every tensor (batch, ...)
    rows: Rows  # (batch x beam, ...)


def call_step(step, rows: Rows):
    """`step(tokens, states[, memory])` on the rows: `(log_probs, new states[, attention weights])`."""
    if len(rows.memory):
        return step(rows.tokens, list(rows.states), rows.memory)
    return step(rows.tokens, list(rows.states))


def run_search(strategy, step, state: SearchState, end_id: int, until=None) -> SearchState:
    """Advance `state` until every sentence is done, or its index reaches `until` where given."""

    def going(state):
        unfinished = ops.logical_not(ops.all(state.done))
        return unfinished if until is None else ops.logical_and(unfinished, ops.less(state.index, until))

    # Keras' while_loop spreads a tuple over the callables' arguments: the state goes in a 1-tuple.
    (state,) = ops.while_loop(going, lambda state: (strategy.advance(step, state, end_id),), (state,))
    return state


def keep_sentences(state: SearchState, keep, beam: int) -> SearchState:
    """The state of only the sentences at positions `keep` (in that order)."""
    keep = np.asarray(keep, dtype="int32")
    rows = (keep[:, None] * beam + np.arange(beam, dtype="int32")).reshape(-1)
    pick_sentences, pick_rows = ops.convert_to_tensor(keep), ops.convert_to_tensor(rows)
    sentences = tree.map_structure(
        lambda value: ops.take(value, pick_sentences, axis=0), (state.max_lengths, state.done, state.found)
    )
    return SearchState(
        state.index, *sentences, tree.map_structure(lambda value: ops.take(value, pick_rows, axis=0), state.rows)
    )
