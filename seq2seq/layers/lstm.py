"""`LSTM`: Keras' LSTM, run by a fused kernel where one applies.

The layer is `keras.layers.LSTM` with the same weights and results; only the loop over time
differs. On TensorFlow without a GPU it runs `seq2seq.kernels.tensorflow_lstm.fused_lstm` (with
a GPU Keras' own cuDNN path is faster); on PyTorch `seq2seq.kernels.torch_lstm.fused_lstm`
(PyTorch's own LSTM operator: oneDNN on a CPU, cuDNN on a GPU), where Keras' loop runs masked
sequences step by step in Python. JAX and other configurations (other activations, recurrent
dropout, unrolling, stateful layers) keep Keras' loop.

With `token_depth`, the layer reads token ids `(batch, time)` as one-hot vectors of that depth
(the classic recipe's inputs), and the fused kernel turns the one-hot product into a row lookup.
Its weights are those of an LSTM over the one-hot vectors, so its cell still steps on them.
"""

from __future__ import annotations

import contextlib
import functools

import keras
from keras import ops

_keras_loop_forced = False


@contextlib.contextmanager
def keras_loop_only():
    """Trace layers with Keras' own loop inside this block (for exported graphs, which carry no gradient)."""
    global _keras_loop_forced
    previous, _keras_loop_forced = _keras_loop_forced, True
    try:
        yield
    finally:
        _keras_loop_forced = previous


@functools.cache
def _fused_kernel():
    """This backend's fused LSTM function, or None: TensorFlow's without a GPU, PyTorch's on any device."""
    backend = keras.backend.backend()
    if backend == "torch":
        from seq2seq.kernels.torch_lstm import fused_lstm

        return fused_lstm
    if backend != "tensorflow":
        return None
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        return None
    from seq2seq.kernels.tensorflow_lstm import fused_lstm

    return fused_lstm


@keras.saving.register_keras_serializable(package="seq2seq")
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` whose loop runs fused on TensorFlow CPUs and on PyTorch; masks must be right-padded.

    `token_depth`: None for feature inputs `(batch, time, features)`; an int for token ids
    `(batch, time)` read as one-hot vectors of that depth.

    It keeps the class name of the layer it stands for: `.keras` files name a list's layers
    after their class, so files written with `keras.layers.LSTM` and with this layer load alike.
    """

    def __init__(self, units, token_depth=None, **kwargs):
        super().__init__(units, **kwargs)
        if token_depth is not None and (
            isinstance(token_depth, bool) or not isinstance(token_depth, int) or token_depth < 1
        ):
            raise ValueError(
                "Received an invalid value for argument `token_depth`, expected a positive integer or None, got "
                f"{token_depth!r}."
            )
        self.token_depth = token_depth
        if token_depth is not None:
            self.input_spec = keras.layers.InputSpec(ndim=2)

    def fused_kernel_applies(self) -> bool:
        """Whether this layer's loop can run on the fused kernel."""
        cell = self.cell
        return (
            not _keras_loop_forced
            and _fused_kernel() is not None
            and cell.activation is keras.activations.tanh
            and cell.recurrent_activation is keras.activations.sigmoid
            and not cell.recurrent_dropout
            and not self.unroll
            and not self.stateful
        )

    def build(self, sequences_shape, initial_state_shape=None):
        if self.token_depth is not None:
            sequences_shape = (*tuple(sequences_shape)[:2], self.token_depth)
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.token_depth is None:
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        if not self.fused_kernel_applies():
            one_hot = ops.one_hot(ops.cast(sequences, "int32"), self.token_depth, dtype=self.compute_dtype)
            return super().call(one_hot, initial_state=initial_state, mask=mask, training=training)
        batch = ops.shape(sequences)[0]
        if initial_state is None:
            initial_state = self.get_initial_state(batch)
        initial_state = [ops.cast(state, self.compute_dtype) for state in initial_state]
        dropout_mask = None
        if self.dropout:  # drawn on every call, as Keras' loop does, so the seed advances alike
            dropout_mask = self.cell.get_dropout_mask(ops.zeros((batch, self.token_depth), self.compute_dtype))
            self.cell.reset_dropout_mask()
        if not training:
            dropout_mask = None
        last_output, outputs, states = self._fused_loop(sequences, initial_state, mask, dropout_mask)
        output = outputs if self.return_sequences else last_output
        return (output, *states) if self.return_state else output

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self.fused_kernel_applies():
            return super().inner_loop(sequences, initial_state, mask=mask, training=training)
        dropout_mask = self.cell.get_dropout_mask(sequences[:, 0, :]) if training and self.dropout else None
        return self._fused_loop(sequences, initial_state, mask, dropout_mask)

    def _fused_loop(self, sequences, initial_state, mask, dropout_mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        cell = self.cell
        kernel, recurrent_kernel = ops.convert_to_tensor(cell.kernel), ops.convert_to_tensor(cell.recurrent_kernel)
        bias = ops.convert_to_tensor(cell.bias) if cell.use_bias else ops.zeros((4 * cell.units,), kernel.dtype)
        h0, c0 = initial_state
        return _fused_kernel()(
            sequences,
            mask,
            h0,
            c0,
            kernel,
            recurrent_kernel,
            bias,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            dropout_mask=dropout_mask,
        )

    def get_config(self):
        return {**super().get_config(), "token_depth": self.token_depth}
