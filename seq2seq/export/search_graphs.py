"""The Keras models behind an ONNX export's search graphs: the encoder with attention keys, and the search step.

The classic `decoder_model` recomputes, at every step, what does not change during a search:
the attention keys of the encoder outputs (a `src_len x units x units` product per row, as costly
as the output projection at beam 5), and it runs its one step inside a loop with masking. The
search step here is `Seq2Seq.search_step`'s own arithmetic, the decoder's `step` or
`attended_step` over keys computed once by the encoder:

- `search_encoder`: `encoder_tokens` -> the classic encoder's outputs, plus `attention_keys
  (batch, src_len, key_units)` for attention models;
- `search_step`: `decoder_tokens (rows,)`, the states, and for attention models
  `encoder_outputs`, `attention_keys`, `encoder_mask` -> `logits (rows, vocab)`, the new states,
  and the attention weights `(rows, src_len)` for attention models.

`onnx_search.py` then replaces the logits output by each row's best tokens by log-probability.
Keras is imported when these are built (only by the exporter), never by the runner.
"""

from __future__ import annotations

KEYS = "attention_keys"


def search_encoder(model):
    """The classic encoder model, with the attention keys as one more output for attention models."""
    import keras

    encoder = model.encoder_model
    if not model.has_attention:
        return encoder
    outputs = encoder.outputs[len(model.state_names)]  # encoder_outputs, after the states
    keys = keras.layers.Identity(name=KEYS)(model.decoder.attention_layer.keys(outputs))
    return keras.Model(encoder.inputs, [*encoder.outputs, keys], name="search_encoder")


def search_step(model):
    """One decoder step as the searches take it, from tokens `(rows,)` and memory prepared by the encoder."""
    import keras

    class SearchStep(keras.layers.Layer):
        """`decoder.step` or `decoder.attended_step` as one layer: logits, new states (and weights)."""

        def __init__(self, decoder, **kwargs):
            super().__init__(**kwargs)
            self.decoder = decoder

        def call(self, tokens, states, memory=None):
            if memory is None:
                logits, new_states = self.decoder.step(tokens, states)
                return [logits, *new_states]
            outputs, keys, mask = memory
            prepared = (outputs, keys, keras.ops.cast(mask, "bool"))
            logits, new_states, weights = self.decoder.attended_step(tokens, states, prepared)
            return [logits, *new_states, weights]

    tokens = keras.Input((), dtype="int32", name="decoder_tokens")
    units = model.model_config.decoder_units
    states = [keras.Input((units,), name=name) for name in model.state_names]
    memory = None
    if model.has_attention:
        attention, memory_units = model.decoder.attention_layer, model.model_config.encoder_output_units
        key_units = memory_units if attention.attention == "luong-dot" else attention.key_projection.units
        memory = (
            keras.Input((None, memory_units), name="encoder_outputs"),
            keras.Input((None, key_units), name=KEYS),
            keras.Input((None,), name="encoder_mask"),
        )
    outputs = SearchStep(model.decoder, name="search_step")(tokens, states, memory)
    return keras.Model([tokens, *states, *(memory or ())], outputs, name="search_step")


def step_names(model) -> tuple[list[str], list[str]]:
    """The search step's input names and (before `onnx_search.py`'s change) output names, in order."""
    memory = ["encoder_outputs", KEYS, "encoder_mask"] if model.has_attention else []
    outputs = ["logits", *(f"new_{name}" for name in model.state_names)]
    return ["decoder_tokens", *model.state_names, *memory], outputs + (["attention_weights"] if memory else [])
