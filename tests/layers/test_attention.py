"""Attention over the encoder outputs: weights that sum to one, none on padding, and each paper's score."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from seq2seq.layers.attention import KINDS, Attention

BATCH, SOURCE, QUERY, MEMORY = 3, 5, 7, 9  # all different
LENGTHS = np.array([SOURCE, 2, 1])


def _attention(kind, seed=0):
    """A built layer with random weights; luong-dot needs queries as wide as the memory."""
    memory_units = QUERY if kind == "luong-dot" else MEMORY
    layer = Attention(kind, QUERY, memory_units)
    layer.build_for(QUERY, memory_units)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer


def _inputs(kind, seed=1):
    """`(query, memory, mask)` with a different number of real source positions per row."""
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(BATCH, SOURCE, QUERY if kind == "luong-dot" else MEMORY)).astype("float32")
    return rng.normal(size=(BATCH, QUERY)).astype("float32"), memory, np.arange(SOURCE)[None] < LENGTHS[:, None]


def _attend(layer, query, memory, mask):
    context, weights = layer(query, memory, layer.keys(memory), mask)
    return ops.convert_to_numpy(context), ops.convert_to_numpy(weights)


@pytest.mark.parametrize("kind", KINDS)
def test_the_context_is_the_weighted_mean_of_the_memory_with_weights_that_sum_to_one(kind):
    query, memory, mask = _inputs(kind)
    context, weights = _attend(_attention(kind), query, memory, mask)
    assert context.shape == (BATCH, memory.shape[-1]) and weights.shape == (BATCH, SOURCE)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(context, np.einsum("bs,bsm->bm", weights, memory), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_source_positions_get_no_weight_and_their_memory_changes_nothing(kind):
    layer = _attention(kind)
    query, memory, mask = _inputs(kind)
    context, weights = _attend(layer, query, memory, mask)
    assert np.all(weights[~mask] == 0)
    assert np.all(weights[mask] > 0)
    noisy = np.where(mask[..., None], memory, 100.0 * np.random.default_rng(2).normal(size=memory.shape))
    noisy_context, noisy_weights = _attend(layer, query, noisy.astype("float32"), mask)
    np.testing.assert_allclose(noisy_context, context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(noisy_weights, weights, rtol=1e-5, atol=1e-7)
    assert weights[2, 0] == 1.0  # one real position takes all the weight


@pytest.mark.parametrize("kind", KINDS)
def test_the_weights_are_the_softmax_of_the_papers_score(kind):
    layer = _attention(kind)
    query, memory, mask = _inputs(kind)
    kernels = [ops.convert_to_numpy(w) for w in layer.get_weights()]
    if kind == "bahdanau":  # v . tanh(W_q q + W_k k)
        query_kernel, key_kernel, score_vector = kernels
        hidden = np.tanh((query @ query_kernel)[:, None] + memory @ key_kernel)
        scores = (hidden @ score_vector)[..., 0]
    elif kind == "luong-dot":  # q . k
        scores = np.einsum("bq,bsq->bs", query, memory)
    else:  # q . (W k)
        scores = np.einsum("bq,bsq->bs", query, memory @ kernels[0])
    scores = np.where(mask, scores, -np.inf)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(_attend(layer, query, memory, mask)[1], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_a_layer_rebuilt_from_its_config_with_the_same_weights_attends_the_same(kind):
    layer = _attention(kind)
    copy = Attention.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    copy.build_for(QUERY, copy.memory_units)
    copy.set_weights(layer.get_weights())
    query, memory, mask = _inputs(kind, seed=3)
    for got, expected in zip(_attend(copy, query, memory, mask), _attend(layer, query, memory, mask), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_an_unknown_kind_is_refused_with_the_kinds_it_knows():
    with pytest.raises(ValueError, match="expected one of .*bahdanau.*got 'luong'"):
        Attention("luong", QUERY, MEMORY)


def test_only_the_kinds_with_projections_hold_weights():
    shapes = {kind: [tuple(w.shape) for w in _attention(kind).weights] for kind in KINDS}
    assert shapes == {
        "bahdanau": [(QUERY, QUERY), (MEMORY, QUERY), (QUERY, 1)],
        "luong-dot": [],
        "luong-general": [(MEMORY, QUERY)],
    }


def test_the_keys_are_projected_once_to_the_query_width():
    layer = _attention("luong-general")
    _, memory, _ = _inputs("luong-general")
    keys = ops.convert_to_numpy(layer.keys(memory))
    assert keys.shape == (BATCH, SOURCE, QUERY)
    np.testing.assert_allclose(keys, memory @ ops.convert_to_numpy(layer.key_projection.kernel), rtol=1e-5, atol=1e-5)


def test_a_config_written_before_the_kind_took_the_name_attention_builds_the_same_layer():
    config = _attention("luong-general").get_config()
    former = {**{key: value for key, value in config.items() if key != "attention"}, "kind": "luong-general"}
    assert config["attention"] == "luong-general" and "kind" not in config
    assert Attention.from_config(former).get_config() == config
