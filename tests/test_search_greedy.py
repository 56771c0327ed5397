"""GreedySearch over a stub step function: a toy alphabet, no model."""

from __future__ import annotations

import numpy as np
from keras import ops

from seq2seq.search.greedy import GreedySearch

START, END = 2, 3
VOCAB = 7  # 0 pad, 1 unk, 2 start, 3 end, 4 'a', 5 'b', 6 'c'

# Row r of the stub emits SCRIPTS[r] then the end token; the script is chosen by the
# row's state, so a row decodes the same whatever else is in the batch.
SCRIPTS = {0: [4, 5, 6], 1: [6], 2: [5, 5, 5, 5, 5, 5]}


def scripted_step(tokens, states):
    """log-probs that put all mass on the next scripted token of each row."""
    script_id, position = states
    table = np.full((len(SCRIPTS), 8), END, dtype="int32")
    for row, script in SCRIPTS.items():
        table[row, : len(script)] = script
    table = ops.convert_to_tensor(table)
    wanted = ops.take_along_axis(ops.take(table, ops.cast(script_id, "int32"), axis=0), ops.expand_dims(ops.cast(position, "int32"), 1), axis=1)[:, 0]
    log_probs = ops.where(ops.one_hot(wanted, VOCAB) > 0, 0.0, -1e9)
    return log_probs, [script_id, position + 1]


def run(script_ids, max_lengths):
    script_ids = ops.convert_to_tensor(np.array(script_ids, dtype="int32"))
    states = [script_ids, ops.zeros_like(script_ids)]
    output = GreedySearch()(scripted_step, states, START, END, np.array(max_lengths, dtype="int32"))
    return ops.convert_to_numpy(output).tolist()


def test_greedy_emits_each_rows_best_tokens_then_the_end_token_then_padding():
    assert run([0, 1], [6, 6]) == [[4, 5, 6, 3, 0, 0], [6, 3, 0, 0, 0, 0]]


def test_greedy_stops_a_row_at_its_own_maximum_length():
    assert run([2, 0], [3, 5]) == [[5, 5, 5, 0, 0], [4, 5, 6, 3, 0]]


def test_greedy_gives_each_sentence_the_same_tokens_alone_and_in_a_batch():
    together = run([2, 0, 1], [20, 20, 20])
    alone = [run([script], [20])[0] for script in (2, 0, 1)]
    for batched, single in zip(together, alone):
        assert batched[: len(single)] == single
        assert all(token == 0 for token in batched[len(single) :])


def test_greedy_output_is_as_long_as_the_longest_allowed_row():
    assert np.array(run([1, 1], [2, 5])).shape == (2, 5)
