"""The recurrent decoder: one set of layers for teacher forcing and for step-by-step search.

Without attention, whole sequences run through Keras' recurrent layers. With attention, every
step follows Luong et al. (2015) with input feeding: the step's input is the token's vector
joined to the previous attentional vector; the top recurrent output queries the encoder
outputs; `tanh(W [context; output])` is the new attentional vector, which predicts the token
and is carried to the next step as the last state. Keras 3's `RNN` takes no per-step
constants, so that loop is a scan over the one `attention_step` that the search
uses too; on PyTorch, where that scan is a Python loop of Keras calls, the same arithmetic runs
as one function over the layers' weights (`seq2seq.kernels.torch_attention`) where it applies.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from keras import ops

from seq2seq.compiled_loops import scan
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.layers.attention import Attention
from seq2seq.layers.former_keys import current_keys
from seq2seq.layers.recurrent import RecurrentStackLayer, run_stack, step_stack
from seq2seq.layers.token_inputs import TiedOutput

START_ID = Vocabulary.start_id
IMPOSSIBLE = -1e9  # a logit, log-probability or score below any real one: a token or hypothesis never chosen


@functools.cache
def _torch_attention_kernel():
    """`seq2seq.kernels.torch_attention` on PyTorch (the teacher-forced attention loop in one function), else None."""
    if keras.backend.backend() != "torch":
        return None
    from seq2seq.kernels import torch_attention

    return torch_attention


@keras.saving.register_keras_serializable(package="seq2seq")
class RecurrentDecoder(RecurrentStackLayer):
    """Target token ids and initial states to logits over the target vocabulary.

    `call(token_ids (batch, tgt_len), states, memory)` runs whole sequences (teacher forcing,
    or one step when `tgt_len` is 1) and returns `(logits (batch, tgt_len, vocab), new_states)`,
    plus the attention weights `(batch, tgt_len, src_len)` for attention models; `memory` is
    `(encoder outputs, source mask)` for attention models, else None. `step(token_ids (batch,), states, prepared)`
    does one step for the search loops, with `prepared = prepare_memory(memory)`. With
    `tie_embeddings` the output projection scores with the token embedding's matrix (`TiedOutput`).

    Settings take the command line's names: `attention` is its kind (`"none"` for none; the layer
    itself is `attention_layer`), and `decoder_units` the decoder's width, which is twice the
    encoder's `units` where a bidirectional encoder's states are joined side by side.
    """

    stack_prefix = "decoder"
    token_input_name = "target_tokens"

    def __init__(
        self, vocab_size, decoder_units=256, attention="none", memory_units=None, tie_embeddings=False, **kwargs
    ):
        # With attention, every step's input joins the token to the attentional vector.
        super().__init__(vocab_size, units=decoder_units, whole_sequence_inputs=attention == "none", **kwargs)
        self.decoder_units = decoder_units
        self.attention = attention
        self.memory_units = memory_units
        if attention != "none":
            self.attention_layer = Attention(attention, decoder_units, memory_units, name="attention")
            self.attentional = keras.layers.Dense(decoder_units, activation="tanh", use_bias=False, name="attentional")
            self.input_dropout = keras.layers.Dropout(self.dropout, name="input_dropout")
        self.tie_embeddings = tie_embeddings  # the output projection's matrix is the token embedding's
        if tie_embeddings:
            self.output_projection = TiedOutput(vocab_size, self.embedding_dim, decoder_units, name="output_projection")
        else:
            self.output_projection = keras.layers.Dense(vocab_size, name="output_projection")

    @property
    def has_attention(self) -> bool:
        return self.attention != "none"

    def build(self, token_ids_shape):
        """Create the attention path's weights up front: a loop body must not create variables."""
        if self.has_attention:
            token_width = self.embedding_dim or self.vocab_size
            input_width = token_width + self.decoder_units  # the token's vector and the previous attentional vector
            for layer in self.rnn_layers:
                layer.build((None, None, input_width))
                input_width = self.decoder_units
            self.token_input.build(token_ids_shape)
            self.attention_layer.build_for(self.decoder_units, self.memory_units)
            self.attentional.build((None, self.memory_units + self.decoder_units))
            self.output_projection.build((None, self.decoder_units))
        self.built = True

    def call(self, token_ids, states, memory=None, training=None):
        if not self.has_attention:
            mask = ops.not_equal(token_ids, 0)
            inputs = self.stack_inputs(token_ids)
            outputs, new_states = run_stack(self.rnn_layers, inputs, mask, list(states), self.cell, training=training)
            return self.logits(outputs), new_states
        prepared = self.prepare_memory(memory)
        inputs = self.input_dropout(self.token_input.call(token_ids), training=training)
        kernel = _torch_attention_kernel()
        if kernel is not None and kernel.decoder_applies(self):
            feeds, final_states, weights = kernel.run_decoder(self, inputs, token_ids, states, prepared)
            return self.logits(feeds), final_states, weights

        def one_step(carry, step_inputs):
            inputs_t, real_t = step_inputs
            feed, new_carry, weights = self.attention_step(inputs_t, carry, prepared)
            # A padded target step carries the states on unchanged, as Keras' masking does without attention.
            new_carry = [ops.where(real_t, new, old) for new, old in zip(new_carry, carry)]
            return new_carry, (feed, weights)

        outputs, keys, mask = prepared
        ys_like = (ops.zeros_like(states[-1]), ops.zeros_like(ops.cast(mask, outputs.dtype)))
        real = ops.expand_dims(ops.transpose(ops.not_equal(token_ids, 0)), -1)  # (tgt_len, batch, 1)
        step_inputs = (ops.transpose(inputs, (1, 0, 2)), real)
        final_states, (feeds, weights) = scan(one_step, list(states), step_inputs, ys_like)
        feeds, weights = ops.transpose(feeds, (1, 0, 2)), ops.transpose(weights, (1, 0, 2))
        return self.logits(feeds), list(final_states), weights

    def prepare_memory(self, memory):
        """`(encoder outputs, mask)` to what every attention step reads: outputs, keys, mask."""
        if not self.has_attention:
            return None
        outputs, mask = memory
        return outputs, self.attention_layer.keys(outputs), ops.cast(mask, "bool")

    def attention_step(self, inputs_t, states, prepared):
        """One input-feeding step: returns (attentional vector, new states, attention weights)."""
        outputs, keys, mask = prepared
        rnn_states, feed = list(states[:-1]), states[-1]
        top, rnn_states = step_stack(self.rnn_layers, ops.concatenate([inputs_t, feed], axis=-1), rnn_states, self.cell)
        context, weights = self.attention_layer(top, outputs, keys, mask)
        feed = self.attentional(ops.concatenate([context, top], axis=-1))
        return feed, rnn_states + [feed], weights

    def step(self, token_ids, states, prepared=None):
        """One decoding step: `token_ids (batch,)` to `(logits (batch, vocab), new_states)`."""
        if self.has_attention:
            logits, new_states, _ = self.attended_step(token_ids, states, prepared)
            return logits, new_states
        inputs = self.token_input.call(token_ids)  # .call: no mask to attach to a single step
        outputs, new_states = step_stack(self.rnn_layers, inputs, list(states), self.cell)
        return self.logits(outputs), new_states

    def attended_step(self, token_ids, states, prepared):
        """One attention step: `(logits (batch, vocab), new_states, attention weights (batch, src_len))`."""
        inputs = self.token_input.call(token_ids)
        feed, new_states, weights = self.attention_step(inputs, list(states), prepared)
        return self.logits(feed), new_states, weights

    def start_from_token_prior(self, token_counts) -> None:
        """Set the output bias to the log frequency of each target token (add-one smoothed).

        With a zero bias the only fast way to the token prior is a large, constant output
        vector: every weight moves about one learning rate per Adam step, so a 256-wide output
        reaches a needed logit of -5 hundreds of times sooner than its bias does. The first
        few dozen steps then saturate the attentional vector, and through input feeding the
        recurrent state; the query stops depending on the step and the attention settles on
        one fixed source position for good. Starting at the prior leaves nothing to saturate for.
        """
        counts = np.asarray(token_counts, dtype="float64") + 1.0
        if counts.shape != (self.vocab_size,):
            raise ValueError(f"expected {self.vocab_size} token counts, got shape {counts.shape}.")
        log_prior = np.log(counts / counts.sum())
        self.output_projection.bias.assign((log_prior - log_prior.mean()).astype(self.output_projection.bias.dtype))

    def logits(self, outputs):
        """Project to the vocabulary; padding and start ids can never be predicted."""
        if self.tie_embeddings:
            logits = ops.cast(self.output_projection(outputs, self.token_input.embeddings), "float32")
        else:
            logits = ops.cast(self.output_projection(outputs), "float32")
        ids = ops.arange(self.vocab_size)
        possible = ops.logical_and(ops.not_equal(ids, 0), ops.not_equal(ids, START_ID))
        return ops.where(possible, logits, IMPOSSIBLE)

    def get_config(self):
        config = {key: value for key, value in super().get_config().items() if key != "units"}
        return {
            **config,
            "decoder_units": self.decoder_units,
            "attention": self.attention,
            "memory_units": self.memory_units,
            "tie_embeddings": self.tie_embeddings,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**current_keys(config, {"units": "decoder_units"}))
