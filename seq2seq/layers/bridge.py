"""How encoder final states become decoder initial states.

Kinds:
- `concat`: a bidirectional encoder's forward and backward states side by side (the decoder
  is twice as wide); a one-way encoder's states as they are (the classic recipe);
- `sum`: forward + backward;
- `dense`: `tanh(W [forward; backward])`, a learned projection to the decoder's width;
- `mean`: `tanh(W mean(encoder outputs))`, the masked mean over the source positions;
- `zero`: no state passed (the decoder learns the source through attention only).

Depths may differ. With a decoder of L layers over an encoder of E: where L <= E, decoder
layer i starts from encoder layer i + E - L (the top layers meet); where L > E, decoder layer
i starts from encoder layer min(i, E - 1).
"""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.layers.former_keys import current_keys
from seq2seq.layers.recurrent import STATE_KINDS

KINDS = ("concat", "sum", "dense", "mean", "zero")


def source_layer(decoder_layer: int, encoder_layers: int, decoder_layers: int) -> int:
    """The encoder layer whose final states initialise `decoder_layer`."""
    if decoder_layers <= encoder_layers:
        return decoder_layer + encoder_layers - decoder_layers
    return min(decoder_layer, encoder_layers - 1)


def zero_rows(like, width: int):
    """Zeros `(batch, width)` with the batch size and dtype of `like (batch, features)`; works symbolically.

    Built from `like` alone (no captured constant tensor), so exported graphs need no extra input.
    """
    return ops.tile(ops.zeros_like(like[:, :1]), (1, width))


@keras.saving.register_keras_serializable(package="seq2seq")
class Bridge(keras.layers.Layer):
    """`(encoder final states (flat), encoder outputs, source mask)` to decoder initial states (flat).

    `bridge` is one of `KINDS` (the command line's `--bridge`); `decoder_units` is the decoder's
    width, twice the encoder's where `concat` joins a bidirectional encoder's two directions.
    """

    def __init__(self, bridge, cell, encoder_layers, decoder_layers, bidirectional, decoder_units, **kwargs):
        super().__init__(**kwargs)
        if bridge not in KINDS:
            raise ValueError(
                f"Received an invalid value for argument `bridge`, expected one of {KINDS}, got {bridge!r}."
            )
        self.bridge = bridge
        self.cell = cell
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.bidirectional = bidirectional
        self.decoder_units = decoder_units
        self.projections = []
        if bridge in ("dense", "mean"):
            self.projections = [
                keras.layers.Dense(decoder_units, activation="tanh", name=f"bridge_{state}_{layer}")
                for layer in range(decoder_layers)
                for state in STATE_KINDS[cell]
            ]

    def call(self, encoder_states, encoder_outputs, mask):
        kinds = len(STATE_KINDS[self.cell])
        per_layer = kinds * (2 if self.bidirectional else 1)
        if self.bridge == "mean":
            weights = ops.expand_dims(ops.cast(mask, encoder_outputs.dtype), -1)
            summary = ops.sum(encoder_outputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        states = []
        for layer in range(self.decoder_layers):
            start = source_layer(layer, self.encoder_layers, self.decoder_layers) * per_layer
            for kind in range(kinds):
                forward = encoder_states[start + kind]
                backward = encoder_states[start + kinds + kind] if self.bidirectional else None
                projection = self.projections[layer * kinds + kind] if self.projections else None
                if self.bridge == "mean":
                    states.append(projection(summary))
                elif self.bridge == "zero":
                    states.append(zero_rows(forward, self.decoder_units))
                else:
                    states.append(self._merge(forward, backward, projection))
        return states

    def _merge(self, forward, backward, projection):
        if backward is None:
            return projection(forward) if projection else forward
        if self.bridge == "sum":
            return forward + backward
        joined = ops.concatenate([forward, backward], axis=-1)
        return projection(joined) if projection else joined

    def get_config(self):
        return {
            **super().get_config(),
            "bridge": self.bridge,
            "cell": self.cell,
            "encoder_layers": self.encoder_layers,
            "decoder_layers": self.decoder_layers,
            "bidirectional": self.bidirectional,
            "decoder_units": self.decoder_units,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**current_keys(config, {"kind": "bridge", "units": "decoder_units"}))
