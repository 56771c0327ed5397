"""Token ids into a network: one-hot vectors with padding masked, or a masked embedding."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.layers.token_inputs import OneHot, TiedOutput, token_input_layer

BATCH, TIME, DEPTH, EMBEDDING = 3, 5, 11, 6  # all different
IDS = np.array([[4, 10, 1, 7, 2], [3, 5, 0, 0, 0], [9, 0, 0, 0, 0]], "int32")


def test_one_hot_vectors_have_a_one_at_each_id_and_the_mask_marks_the_real_tokens():
    layer = OneHot(DEPTH)
    vectors = ops.convert_to_numpy(layer(IDS))
    assert vectors.shape == (BATCH, TIME, DEPTH) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, np.eye(DEPTH, dtype="float32")[IDS])
    np.testing.assert_array_equal(ops.convert_to_numpy(layer.compute_mask(IDS)), IDS != 0)
    assert layer.compute_output_shape((BATCH, TIME)) == (BATCH, TIME, DEPTH)


def test_one_hot_vectors_take_the_compute_dtype_of_a_mixed_precision_policy():
    vectors = OneHot(DEPTH, dtype="mixed_bfloat16")(IDS)
    assert keras.backend.standardize_dtype(vectors.dtype) == "bfloat16"


@pytest.mark.parametrize("depth", [0, -3, 2.0, True, None], ids=repr)
def test_a_depth_that_is_not_a_positive_integer_is_refused_and_named(depth):
    with pytest.raises(ValueError, match=re.escape(f"positive integer, got {depth!r}.")):
        OneHot(depth)


def test_one_hot_rebuilt_from_its_config_and_from_a_keras_file_gives_the_same_vectors(tmp_path):
    layer = OneHot(DEPTH, name="tokens")
    copy = OneHot.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    model = keras.Sequential([keras.Input((None,), dtype="int32"), layer])
    model.save(tmp_path / "one_hot.keras")
    loaded = keras.saving.load_model(tmp_path / "one_hot.keras")
    expected = ops.convert_to_numpy(layer(IDS))
    np.testing.assert_array_equal(ops.convert_to_numpy(copy(IDS)), expected)
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded(IDS)), expected)


def test_without_an_embedding_width_tokens_enter_as_one_hot_vectors_of_the_vocabulary():
    layer = token_input_layer(DEPTH, None, name="source_tokens")
    assert isinstance(layer, OneHot) and layer.depth == DEPTH and layer.name == "source_tokens"


def test_with_an_embedding_width_tokens_enter_as_vectors_with_id_0_masked():
    layer = token_input_layer(DEPTH, EMBEDDING, name="target_tokens")
    assert isinstance(layer, keras.layers.Embedding) and layer.name == "target_tokens"
    vectors = layer(IDS)
    assert tuple(vectors.shape) == (BATCH, TIME, EMBEDDING)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer.compute_mask(IDS)), IDS != 0)


def test_tied_logits_are_the_outputs_times_the_transposed_embedding_plus_the_bias():
    rng = np.random.default_rng(3)
    outputs, matrix = rng.normal(size=(BATCH, TIME, EMBEDDING)), rng.normal(size=(DEPTH, EMBEDDING))
    layer = TiedOutput(DEPTH, EMBEDDING, EMBEDDING)
    layer.build((BATCH, TIME, EMBEDDING))
    layer.bias.assign(rng.normal(size=DEPTH))
    logits = ops.convert_to_numpy(layer(outputs.astype("float32"), matrix.astype("float32")))
    assert logits.shape == (BATCH, TIME, DEPTH) and layer.to_embedding is None
    np.testing.assert_allclose(logits, outputs @ matrix.T + ops.convert_to_numpy(layer.bias), rtol=1e-5, atol=1e-5)
    assert [weight.shape for weight in layer.weights] == [(DEPTH,)]  # the matrix is not its own


def test_tied_outputs_of_another_width_are_first_mapped_linearly_to_the_embedding_width():
    width = 4
    rng = np.random.default_rng(5)
    outputs, matrix = rng.normal(size=(BATCH, width)).astype("float32"), rng.normal(size=(DEPTH, EMBEDDING))
    layer = TiedOutput(DEPTH, EMBEDDING, width)
    logits = ops.convert_to_numpy(layer(outputs, matrix.astype("float32")))
    kernel = ops.convert_to_numpy(layer.to_embedding.kernel)
    assert kernel.shape == (width, EMBEDDING)
    np.testing.assert_allclose(logits, outputs @ kernel @ matrix.T, rtol=1e-4, atol=1e-4)


def test_a_tied_output_rebuilt_from_its_config_has_the_same_sizes():
    layer = TiedOutput(DEPTH, EMBEDDING, 4, name="output_projection")
    copy = TiedOutput.from_config(layer.get_config())
    assert (copy.vocab_size, copy.embedding_dim, copy.width, copy.name) == (DEPTH, EMBEDDING, 4, "output_projection")
