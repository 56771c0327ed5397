"""What differs between Keras backends: how a search loop is compiled."""

from __future__ import annotations

import keras


def compiles_per_shape() -> bool:
    """Whether this backend compiles a search program per shape of its inputs (JAX's XLA does).

    TensorFlow traces once for every shape and PyTorch runs eagerly, so there a batch keeps
    its own shape; under JAX searches pad their batches to a few fixed shapes.
    """
    return keras.backend.backend() == "jax"


def compile_search(function):
    """Compile `function(source_ids (batch, src_len), max_lengths (batch,), width)` for this backend.

    `width` is the output buffer's width, a Python int. TensorFlow traces once for all shapes
    and widths (the width is passed as a tensor); JAX compiles once per padded shape and width
    (static); PyTorch runs eagerly without gradients.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        signature = [
            tf.TensorSpec([None, None], tf.int32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([], tf.int32),
        ]
        compiled = tf.function(function, input_signature=signature, reduce_retracing=True)

        def run_traced(source_ids, max_lengths, width):
            return compiled(source_ids, max_lengths, tf.constant(width, tf.int32))

        run_traced.tf_function = compiled  # for counting traces
        return run_traced
    if backend == "jax":
        import jax

        return jax.jit(function, static_argnums=2)
    if backend == "torch":
        import torch

        def run_without_gradients(source_ids, max_lengths, width):
            with torch.no_grad():  # inputs go to Keras' device once, not to the CPU and then again per op
                return function(
                    keras.ops.convert_to_tensor(source_ids), keras.ops.convert_to_tensor(max_lengths), width
                )

        return run_without_gradients
    return function


def compile_state_loop(function):
    """Compile `function(state, until) -> state` for this backend; `state` is a tree of tensors (NamedTuples).

    `until` is an int. TensorFlow traces once for every shape of the state's tensors (all
    axes unknown); JAX compiles once per shape; PyTorch runs eagerly without gradients.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = {}

        def run_traced(state, until):
            if not compiled:
                unknown = tf.nest.map_structure(lambda t: tf.TensorSpec([None] * len(t.shape), t.dtype), state)
                compiled["function"] = tf.function(function, input_signature=[unknown, tf.TensorSpec([], tf.int32)])
                run_traced.tf_function = compiled["function"]  # for counting traces
            return compiled["function"](state, tf.constant(until, tf.int32))

        return run_traced
    if backend == "jax":
        import jax

        return jax.jit(function)
    if backend == "torch":
        import torch

        def run_without_gradients(state, until):
            with torch.no_grad():
                return function(state, until)

        return run_without_gradients
    return function


def scan(step, init, xs, ys_like):
    """Run `step(carry, x_t) -> (carry, y_t)` along the first axis of `xs`, differentiably.

    Returns `(final carry, ys stacked on a new first axis)`; with no steps, `(init, empty)`.
    `ys_like` is a structure of tensors shaped like one `y_t`. On TensorFlow this is a
    `tf.while_loop` writing only the `y_t` to tensor arrays (Keras' TensorFlow `ops.scan` needs
    every `y_t` shaped like the carry); elsewhere `keras.ops.scan`.
    """
    if keras.backend.backend() != "tensorflow":
        return keras.ops.scan(step, init, xs)
    import tensorflow as tf

    flat_xs = [tf.convert_to_tensor(x) for x in tf.nest.flatten(xs)]
    steps = tf.shape(flat_xs[0])[0]
    x_arrays = [tf.TensorArray(x.dtype, size=steps).unstack(x) for x in flat_xs]
    flat_like = tf.nest.flatten(ys_like)
    y_arrays = [tf.TensorArray(y.dtype, size=steps, element_shape=y.shape) for y in flat_like]

    def body(t, carry, arrays):
        x_t = tf.nest.pack_sequence_as(xs, [array.read(t) for array in x_arrays])
        carry, y_t = step(carry, x_t)
        arrays = [array.write(t, y) for array, y in zip(arrays, tf.nest.flatten(y_t))]
        return t + 1, carry, arrays

    _, carry, y_arrays = tf.while_loop(lambda t, *_: t < steps, body, (tf.constant(0), init, y_arrays))
    return carry, tf.nest.pack_sequence_as(ys_like, [array.stack() for array in y_arrays])
