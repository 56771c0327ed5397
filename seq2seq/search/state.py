"""The state a search carries from step to step, and what can be done with it between steps.

A strategy's state is a dict of tensors: `index` (the step, shared by every sentence),
`sentences` (one row per sentence: `done`, `max_lengths` and the strategy's buffers) and
`rows` (one row per hypothesis, `expansion` per sentence: `tokens`, the decoder `states` and,
for attention models, the encoder `memory`). Because sentences never interact, a state can be
cut down to some of its sentences between steps (`keep_sentences`), so the sentences that
have ended stop costing work while the long ones go on.
"""

from __future__ import annotations

import numpy as np
from keras import ops


def call_step(step, state):
    """`step(tokens, states[, memory])` on the state's rows: `(log_probs, new states)`."""
    rows = state["rows"]
    if "memory" in rows:
        return step(rows["tokens"], rows["states"], rows["memory"])
    return step(rows["tokens"], rows["states"])


def run_search(strategy, step, state, end_id: int, until=None):
    """Advance `state` until every sentence is done, or its index reaches `until` where given."""

    def going(state):
        unfinished = ops.logical_not(ops.all(state["sentences"]["done"]))
        return unfinished if until is None else ops.logical_and(unfinished, ops.less(state["index"], until))

    return ops.while_loop(going, lambda state: strategy.advance(step, state, end_id), state)


def keep_sentences(state: dict, keep, expansion: int) -> dict:
    """The state of only the sentences at positions `keep` (in that order)."""
    keep = np.asarray(keep, dtype="int32")
    rows = (keep[:, None] * expansion + np.arange(expansion, dtype="int32")).reshape(-1)
    pick_sentences, pick_rows = ops.convert_to_tensor(keep), ops.convert_to_tensor(rows)
    return {
        "index": state["index"],
        "sentences": {name: ops.take(value, pick_sentences, axis=0) for name, value in state["sentences"].items()},
        "rows": _map(lambda value: ops.take(value, pick_rows, axis=0), state["rows"]),
    }


def _map(function, structure):
    """`function` on every tensor of a structure of dicts, lists and tuples."""
    if isinstance(structure, dict):
        return {key: _map(function, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(function, value) for value in structure)
    return function(structure)
