"""What differs between Keras backends: how a search loop is compiled."""

from __future__ import annotations

import keras


def compile_search(function):
    """Compile `function(source_ids (batch, src_len), max_lengths (batch,)) -> ids` for this backend.

    TensorFlow traces it once for all shapes; JAX compiles once per padded shape;
    PyTorch runs it eagerly without gradients.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        signature = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)]
        return tf.function(function, input_signature=signature, reduce_retracing=True)
    if backend == "jax":
        import jax

        return jax.jit(function)
    if backend == "torch":
        import torch

        def run_without_gradients(source_ids, max_lengths):
            with torch.no_grad():
                return function(source_ids, max_lengths)

        return run_without_gradients
    return function


def scan(step, init, xs, ys_like):
    """Run `step(carry, x_t) -> (carry, y_t)` along the first axis of `xs`, differentiably.

    Returns `(final carry, ys stacked on a new first axis)`. `ys_like` is a structure of zero
    tensors shaped like one `y_t`. On TensorFlow this uses `tf.scan` (Keras' TensorFlow
    `ops.scan` needs every `y_t` shaped like the carry); elsewhere `keras.ops.scan`.
    """
    if keras.backend.backend() != "tensorflow":
        return keras.ops.scan(step, init, xs)
    import tensorflow as tf

    def accumulate(accumulated, inputs_t):
        carry, _ = accumulated
        return step(carry, inputs_t)

    carries, ys = tf.scan(accumulate, xs, initializer=(init, ys_like))
    return tf.nest.map_structure(lambda stacked: stacked[-1], carries), ys
