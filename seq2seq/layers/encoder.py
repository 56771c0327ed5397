"""The recurrent encoder: source token ids to outputs and final states."""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.layers.recurrent import RecurrentStackLayer, run_stack


@keras.saving.register_keras_serializable(package="seq2seq")
class RecurrentEncoder(RecurrentStackLayer):
    """Token ids `(batch, src_len)` to `(outputs (batch, src_len, units), [final states])`.

    Padding (id 0, on the right) is masked, so each sentence's final state is the state
    after its last real token, whatever the padded length.
    """

    stack_prefix = "encoder"
    token_input_name = "source_tokens"

    def call(self, token_ids, training=None):
        mask = ops.not_equal(token_ids, 0)
        return run_stack(self.rnn_layers, self.stack_inputs(token_ids), mask, None, self.cell, training=training)
