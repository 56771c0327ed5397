"""The recurrent decoder: one set of layers for teacher forcing and for step-by-step search."""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.data.vocabulary import Vocabulary
from seq2seq.layers.recurrent import RecurrentStackLayer, run_stack, step_stack

START_ID = Vocabulary.start_id
NEVER = -1e9  # the logit of a token the decoder must never emit


@keras.saving.register_keras_serializable(package="seq2seq")
class RecurrentDecoder(RecurrentStackLayer):
    """Target token ids and initial states to logits over the target vocabulary.

    `call(token_ids (batch, tgt_len), states)` runs whole sequences (teacher forcing, or one
    step when `tgt_len` is 1) and returns `(logits (batch, tgt_len, vocab), new_states)`.
    `step(token_ids (batch,), states)` does the same for one step with the recurrent cells
    directly, for the compiled search loops.
    """

    stack_prefix = "decoder"
    token_input_name = "target_tokens"

    def __init__(self, vocab_size, **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.output_projection = keras.layers.Dense(vocab_size, name="output_projection")

    def call(self, token_ids, states, training=None):
        mask = ops.not_equal(token_ids, 0)
        inputs = self.token_input(token_ids)
        outputs, new_states = run_stack(self.rnn_layers, inputs, mask, list(states), self.cell, training=training)
        return self.logits(outputs), new_states

    def step(self, token_ids, states):
        """One decoding step: `token_ids (batch,)` to `(logits (batch, vocab), new_states)`."""
        inputs = self.token_input.call(token_ids)  # .call: no mask to attach to a single step
        outputs, new_states = step_stack(self.rnn_layers, inputs, list(states), self.cell)
        return self.logits(outputs), new_states

    def logits(self, outputs):
        """Project to the vocabulary; padding and start ids can never be predicted."""
        logits = ops.cast(self.output_projection(outputs), "float32")
        ids = ops.arange(self.vocab_size)
        possible = ops.logical_and(ops.not_equal(ids, 0), ops.not_equal(ids, START_ID))
        return ops.where(possible, logits, NEVER)
