"""The bridge: which encoder states start which decoder layer, and how each kind merges them."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from seq2seq.layers.bridge import KINDS, Bridge, source_layer, zero_rows

BATCH, SOURCE, UNITS, DECODER = 3, 5, 4, 7  # all different
LENGTHS = np.array([SOURCE, 2, 1])


def _encoder_states(cell, layers, bidirectional, seed=0):
    """Flat states `[layer 0: forward h (c), backward h (c); layer 1: ...]`, each `(batch, units)`, all distinct."""
    count = layers * (2 if cell == "lstm" else 1) * (2 if bidirectional else 1)
    return [np.random.default_rng(seed + i).normal(size=(BATCH, UNITS)).astype("float32") for i in range(count)]


def _encoder_outputs(width, seed=9):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, SOURCE, width)).astype("float32"), np.arange(SOURCE)[None] < LENGTHS[:, None]


def _bridge(kind, cell="lstm", encoder_layers=1, decoder_layers=1, bidirectional=True, units=DECODER):
    """A bridge and its flat decoder states from distinct encoder states."""
    layer = Bridge(kind, cell, encoder_layers, decoder_layers, bidirectional, units)
    states = _encoder_states(cell, encoder_layers, bidirectional)
    outputs, mask = _encoder_outputs(UNITS * (2 if bidirectional else 1))
    result = [ops.convert_to_numpy(s) for s in layer(states, outputs, mask)]
    return layer, states, (outputs, mask), result


@pytest.mark.parametrize(
    "encoder_layers, decoder_layers, expected",
    [(1, 1, [0]), (3, 1, [2]), (3, 2, [1, 2]), (2, 2, [0, 1]), (1, 3, [0, 0, 0]), (2, 4, [0, 1, 1, 1])],
)
def test_the_top_layers_meet_and_deeper_decoders_start_from_the_last_encoder_layer(
    encoder_layers, decoder_layers, expected
):
    assert [source_layer(layer, encoder_layers, decoder_layers) for layer in range(decoder_layers)] == expected


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_concat_puts_forward_and_backward_states_side_by_side_for_each_state_kind(cell):
    _, states, _, result = _bridge("concat", cell, units=2 * UNITS)
    kinds = 2 if cell == "lstm" else 1
    assert len(result) == kinds
    for kind in range(kinds):
        np.testing.assert_array_equal(result[kind], np.concatenate([states[kind], states[kinds + kind]], axis=-1))


def test_sum_adds_the_two_directions():
    _, states, _, result = _bridge("sum", units=UNITS)
    np.testing.assert_allclose(result[0], states[0] + states[2], rtol=1e-6)
    np.testing.assert_allclose(result[1], states[1] + states[3], rtol=1e-6)


@pytest.mark.parametrize("kind", ["concat", "sum"])
def test_a_one_way_encoders_states_pass_through_concat_and_sum_unchanged(kind):
    _, states, _, result = _bridge(kind, "gru", encoder_layers=2, decoder_layers=2, bidirectional=False, units=UNITS)
    for got, expected in zip(result, states, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_dense_projects_both_directions_through_one_tanh_layer_per_decoder_state():
    layer, states, _, result = _bridge("dense", "lstm", encoder_layers=2, decoder_layers=1)
    assert [tuple(s.shape) for s in result] == [(BATCH, DECODER)] * 2
    assert len(layer.projections) == 2
    for kind, projection in enumerate(layer.projections):
        kernel, bias = (ops.convert_to_numpy(w) for w in projection.weights)
        joined = np.concatenate([states[4 + kind], states[6 + kind]], axis=-1)  # encoder layer 1 meets the decoder
        np.testing.assert_allclose(result[kind], np.tanh(joined @ kernel + bias), rtol=1e-5, atol=1e-6)


def test_mean_summarises_only_the_real_source_positions():
    layer, states, (outputs, mask), result = _bridge("mean", "gru", decoder_layers=2)
    noisy = np.where(mask[..., None], outputs, 50.0).astype("float32")
    for got, expected in zip(layer(states, noisy, mask), result, strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(got), expected, rtol=1e-6)
    summary = (outputs * mask[..., None]).sum(1) / LENGTHS[:, None]
    kernel, bias = (ops.convert_to_numpy(w) for w in layer.projections[1].weights)
    np.testing.assert_allclose(result[1], np.tanh(summary @ kernel + bias), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell, count", [("lstm", 4), ("gru", 2)])
def test_zero_starts_every_decoder_state_at_zero_with_the_decoders_width(cell, count):
    _, _, _, result = _bridge("zero", cell, decoder_layers=2)
    assert [s.shape for s in result] == [(BATCH, DECODER)] * count
    assert not any(np.any(s) for s in result)


def test_zero_rows_take_the_batch_and_dtype_of_their_model():
    rows = zero_rows(ops.ones((BATCH, UNITS), dtype="float16"), DECODER)
    assert tuple(rows.shape) == (BATCH, DECODER) and ops.convert_to_numpy(rows).dtype == np.float16


@pytest.mark.parametrize("kind", KINDS)
def test_a_bridge_rebuilt_from_its_config_with_the_same_weights_gives_the_same_states(kind):
    layer, states, (outputs, mask), result = _bridge(kind, "gru", encoder_layers=2, decoder_layers=3)
    copy = Bridge.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    copy(states, outputs, mask)
    copy.set_weights(layer.get_weights())
    for got, expected in zip(copy(states, outputs, mask), result, strict=True):
        np.testing.assert_array_equal(ops.convert_to_numpy(got), expected)


def test_an_unknown_kind_is_refused_with_the_kinds_it_knows():
    with pytest.raises(ValueError, match="expected one of .*concat.*got 'average'"):
        Bridge("average", "lstm", 1, 1, True, DECODER)


def test_a_config_written_with_the_former_keys_kind_and_units_builds_the_same_bridge():
    config = _bridge("dense")[0].get_config()
    renamed = {"bridge": "kind", "decoder_units": "units"}
    former = {renamed.get(key, key): value for key, value in config.items()}
    assert (config["bridge"], config["decoder_units"]) == ("dense", DECODER) and "kind" not in config
    assert Bridge.from_config(former).get_config() == config
