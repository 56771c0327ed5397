"""Adam whose embedding updates are those of the dense gradient, on every backend.

On TensorFlow an embedding lookup's gradient reaches the optimizer as `IndexedSlices` with
one slice per occurrence of a token. Keras' Adam squares those slices one by one before
summing them, so its second moment holds the sum of squares instead of the square of the
sum: a token seen `k` times in a batch moves `sqrt(k)` times further than Adam allows (8
times for a token in every sentence of a batch of 64: the start token, the final period).
Those few embeddings then outgrow everything else within the first steps. Summing the
slices first gives Adam the gradient it was designed for, which is what JAX and PyTorch
already hand it.
"""

from __future__ import annotations

import keras


def dense_gradients(gradients: list) -> list:
    """Every `tf.IndexedSlices` gradient as the dense tensor it stands for (repeated rows summed)."""
    if keras.backend.backend() != "tensorflow":
        return list(gradients)
    import tensorflow as tf

    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]


@keras.saving.register_keras_serializable(package="seq2seq")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` applied to dense gradients (see the module docstring)."""

    def apply(self, grads, trainable_variables=None):
        return super().apply(dense_gradients(grads), trainable_variables)
