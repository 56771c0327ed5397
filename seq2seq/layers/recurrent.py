"""Stacks of recurrent layers and the names of their states.

An LSTM layer carries two states (`h`, `c`), a GRU layer one (`h`). A stack of N layers
carries the states of each layer in order: `[h_0, c_0, h_1, c_1, ...]`.
"""

from __future__ import annotations

import contextlib

import keras

from seq2seq.layers.lstm import LSTM
from seq2seq.layers.token_inputs import token_input_layer

RNN_CLASSES = {"lstm": LSTM, "gru": keras.layers.GRU}
STATE_KINDS = {"lstm": ("h", "c"), "gru": ("h",)}
DROPOUT_CELLS = (keras.layers.LSTMCell, keras.layers.GRUCell, keras.layers.SimpleRNNCell)


def state_names(cell: str, layers: int) -> list[str]:
    """Names of the states of a stack, e.g. `["state_h_0", "state_c_0"]` for one LSTM."""
    return [f"state_{kind}_{layer}" for layer in range(layers) for kind in STATE_KINDS[cell]]


def recurrent_stack(
    cell: str, units: int, layers: int, dropout: float, prefix: str, bidirectional=False, token_depth: int | None = None
) -> list:
    """`layers` recurrent layers returning full sequences and their final states.

    A bidirectional layer returns `[outputs, *forward_states, *backward_states]`, its outputs
    being both directions concatenated. With `token_depth` (LSTM only), the first layer reads
    token ids as one-hot vectors of that depth.
    """
    rnn_class = RNN_CLASSES[cell]
    stack = []
    for index in range(layers):
        extra = {"token_depth": token_depth} if index == 0 and token_depth is not None else {}
        layer = rnn_class(
            units, return_sequences=True, return_state=True, dropout=dropout, name=f"{prefix}_{cell}_{index}", **extra
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode="concat", name=f"{prefix}_bi{cell}_{index}")
        stack.append(layer)
    return stack


def split_states(states: list, cell: str) -> list[list]:
    """Group a flat state list into one list per layer."""
    per_layer = len(STATE_KINDS[cell])
    return [list(states[i : i + per_layer]) for i in range(0, len(states), per_layer)]


def run_stack(rnn_layers: list, inputs, mask, initial_states: list | None, cell: str, training=None):
    """Run a stack over whole sequences; return (last layer outputs, flat final states)."""
    grouped = split_states(initial_states, cell) if initial_states else [None] * len(rnn_layers)
    outputs, final_states = inputs, []
    for layer, layer_states in zip(rnn_layers, grouped):
        extra = {} if layer_states is None else {"initial_state": layer_states}
        outputs, *states = layer(outputs, mask=mask, training=training, **extra)
        final_states.extend(states)
    return outputs, final_states


def step_stack(rnn_layers: list, inputs, states: list, cell: str):
    """Advance a stack by one time step with its cells: `inputs (batch, features)`."""
    outputs, new_states = inputs, []
    for layer, layer_states in zip(rnn_layers, split_states(states, cell)):
        outputs, layer_new = layer.cell(outputs, layer_states, training=False)
        new_states.extend(layer_new)
    return outputs, new_states


@contextlib.contextmanager
def recurrent_dropout_off(model):
    """Within this block no recurrent cell of `model` draws a dropout mask.

    Keras' recurrent cells draw their masks on every call, in inference too (then unused).
    Drawing advances a seed generator: inside a compiled search that is a side effect, which
    on JAX leaks a tracer into the generator's state and breaks the next call. Inference
    applies no dropout, so searches run their layers in this block.
    """
    members = getattr(model, "models", [model])  # an ensemble's models
    cells = [layer for member in members for layer in member._flatten_layers() if isinstance(layer, DROPOUT_CELLS)]
    saved = [(cell.dropout, cell.recurrent_dropout) for cell in cells]
    for cell in cells:
        cell.dropout = cell.recurrent_dropout = 0.0
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    try:
        yield
    finally:
        for cell, (dropout, recurrent_dropout) in zip(cells, saved):
            cell.dropout, cell.recurrent_dropout = dropout, recurrent_dropout


class RecurrentStackLayer(keras.layers.Layer):
    """Shared settings of the encoder and decoder: token inputs and a recurrent stack.

    Where the tokens enter as one-hot vectors of an LSTM stack that runs whole sequences
    (`whole_sequence_inputs`), the first layer reads the token ids itself
    (`seq2seq.layers.lstm.LSTM` with `token_depth`): the same weights and results, and its
    kernel turns the one-hot product into a row lookup.
    """

    stack_prefix = "rnn"  # names the recurrent layers: "<prefix>_lstm_0", ...
    token_input_name = "tokens"

    def __init__(
        self,
        vocab_size,
        cell="lstm",
        units=256,
        layers=1,
        embedding_dim=None,
        dropout=0.0,
        bidirectional=False,
        whole_sequence_inputs=True,
        token_input=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.bidirectional = bidirectional
        self.cell = cell
        self.units = units
        self.layers = layers
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        # `token_input`: another stack's embedding to read tokens through (one matrix for both sides)
        self.token_input = token_input or token_input_layer(vocab_size, embedding_dim, name=self.token_input_name)
        self.reads_token_ids = whole_sequence_inputs and embedding_dim is None and cell == "lstm"
        token_depth = vocab_size if self.reads_token_ids else None
        if self.reads_token_ids:  # one-hot vectors hold no weights; only single decoding steps use them
            self.token_input.build((None, None))
        self.rnn_layers = recurrent_stack(cell, units, layers, dropout, self.stack_prefix, bidirectional, token_depth)

    def stack_inputs(self, token_ids):
        """What the first recurrent layer reads over whole sequences: the ids, or their vectors."""
        return token_ids if self.reads_token_ids else self.token_input(token_ids)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "cell": self.cell,
            "units": self.units,
            "layers": self.layers,
            "embedding_dim": self.embedding_dim,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
        }
