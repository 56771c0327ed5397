"""The objects a model is compiled with: Adam on dense gradients, so a token seen k times in a batch moves as far
as Adam allows, not sqrt(k) times further; each registered under the name saved files hold."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seq2seq.models.compile_objects import Adam, SmoothedTokenCrossentropy, TokenAccuracy, dense_gradients

LEARNING_RATE = 1e-3


def first_step_of_repeated_token(optimizer_class, occurrences: int) -> float:
    """How far one Adam step moves the row of a token looked up `occurrences` times, in learning rates."""
    import tensorflow as tf

    embedding = keras.layers.Embedding(5, 3, embeddings_initializer="zeros")
    embedding.build((None,))
    optimizer = optimizer_class(LEARNING_RATE)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(embedding(tf.constant([2] * occurrences + [3])))
    optimizer.apply_gradients(zip(tape.gradient(loss, embedding.trainable_variables), embedding.trainable_variables))
    return float(-embedding.embeddings.numpy()[2, 0] / LEARNING_RATE)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="only TensorFlow hands Adam sparse slices")
@pytest.mark.parametrize("occurrences", [1, 4, 64])
def test_a_repeated_token_moves_one_learning_rate_on_the_first_step(occurrences):
    assert first_step_of_repeated_token(Adam, occurrences) == pytest.approx(1.0, rel=1e-3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="only TensorFlow hands Adam sparse slices")
def test_keras_adam_on_the_slices_overshoots_as_the_module_says():
    # The defect this optimizer exists for: if Keras fixes it, this test says the subclass can go.
    assert first_step_of_repeated_token(keras.optimizers.Adam, 64) == pytest.approx(8.0, rel=1e-3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="IndexedSlices are TensorFlow's")
def test_dense_gradients_sum_repeated_rows():
    import tensorflow as tf

    slices = tf.IndexedSlices(tf.constant([[1.0], [2.0], [4.0]]), tf.constant([1, 1, 0]), tf.constant([3, 1]))
    dense, untouched = dense_gradients([slices, tf.constant([5.0])])
    np.testing.assert_array_equal(dense.numpy(), [[4.0], [3.0], [0.0]])
    assert untouched.numpy().tolist() == [5.0]


def test_the_optimizer_round_trips_through_its_config():
    optimizer = Adam(learning_rate=0.002, global_clipnorm=5.0)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is Adam
    assert restored.global_clipnorm == 5.0 and float(restored.learning_rate) == pytest.approx(0.002)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: TokenAccuracy(), "seq2seq>TokenAccuracy"),
        (lambda: SmoothedTokenCrossentropy(0.2), "seq2seq>SmoothedTokenCrossentropy"),
        (lambda: Adam(0.01), "seq2seq>Adam"),
    ],
)
def test_each_object_keeps_the_registered_name_that_saved_files_hold(make, name):
    made = make()
    assert keras.saving.get_registered_name(type(made)) == name
    assert keras.saving.serialize_keras_object(made)["registered_name"] == name
    assert keras.saving.get_registered_object(name) is type(made)


def test_the_loss_without_smoothing_is_keras_sparse_cross_entropy_over_real_tokens():
    """PyTorch trains with it instead of Keras' sparse loss (which moves the vocabulary axis there): same value."""
    rng = np.random.default_rng(0)
    targets = rng.integers(1, 7, (3, 5))
    targets[0, 3:], targets[2, 1:] = 0, 0  # padding
    logits = rng.normal(size=(3, 5, 7)).astype("float32")
    logits[..., 0] = -1e9  # the decoder never emits padding
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(targets, logits)
    ours = SmoothedTokenCrossentropy(0.0)(targets, logits)
    np.testing.assert_allclose(float(ours), float(keras_loss), rtol=1e-6)
    assert abs(float(SmoothedTokenCrossentropy(0.1)(targets, logits)) - float(ours)) > 1e-3  # the spread term counts
