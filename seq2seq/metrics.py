"""Training metrics that count real tokens only."""

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
