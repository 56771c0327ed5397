"""The forecasting network: the project's recurrent encoder-decoder over real values.

Past steps `(batch, lookback, past features)` enter through a dense projection (where text
enters through embeddings) and run through a recurrent stack (`seq2seq.layers.recurrent`, LSTM
or GRU, stacked, optionally bidirectional); the `Bridge` turns its final states into the
decoder's. The decoder then takes one step per horizon step: its input is the previous value
of each target joined to that step's future covariates, projected; with attention it is the
text decoder's own input-feeding step (`RecurrentDecoder.attention_step`: Luong et al. 2015)
over the encoded past. Each step's output goes through the head (`heads.py`).

With `linear_skip`, a dense layer maps the lookback's target values straight to the horizon's
(an autoregressive highway, as in LSTNet) and the decoder forecasts what is left over: its
location outputs (the value, the Gaussian's mean, every quantile) are added to the linear
forecast. The inputs are normalised by each window's last value (`windows.py`), so the layer
starts at zero weights as the naive forecast and can learn seasonal naive or a trend exactly.

The horizon runs as one compiled loop (`seq2seq.compiled_loops.scan`). Each step feeds the next either
the true previous value (`use_teacher` 1: teacher forcing) or its own point forecast (0:
autoregressive decoding, as in forecasting; a mix: scheduled sampling, Bengio et al. 2015).
"""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.compiled_loops import scan
from seq2seq.forecasting.heads import add_location, shape_outputs
from seq2seq.layers.attention import Attention
from seq2seq.layers.bridge import Bridge, zero_rows
from seq2seq.layers.decoder import RecurrentDecoder
from seq2seq.layers.recurrent import recurrent_stack, run_stack, step_stack


@keras.saving.register_keras_serializable(package="seq2seq")
class ForecastNetwork(keras.layers.Layer):
    """`(past, future, teacher, use_teacher)` to head values `(batch, horizon, targets, outputs_per_target)`.

    `past (batch, lookback, past_features)`: the targets first, then the other features;
    `future (batch, horizon, future_features)`; `teacher (batch, horizon, targets)`: the true
    values, or None to forecast (each step fed the previous forecast); `use_teacher (batch,
    horizon)`: 1 where a step's next input is the true value, 0 where it is the forecast (None:
    1 everywhere, teacher forcing).
    """

    def __init__(
        self,
        targets,
        past_features,
        future_features,
        outputs_per_target=1,
        head="mse",
        point_index=0,
        cell="lstm",
        units=32,
        layers=1,
        bidirectional=False,
        attention="none",
        dropout=0.0,
        horizon=1,
        lookback=1,
        linear_skip=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.lookback = lookback
        self.linear_skip = linear_skip
        self.targets = targets
        self.past_features = past_features
        self.future_features = future_features
        self.outputs_per_target = outputs_per_target
        self.head = head
        self.point_index = point_index
        self.cell = cell
        self.units = units
        self.layers = layers
        self.bidirectional = bidirectional
        self.attention = attention  # its kind; the layer is `attention_layer`, as in the text decoder
        self.dropout = dropout
        self.memory_units = units * (2 if bidirectional else 1)  # the encoder's outputs and merged states
        self.decoder_units = self.memory_units  # the bridge joins both directions' states side by side
        self.past_projection = keras.layers.Dense(units, name="past_projection")
        self.input_dropout = keras.layers.Dropout(dropout, name="input_dropout")
        self.encoder_layers = recurrent_stack(cell, units, layers, dropout, "encoder", bidirectional)
        self.bridge = Bridge("concat", cell, layers, layers, bidirectional, self.decoder_units, name="bridge")
        self.step_projection = keras.layers.Dense(units, name="step_projection")
        # No dropout in the decoder: its cells step inside the compiled loop, where drawing masks is a side effect.
        self.rnn_layers = recurrent_stack(cell, self.decoder_units, layers, 0.0, "decoder")
        if self.has_attention:
            self.attention_layer = Attention(attention, self.decoder_units, self.memory_units, name="attention")
            self.attentional = keras.layers.Dense(
                self.decoder_units, activation="tanh", use_bias=False, name="attentional"
            )
        self.output_layer = keras.layers.Dense(targets * outputs_per_target, name="output_layer")
        if linear_skip:
            self.skip_layer = keras.layers.Dense(horizon * targets, kernel_initializer="zeros", name="skip_layer")

    @property
    def has_attention(self) -> bool:
        return self.attention != "none"

    def build(self, input_shape=None):
        """Create every weight up front: the decoding loop's body must not create variables."""
        self.past_projection.build((None, None, self.past_features))
        width = self.units
        for layer in self.encoder_layers:
            layer.build((None, None, width))
            width = self.memory_units
        self.step_projection.build((None, self.targets + self.future_features))
        width = self.units + (self.decoder_units if self.has_attention else 0)  # input feeding adds the last vector
        for layer in self.rnn_layers:
            layer.build((None, None, width))
            width = self.decoder_units
        if self.has_attention:
            self.attention_layer.build_for(self.decoder_units, self.memory_units)
            self.attentional.build((None, self.memory_units + self.decoder_units))
        self.output_layer.build((None, self.decoder_units))
        if self.linear_skip:
            self.skip_layer.build((None, self.lookback * self.targets))
        self.built = True

    def encode(self, past, training=None):
        """`past` to (decoder initial states, prepared memory or None)."""
        encoded = self.input_dropout(self.past_projection(past), training=training)
        outputs, final_states = run_stack(self.encoder_layers, encoded, None, None, self.cell, training=training)
        mask = ops.ones_like(outputs[:, :, 0])  # every past step is real
        states = self.bridge(list(final_states), outputs, mask)
        if not self.has_attention:
            return states, None
        first_feed = zero_rows(outputs[:, 0], self.decoder_units)
        return states + [first_feed], RecurrentDecoder.prepare_memory(self, (outputs, mask))

    def step(self, previous, future_t, states, prepared):
        """One horizon step: `previous (batch, targets)` and `future_t (batch, future_features)` to
        (head values `(batch, targets, outputs_per_target)`, new states)."""
        inputs = self.step_projection(ops.concatenate([previous, future_t], axis=-1))
        if self.has_attention:
            # The text decoder's input-feeding step, on this layer's stack, attention and attentional layer.
            top, states, _ = RecurrentDecoder.attention_step(self, inputs, states, prepared)
        else:
            top, states = step_stack(self.rnn_layers, inputs, states, self.cell)
        raw = ops.reshape(self.output_layer(top), (-1, self.targets, self.outputs_per_target))
        return shape_outputs(raw, self.head, self.outputs_per_target), states

    def skip(self, past):
        """The linear forecast `(batch, horizon, targets)` from the lookback's targets, or None without the skip."""
        if not self.linear_skip:
            return None
        flat = ops.reshape(past[:, :, : self.targets], (-1, self.lookback * self.targets))
        return ops.reshape(self.skip_layer(flat), (-1, self.horizon, self.targets))

    def call(self, past, future, teacher=None, use_teacher=None, training=None):
        states, prepared = self.encode(past, training=training)
        previous = past[:, -1, : self.targets]
        skip = self.skip(past)
        if teacher is not None and use_teacher is None and not self.has_attention:
            return add_location(self.teacher_forced(previous, future, teacher, states), skip, self.head)
        if teacher is None:
            teacher = ops.zeros_like(ops.tile(ops.expand_dims(previous, 1), (1, ops.shape(future)[1], 1)))
            use_teacher = ops.zeros_like(teacher[:, :, 0])
        elif use_teacher is None:
            use_teacher = ops.ones_like(teacher[:, :, 0])
        width = self.targets * self.outputs_per_target

        def one_step(carry, step_inputs):
            future_t, teacher_t, use_t, skip_t = step_inputs
            *states, previous = carry
            values, states = self.step(previous, future_t, states, prepared)
            values = add_location(values, skip_t, self.head)
            point = ops.stop_gradient(values[:, :, self.point_index])
            chosen = use_t * teacher_t + (1.0 - use_t) * point
            return [*states, chosen], ops.reshape(values, (-1, width))

        time_major = (
            ops.transpose(future, (1, 0, 2)),
            ops.transpose(ops.cast(teacher, previous.dtype), (1, 0, 2)),
            ops.transpose(ops.expand_dims(ops.cast(use_teacher, previous.dtype), -1), (1, 0, 2)),
            ops.transpose(ops.zeros_like(teacher) if skip is None else skip, (1, 0, 2)),
        )
        _, values = scan(one_step, [*states, previous], time_major, zero_rows(previous, width))
        values = ops.transpose(values, (1, 0, 2))
        return ops.reshape(values, (-1, ops.shape(future)[1], self.targets, self.outputs_per_target))

    def teacher_forced(self, previous, future, teacher, states):
        """Every step fed the true previous value: without attention, the decoder runs whole sequences at once
        (the same cells as `step`, in Keras' or the fused loop)."""
        inputs = ops.concatenate([ops.expand_dims(previous, 1), ops.cast(teacher[:, :-1], previous.dtype)], axis=1)
        inputs = self.step_projection(ops.concatenate([inputs, future], axis=-1))
        outputs, _ = run_stack(self.rnn_layers, inputs, None, list(states), self.cell)
        raw = self.output_layer(outputs)
        raw = ops.reshape(raw, (-1, ops.shape(future)[1], self.targets, self.outputs_per_target))
        return shape_outputs(raw, self.head, self.outputs_per_target)

    def get_config(self):
        return {
            **super().get_config(),
            "targets": self.targets,
            "past_features": self.past_features,
            "future_features": self.future_features,
            "outputs_per_target": self.outputs_per_target,
            "head": self.head,
            "point_index": self.point_index,
            "cell": self.cell,
            "units": self.units,
            "layers": self.layers,
            "bidirectional": self.bidirectional,
            "attention": self.attention,
            "dropout": self.dropout,
            "horizon": self.horizon,
            "lookback": self.lookback,
            "linear_skip": self.linear_skip,
        }
