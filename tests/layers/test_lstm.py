"""The fused LSTM: the results and gradients of `keras.layers.LSTM`, from another loop."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from seq2seq.kernels.tensorflow_lstm import _cell_gradient
from seq2seq.layers.lstm import LSTM, keras_loop_only

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the fused kernel is TensorFlow's")

BATCH, TIME, FEATURES, UNITS = 5, 7, 3, 4  # all different, so a swapped axis fails


def _lengths(rng, batch, time):
    lengths = rng.integers(0, time + 1, batch)
    lengths[0], lengths[-1] = 0, time  # an empty sequence and a full one in every case
    return lengths


def _token_ids(rng, batch, time, depth):
    ids = rng.integers(1, depth, (batch, time))
    ids[np.arange(time)[None] >= _lengths(rng, batch, time)[:, None]] = 0
    return ids


def _twin_layers(layer_options, token_depth=None, bidirectional=False, seed=0):
    """A Keras LSTM and ours with the same (random, nonzero-bias) weights."""
    options = {"return_sequences": True, "return_state": True, **layer_options}
    ours = LSTM(UNITS, token_depth=token_depth, **options)
    reference = keras.layers.LSTM(UNITS, **options)
    if bidirectional:
        ours, reference = keras.layers.Bidirectional(ours), keras.layers.Bidirectional(reference)
    depth = token_depth or FEATURES
    ours((np.ones((1, 1), "int32") if token_depth else np.ones((1, 1, depth), "float32")))
    reference(np.ones((1, 1, depth), "float32"))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in reference.get_weights()]
    reference.set_weights(weights)
    ours.set_weights(weights)
    return ours, reference


def _results_and_gradients(layer, inputs, mask, initial_state, training=False):
    """Every output, and the gradients of a fixed random function of all of them."""
    initial_state = None if initial_state is None else [tf.constant(s) for s in initial_state]
    inputs = tf.constant(inputs)
    with tf.GradientTape() as tape:
        watched = ([inputs] if inputs.dtype.is_floating else []) + (initial_state or [])
        tape.watch(watched)
        keras.utils.set_random_seed(11)
        outputs = layer(inputs, mask=tf.constant(mask), initial_state=initial_state, training=training)
        rng = np.random.default_rng(5)
        loss = 0.0
        for output in outputs:
            loss += tf.reduce_sum(output * rng.normal(size=output.shape).astype("float32"))
    gradients = tape.gradient(loss, watched + list(layer.trainable_variables))
    return [np.asarray(v) for v in outputs], [np.asarray(g) for g in gradients]


def _assert_same(ours, reference):
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "options",
    [{}, {"go_backwards": True}, {"zero_output_for_mask": True}, {"use_bias": False}],
    ids=["forward", "go-backwards", "zero-output-for-mask", "no-bias"],
)
@pytest.mark.parametrize("with_initial_state", [True, False], ids=["initial-state", "zero-state"])
def test_feature_inputs_give_keras_outputs_states_and_gradients(options, with_initial_state):
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    mask = np.arange(TIME)[None] < _lengths(rng, BATCH, TIME)[:, None]
    initial = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2)] if with_initial_state else None
    ours, reference = _twin_layers(options)
    assert ours.fused_kernel_applies()
    ours_results = _results_and_gradients(ours, inputs, mask, initial)
    reference_results = _results_and_gradients(reference, inputs, mask, initial)
    _assert_same(ours_results[0], reference_results[0])
    _assert_same(ours_results[1], reference_results[1])


@pytest.mark.parametrize("batch", [1, 2, 64], ids=lambda b: f"batch-{b}")
def test_any_batch_size_splits_into_the_parallel_parts(batch):
    rng = np.random.default_rng(batch)
    inputs = rng.normal(size=(batch, TIME, FEATURES)).astype("float32")
    mask = np.arange(TIME)[None] < rng.integers(1, TIME + 1, batch)[:, None]
    ours, reference = _twin_layers({})
    for got, expected in zip(
        _results_and_gradients(ours, inputs, mask, None), _results_and_gradients(reference, inputs, mask, None)
    ):
        _assert_same(got, expected)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
@pytest.mark.parametrize("dropout", [0.0, 0.4], ids=["no-dropout", "dropout"])
def test_token_ids_read_as_one_hot_vectors_give_keras_results(bidirectional, dropout):
    depth = 9
    rng = np.random.default_rng(2)
    ids = _token_ids(rng, BATCH, TIME, depth)
    mask = ids != 0
    one_hot = np.eye(depth, dtype="float32")[ids]
    ours, reference = _twin_layers({"dropout": dropout, "seed": 3}, token_depth=depth, bidirectional=bidirectional)
    training = dropout > 0  # the same seed draws the same dropout mask in both
    ours_outputs, ours_gradients = _results_and_gradients(ours, ids, mask, None, training)
    reference_outputs, reference_gradients = _results_and_gradients(reference, one_hot, mask, None, training)
    _assert_same(ours_outputs, reference_outputs)
    _assert_same(ours_gradients, reference_gradients[-len(ours_gradients) :])  # (no gradient for ids)


def test_the_gradient_of_padded_steps_and_of_the_padding_row_is_zero():
    depth = 6
    ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0]], "int32")
    ours, _ = _twin_layers({}, token_depth=depth)
    with tf.GradientTape() as tape:
        outputs, h, c = ours(tf.constant(ids), mask=tf.constant(ids != 0))
        loss = tf.reduce_sum(h) + tf.reduce_sum(c) + tf.reduce_sum(outputs)
    kernel_gradient = tape.gradient(loss, ours.cell.kernel)
    assert isinstance(kernel_gradient, tf.Tensor)  # dense, as the one-hot product's gradient is
    assert np.all(kernel_gradient.numpy()[[0, 1, 2]] == 0)  # padding and unused tokens
    assert np.all(np.any(kernel_gradient.numpy()[[3, 4, 5]] != 0, axis=1))  # the tokens read


def test_the_hand_written_cell_gradient_for_bfloat16_matches_tensorflows_fused_one():
    rng = np.random.default_rng(4)
    i, f, o = (tf.constant(rng.uniform(0.05, 0.95, (3, UNITS)).astype("float32")) for _ in range(3))
    g, tanh_c = (tf.constant(rng.uniform(-0.9, 0.9, (3, UNITS)).astype("float32")) for _ in range(2))
    c_previous, dc, dh = (tf.constant(rng.normal(size=(3, UNITS)).astype("float32")) for _ in range(3))
    zeros = tf.zeros([UNITS])
    expected_dc, expected_dz, *_ = tf.raw_ops.LSTMBlockCellGrad(
        x=tf.zeros([3, 0]), cs_prev=c_previous, h_prev=dh, w=tf.zeros([UNITS, 4 * UNITS]), wci=zeros, wcf=zeros,
        wco=zeros, b=tf.zeros([4 * UNITS]), i=i, cs=tanh_c, f=f, o=o, ci=g, co=tanh_c, cs_grad=dc, h_grad=dh,
        use_peephole=False,
    )  # fmt: skip
    got_dc, got_dz = _cell_gradient(i, g, f, o, c_previous, tanh_c, dc, dh)
    np.testing.assert_allclose(got_dc, expected_dc, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_dz, expected_dz, rtol=1e-6, atol=1e-6)


def test_bfloat16_computation_stays_close_to_float32():
    rng = np.random.default_rng(6)
    ids = _token_ids(rng, BATCH, TIME, 9)
    ours, _ = _twin_layers({}, token_depth=9)
    half = LSTM(UNITS, token_depth=9, return_sequences=True, return_state=True, dtype="mixed_bfloat16")
    half(np.ones((1, 1), "int32"))
    half.set_weights(ours.get_weights())
    with tf.GradientTape() as tape:
        outputs, h, c = half(tf.constant(ids), mask=tf.constant(ids != 0))
        loss = tf.reduce_sum(tf.cast(h, "float32"))
    assert outputs.dtype == tf.bfloat16
    gradient = tape.gradient(loss, half.cell.recurrent_kernel)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(ours(tf.constant(ids), mask=tf.constant(ids != 0))[1])
    np.testing.assert_allclose(gradient, tape.gradient(loss, ours.cell.recurrent_kernel), atol=0.05)


def test_recurrent_dropout_and_export_tracing_keep_keras_loop():
    assert not LSTM(UNITS, recurrent_dropout=0.2).fused_kernel_applies()
    layer = LSTM(UNITS)
    with keras_loop_only():
        assert not layer.fused_kernel_applies()
    assert layer.fused_kernel_applies()


def test_the_layer_keeps_keras_class_name_so_saved_files_match():
    # `.keras` archives name the layers of a list after their class.
    assert LSTM.__name__ == keras.layers.LSTM.__name__
    layer = LSTM(UNITS, token_depth=5)
    assert LSTM.from_config(layer.get_config()).token_depth == 5
