"""The loss, metric and optimizer a model is compiled with for training, registered so that its file loads.

A model file's `compile_config` names these by their registered names (`seq2seq>TokenAccuracy`,
`seq2seq>SmoothedTokenCrossentropy`, `seq2seq>Adam`); `Seq2Seq` imports this module, so they
are known wherever a model is. Those names must never change: every saved file holds them.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seq2seq")
class TokenAccuracy(keras.metrics.Metric):
    """Share of real (non-padding) target tokens whose most probable prediction is right."""

    def __init__(self, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.right = self.add_variable(shape=(), initializer="zeros", name="right")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        real = ops.cast(ops.not_equal(y_true, 0), "float32")
        right = ops.cast(ops.equal(y_true, ops.cast(ops.argmax(y_pred, axis=-1), "int32")), "float32")
        self.right.assign_add(ops.sum(right * real))
        self.total.assign_add(ops.sum(real))

    def result(self):
        return self.right / ops.maximum(self.total, 1.0)


@keras.saving.register_keras_serializable(package="seq2seq")
class SmoothedTokenCrossentropy(keras.losses.Loss):
    """Cross-entropy per real target token with label smoothing (Szegedy et al. 2016).

    Each target keeps `1 - label_smoothing` of its probability; the rest is spread evenly over
    the tokens the decoder can emit. Padding targets (id 0) count for nothing, and the result
    is the mean over real tokens.
    """

    def __init__(self, label_smoothing: float = 0.1, name: str = "smoothed_token_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        target = -ops.take_along_axis(log_probs, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
        if self.label_smoothing:
            possible = ops.cast(y_pred > -1e8, "float32")  # the decoder never emits padding or start
            spread = -ops.sum(log_probs * possible, axis=-1) / ops.maximum(ops.sum(possible, axis=-1), 1.0)
            loss = (1.0 - self.label_smoothing) * target + self.label_smoothing * spread
        else:  # plain cross-entropy over real tokens (PyTorch's training loss: see training_loss)
            loss = target
        real = ops.cast(ops.not_equal(y_true, 0), "float32")
        # Keras averages over every position; weight real ones so that is the mean over real tokens.
        share = ops.cast(ops.size(real), "float32") / ops.maximum(ops.sum(real), 1.0)
        return loss * real * share

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def dense_gradients(gradients: list) -> list:
    """Every `tf.IndexedSlices` gradient as the dense tensor it stands for (repeated rows summed)."""
    if keras.backend.backend() != "tensorflow":
        return list(gradients)
    import tensorflow as tf

    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]


@keras.saving.register_keras_serializable(package="seq2seq")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` applied to dense gradients, so embedding updates are the same on every backend.

    On TensorFlow an embedding lookup's gradient reaches the optimizer as `IndexedSlices` with
    one slice per occurrence of a token. Keras' Adam squares those slices one by one before
    summing them, so its second moment holds the sum of squares instead of the square of the
    sum: a token seen `k` times in a batch moves `sqrt(k)` times further than Adam allows (8
    times for a token in every sentence of a batch of 64: the start token, the final period).
    Those few embeddings then outgrow everything else within the first steps. Summing the
    slices first gives Adam the gradient it was designed for, which is what JAX and PyTorch
    already hand it.
    """

    def apply(self, grads, trainable_variables=None):
        return super().apply(dense_gradients(grads), trainable_variables)
