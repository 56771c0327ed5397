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


@keras.saving.register_keras_serializable(package="seq2seq")
class TiedOutput(keras.layers.Layer):
    """Logits through the token embedding's own matrix: `(outputs (..., width), embeddings (vocab, dim))` to
    `(..., vocab)`.

    Tied input and output embeddings (Press & Wolf 2017, "Using the Output Embedding to Improve
    Language Models"; Inan et al. 2017): the matrix that turns a token into a vector also scores
    each token against the decoder's output, so the two are one set of weights. Where the
    outputs' `width` differs from `embedding_dim`, a linear map without bias (`to_embedding`)
    brings them to the embedding's width first. The bias and that map are this layer's own
    weights; the matrix is given to every call by the layer that owns it.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.embedding_dim, self.width = vocab_size, embedding_dim, width
        self.supports_masking = True  # a mask on the outputs (padded steps) passes through
        self.to_embedding = (
            None if width == embedding_dim else keras.layers.Dense(embedding_dim, use_bias=False, name="to_embedding")
        )

    def build(self, input_shape):
        if self.to_embedding is not None:
            self.to_embedding.build((None, self.width))
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, outputs, embeddings):
        if self.to_embedding is not None:
            outputs = self.to_embedding(outputs)
        matrix = ops.cast(embeddings, self.compute_dtype)
        return ops.matmul(outputs, ops.transpose(matrix)) + ops.cast(self.bias, self.compute_dtype)

    def compute_output_shape(self, input_shape, embeddings_shape=None):
        return tuple(input_shape[:-1]) + (self.vocab_size,)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "width": self.width,
        }
