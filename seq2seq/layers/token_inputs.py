"""How token ids enter a network: one-hot vectors (the classic recipe) or an embedding."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seq2seq")
class OneHot(keras.layers.Layer):
    """Token ids `(batch, time)` to one-hot vectors `(batch, time, depth)`; id 0 is masked.

    The one-hot product is computed inside the graph, so no one-hot array is ever stored.
    """

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(
                f"Received an invalid value for argument `depth`, expected a positive integer, got {depth!r}."
            )
        self.depth = depth
        self.supports_masking = True

    def call(self, token_ids):
        return ops.one_hot(ops.cast(token_ids, "int32"), self.depth, dtype=self.compute_dtype)

    def compute_mask(self, token_ids, mask=None):
        return ops.not_equal(token_ids, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.depth,)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


def token_input_layer(vocab_size: int, embedding_dim: int | None, name: str) -> keras.layers.Layer:
    """An `Embedding` of `embedding_dim` with id 0 masked, or `OneHot` where it is None."""
    if embedding_dim is None:
        return OneHot(vocab_size, name=name)
    return keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name=name)
