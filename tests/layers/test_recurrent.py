"""Recurrent stacks: their layers and state names, whole-sequence runs against single steps, dropout at inference."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.layers.lstm import LSTM
from seq2seq.layers.recurrent import (
    RecurrentStackLayer,
    recurrent_dropout_off,
    recurrent_stack,
    run_stack,
    split_states,
    state_names,
    step_stack,
)

BATCH, TIME, FEATURES, UNITS, VOCAB = 3, 4, 6, 7, 11  # all different
LENGTHS = np.array([TIME, 2, 1])


def test_state_names_list_each_layers_states_in_order():
    assert state_names("lstm", 2) == ["state_h_0", "state_c_0", "state_h_1", "state_c_1"]
    assert state_names("gru", 3) == ["state_h_0", "state_h_1", "state_h_2"]


def test_flat_states_split_into_one_group_per_layer():
    assert split_states(["h0", "c0", "h1", "c1"], "lstm") == [["h0", "c0"], ["h1", "c1"]]
    assert split_states(["h0", "h1"], "gru") == [["h0"], ["h1"]]


def test_a_stack_names_its_layers_and_only_the_first_reads_token_ids():
    stack = recurrent_stack("lstm", UNITS, 3, 0.1, "encoder", token_depth=VOCAB)
    assert [layer.name for layer in stack] == ["encoder_lstm_0", "encoder_lstm_1", "encoder_lstm_2"]
    assert all(isinstance(layer, LSTM) and layer.return_sequences and layer.return_state for layer in stack)
    assert [layer.token_depth for layer in stack] == [VOCAB, None, None]
    assert {layer.dropout for layer in stack} == {0.1}


def test_a_bidirectional_stack_wraps_each_layer_and_concatenates_the_directions():
    stack = recurrent_stack("gru", UNITS, 2, 0.0, "encoder", bidirectional=True)
    assert [layer.name for layer in stack] == ["encoder_bigru_0", "encoder_bigru_1"]
    assert all(isinstance(layer, keras.layers.Bidirectional) and layer.merge_mode == "concat" for layer in stack)
    assert all(isinstance(layer.forward_layer, keras.layers.GRU) for layer in stack)


def _stack_and_states(cell, seed=0):
    """Two built layers with random weights and random initial states for them."""
    keras.utils.set_random_seed(seed)
    stack = recurrent_stack(cell, UNITS, 2, 0.0, "decoder")
    rng = np.random.default_rng(seed)
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in state_names(cell, 2)]
    inputs = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    run_stack(stack, inputs, np.ones((BATCH, TIME), bool), states, cell)
    for layer in stack:
        layer.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5 for w in layer.get_weights()])
    return stack, inputs, states


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stepping_a_stack_through_its_cells_gives_the_whole_sequence_run(cell):
    stack, inputs, states = _stack_and_states(cell)
    outputs, final_states = run_stack(stack, inputs, np.ones((BATCH, TIME), bool), states, cell)
    step_states = states
    for t in range(TIME):
        step_outputs, step_states = step_stack(stack, inputs[:, t], step_states, cell)
        np.testing.assert_allclose(ops.convert_to_numpy(step_outputs), ops.convert_to_numpy(outputs[:, t]), atol=1e-5)
    for got, expected in zip(step_states, final_states, strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(expected), atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_masked_run_ends_each_row_in_the_states_after_its_last_real_step(cell):
    stack, inputs, states = _stack_and_states(cell, seed=1)
    mask = np.arange(TIME)[None] < LENGTHS[:, None]
    _, final_states = run_stack(stack, inputs, mask, states, cell)
    for row, length in enumerate(LENGTHS):
        row_states = [s[row : row + 1] for s in states]
        _, alone = run_stack(stack, inputs[row : row + 1, :length], np.ones((1, length), bool), row_states, cell)
        for got, expected in zip(final_states, alone, strict=True):
            np.testing.assert_allclose(ops.convert_to_numpy(got)[row], ops.convert_to_numpy(expected)[0], atol=1e-5)


def test_without_initial_states_a_stack_starts_from_zeros():
    stack, inputs, states = _stack_and_states("gru", seed=2)
    mask = np.ones((BATCH, TIME), bool)
    zeros = [np.zeros_like(s) for s in states]
    from_nothing = run_stack(stack, inputs, mask, None, "gru")[1]
    for got, expected in zip(from_nothing, run_stack(stack, inputs, mask, zeros, "gru")[1], strict=True):
        np.testing.assert_array_equal(ops.convert_to_numpy(got), ops.convert_to_numpy(expected))


def test_dropout_is_off_inside_the_block_and_restored_after_it():
    layer = RecurrentStackLayer(VOCAB, cell="gru", units=UNITS, layers=2, dropout=0.3)
    layer.rnn_layers[1].cell.recurrent_dropout = 0.2
    cells = [rnn.cell for rnn in layer.rnn_layers]
    with recurrent_dropout_off(layer):
        assert [(cell.dropout, cell.recurrent_dropout) for cell in cells] == [(0.0, 0.0), (0.0, 0.0)]
    assert [(cell.dropout, cell.recurrent_dropout) for cell in cells] == [(0.3, 0.0), (0.3, 0.2)]


@pytest.mark.parametrize(
    "options, reads_ids",
    [
        ({}, True),
        ({"embedding_dim": FEATURES}, False),
        ({"cell": "gru"}, False),
        ({"whole_sequence_inputs": False}, False),
    ],
    ids=["lstm-one-hot", "embedding", "gru", "single-steps"],
)
def test_only_a_one_hot_lstm_over_whole_sequences_reads_token_ids_itself(options, reads_ids):
    layer = RecurrentStackLayer(VOCAB, units=UNITS, **options)
    assert layer.reads_token_ids == reads_ids
    ids = np.array([[3, 5, 0], [2, 0, 0], [7, 8, 9]], "int32")
    inputs = layer.stack_inputs(ids)
    assert tuple(inputs.shape) == ((3, 3) if reads_ids else (3, 3, options.get("embedding_dim", VOCAB)))


def test_a_stack_layer_rebuilt_from_its_config_has_the_same_settings():
    layer = RecurrentStackLayer(VOCAB, cell="gru", units=UNITS, layers=2, embedding_dim=FEATURES, dropout=0.1)
    copy = RecurrentStackLayer.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    assert [rnn.name for rnn in copy.rnn_layers] == [rnn.name for rnn in layer.rnn_layers]
