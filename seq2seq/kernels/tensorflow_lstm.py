"""A fused LSTM for TensorFlow: Keras' LSTM arithmetic over whole padded batches, scheduled for CPUs.

Keras runs a masked LSTM step by step through a generic loop that TensorFlow differentiates
step by step. The recurrence is latency-bound (each step waits for the one before), so what
surrounds the one matrix product per step sets the speed: masking selects, a transposed product
in the gradient, a weight gradient summed from small per-step products, and dozens of graph
nodes per step. This kernel keeps the arithmetic and changes the schedule:

- the input product of every step is one large product before the loop;
- the loop holds the recurrent product and the gate arithmetic of two halves of the batch side
  by side, so one half's gate arithmetic overlaps the other half's product;
- the gradient is written out: a backward loop carries only `dh` and `dc` (the gate gradients
  come from TensorFlow's fused `LSTMBlockCellGrad`), and the recurrent weight gradient is one
  large product after it;
- padding needs no selects: at a padded step the input and forget gates are saturated to
  exactly 0 and 1 (`sigmoid(-1e4)` and `sigmoid(1e4)` round to them), so the cell state is held
  exactly and no gradient reaches the padding or flows through it otherwise.

Masks are taken to be right-padded (each sequence's real steps first), as `token_ids != 0` is
for every batch this package builds.
"""

from __future__ import annotations

import tensorflow as tf

STREAMS = 2  # halves of the batch run side by side in one loop
SATURATION = 1e4  # |pre-activation| that rounds a sigmoid to exactly 0 or 1


def fused_lstm(
    inputs,
    mask,
    h0,
    c0,
    kernel,
    recurrent_kernel,
    bias,
    *,
    go_backwards=False,
    zero_output_for_mask=False,
    dropout_mask=None,
):
    """Keras' masked LSTM over a batch; returns `(last_output, outputs, [h, c])` as Keras' loop does.

    `inputs` are either feature vectors `(batch, time, features)` or token ids `(batch, time)`
    read as one-hot vectors of depth `kernel.shape[0]` (the one-hot product becomes a row
    lookup; id 0 is padding). `dropout_mask (batch, features)` scales every step's inputs, as
    Keras applies input dropout. Results are those of `keras.layers.LSTM` (tanh and sigmoid):
    `outputs (batch, time, units)` in processing order (reversed when `go_backwards`), padded
    steps holding the previous output or zeros (`zero_output_for_mask`), and the states after
    each sequence's last real step. The weights are in Keras' gate order (input, forget, cell,
    output).
    """
    units = recurrent_kernel.shape[0]
    shape = tf.shape(inputs)
    batch, steps = shape[0], shape[1]
    lengths = steps * tf.ones([batch], tf.int32) if mask is None else tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    kernel, recurrent_kernel, bias = (_block_gate_order(w) for w in (kernel, recurrent_kernel, bias))
    real = tf.range(steps)[:, None] < lengths[None, :]  # (time, batch)
    if inputs.dtype.is_integer:
        projected = _looked_up_projection(inputs, lengths, kernel, bias, go_backwards, dropout_mask)
    else:
        projected = _dense_projection(inputs, lengths, kernel, bias, go_backwards, dropout_mask)
        projected = tf.where(real[..., None], projected, _holding_preactivation(units, projected.dtype))
    states, final_c = _run_streams(projected, h0, c0, recurrent_kernel)  # states: (time, batch, units)

    last = tf.maximum(lengths - 1, 0)
    final_h = tf.gather(tf.transpose(states, (1, 0, 2)), last, batch_dims=1)
    final_h = tf.where((lengths > 0)[:, None], final_h, h0)
    real = real[..., None]
    if go_backwards:  # processing order: the padding first (zeros), then the real steps reversed
        outputs = tf.reverse(tf.reverse_sequence(tf.where(real, states, 0.0), lengths, seq_axis=0, batch_axis=1), [0])
    elif zero_output_for_mask:
        outputs = tf.where(real, states, 0.0)
    else:  # a padded step repeats the last real output (zeros where there was none)
        outputs = tf.where(real, states, tf.where((lengths > 0)[:, None], final_h, 0.0)[None])
    outputs = tf.transpose(outputs, (1, 0, 2))
    outputs.set_shape([*inputs.shape[:2], units])  # keep the static batch and time sizes for Keras' shapes
    for state in (final_h, final_c):
        state.set_shape([inputs.shape[0], units])
    return outputs[:, -1], outputs, [final_h, final_c]


def _dense_projection(inputs, lengths, kernel, bias, go_backwards, dropout_mask):
    """Every step's input product, time-major: `(time, batch, 4 units)`."""
    if dropout_mask is not None:
        inputs = inputs * dropout_mask[:, None, :]
    time_major = tf.transpose(inputs, (1, 0, 2))
    if go_backwards:
        time_major = tf.reverse_sequence(time_major, lengths, seq_axis=0, batch_axis=1)
    shape = tf.shape(time_major)
    projected = tf.matmul(tf.reshape(time_major, (-1, inputs.shape[-1])), kernel) + bias
    return tf.reshape(projected, (shape[0], shape[1], kernel.shape[-1]))


def _looked_up_projection(token_ids, lengths, kernel, bias, go_backwards, dropout_mask):
    """The one-hot product as a row lookup, time-major; padding (id 0) gets the holding pre-activation.

    Row 0 of the table is `hold - bias`, so adding the bias afterwards leaves exactly the
    holding values (far beyond the saturation of a sigmoid) at padded steps.
    """
    token_ids = tf.cast(token_ids, tf.int32)
    time_major = tf.transpose(token_ids)  # (time, batch)
    if go_backwards:
        time_major = tf.reverse_sequence(time_major, lengths, seq_axis=0, batch_axis=1)
    hold = _holding_preactivation(kernel.shape[-1] // 4, kernel.dtype)
    table = tf.concat([(hold - bias)[None], kernel[1:]], axis=0)
    rows = _lookup_with_dense_gradient(table, time_major)
    if dropout_mask is not None:  # the dropped-out one-hot entry scales its row; padding keeps its hold
        scale = tf.concat([tf.ones_like(dropout_mask[:, :1]), dropout_mask[:, 1:]], axis=1)
        rows = rows * tf.transpose(tf.gather(scale, tf.transpose(time_major), batch_dims=1))[..., None]
    return rows + bias


@tf.custom_gradient
def _lookup_with_dense_gradient(table, ids):
    """`tf.gather(table, ids)` whose gradient is a dense sum per row, as the one-hot product's is.

    (A sparse gradient would reach the optimizer as slices with repeated rows, which Adam
    treats differently from the sum.)
    """

    def gradient(d_rows):
        return tf.math.unsorted_segment_sum(d_rows, ids, tf.shape(table)[0]), None

    return tf.gather(table, ids), gradient


def _block_gate_order(weights):
    """Keras' gate blocks (input, forget, cell, output) as (input, cell, forget, output)."""
    i, f, g, o = tf.split(weights, 4, axis=-1)  # (the gradient of a split is a cheap concat)
    return tf.concat([i, g, f, o], axis=-1)


def _holding_preactivation(units, dtype):
    """Gate pre-activations that hold the cell state: input gate 0, forget gate 1."""
    closed, open_, free = (tf.fill([units], tf.constant(value, dtype)) for value in (-SATURATION, SATURATION, 0.0))
    return tf.concat([closed, free, open_, free], axis=0)  # gate order i, g, f, o


def _run_streams(projected, h0, c0, recurrent_kernel):
    """Split the batch into `STREAMS` parts, run them in one recurrence, join the results."""
    batch = tf.shape(projected)[1]
    sizes = [batch // STREAMS] * (STREAMS - 1)
    sizes.append(batch - sum(sizes) if sizes else batch)
    split = lambda tensor, axis: tf.split(tensor, tf.stack(sizes), axis=axis, num=STREAMS)  # noqa: E731
    outputs = _recurrence(*split(projected, 1), *split(h0, 0), *split(c0, 0), recurrent_kernel)
    states, final_c = outputs[:STREAMS], outputs[STREAMS:]
    return tf.concat(states, axis=1), tf.concat(final_c, axis=0)


@tf.custom_gradient
def _recurrence(*inputs):
    """The LSTM recurrence of `STREAMS` independent parts of a batch.

    Inputs: per part the projected inputs `(time, rows, 4 units)` (gate order i, g, f, o, bias
    included), then per part `h0`, then per part `c0` `(rows, units)`, then the recurrent kernel
    `(units, 4 units)`. Outputs: per part the hidden states `(time, rows, units)`, then per part
    the final cell state.
    """
    projected, h0, c0 = (list(inputs[k * STREAMS : (k + 1) * STREAMS]) for k in range(3))
    recurrent_kernel = inputs[-1]
    units = recurrent_kernel.shape[0]
    dtype = recurrent_kernel.dtype
    steps = tf.shape(projected[0])[0]

    def forward(t, h, c, hidden, cells, gates, candidates):
        h, c, hidden, cells, gates, candidates = (list(v) for v in (h, c, hidden, cells, gates, candidates))
        for part in range(STREAMS):
            z = projected[part][t] + tf.matmul(h[part], recurrent_kernel)
            sigmoids = tf.sigmoid(z)
            i, _, f, o = tf.split(sigmoids, 4, axis=1)
            g = tf.tanh(z[:, units : 2 * units])
            c[part] = f * c[part] + i * g
            h[part] = o * tf.tanh(c[part])
            hidden[part] = hidden[part].write(t, h[part])
            cells[part] = cells[part].write(t + 1, c[part])
            gates[part] = gates[part].write(t, sigmoids)
            candidates[part] = candidates[part].write(t, g)
        return t + 1, h, c, hidden, cells, gates, candidates

    arrays = lambda size: [tf.TensorArray(dtype, size=size, clear_after_read=False) for _ in range(STREAMS)]  # noqa: E731
    cells0 = [array.write(0, c0[part]) for part, array in enumerate(arrays(steps + 1))]
    _, _, final_c, hidden, cells, gates, candidates = tf.while_loop(
        lambda t, *_: t < steps, forward, (tf.constant(0), h0, c0, arrays(steps), cells0, arrays(steps), arrays(steps))
    )
    hidden = [array.stack() for array in hidden]

    def gradient(*upstream):
        d_hidden, d_final_c = upstream[:STREAMS], upstream[STREAMS:]
        transposed_kernel = tf.transpose(recurrent_kernel)  # a plain product runs faster than a transposed one
        no_input = [tf.zeros([tf.shape(h0[part])[0], 0], dtype) for part in range(STREAMS)]
        unused_weights = tf.zeros([units, 4 * units], dtype)
        no_peephole, no_bias = tf.zeros([units], dtype), tf.zeros([4 * units], dtype)
        fused_cell_gradient = dtype in (tf.float16, tf.float32)  # the fused op has no bfloat16 kernel

        def backward(t, dh, dc, dz_arrays):
            dh, dc, dz_arrays = list(dh), list(dc), list(dz_arrays)
            for part in range(STREAMS):
                dh_t = dh[part] + d_hidden[part][t]
                i, _, f, o = tf.split(gates[part].read(t), 4, axis=1)
                c, c_previous = cells[part].read(t + 1), cells[part].read(t)
                tanh_c, g = tf.tanh(c), candidates[part].read(t)
                if fused_cell_gradient:  # (x, h_prev, w and b only give it shapes)
                    dc[part], dz, _, _, _ = tf.raw_ops.LSTMBlockCellGrad(
                        x=no_input[part], cs_prev=c_previous, h_prev=dh_t, w=unused_weights,
                        wci=no_peephole, wcf=no_peephole, wco=no_peephole, b=no_bias,
                        i=i, cs=c, f=f, o=o, ci=g, co=tanh_c,
                        cs_grad=dc[part], h_grad=dh_t, use_peephole=False,
                    )  # fmt: skip
                else:
                    dc[part], dz = _cell_gradient(i, g, f, o, c_previous, tanh_c, dc[part], dh_t)
                dz_arrays[part] = dz_arrays[part].write(t, dz)
                dh[part] = tf.matmul(dz, transposed_kernel)
            return t - 1, dh, dc, dz_arrays

        zeros_h = [tf.zeros_like(h) for h in h0]
        _, dh0, dc0, dz_arrays = tf.while_loop(
            lambda t, *_: t >= 0, backward, (steps - 1, zeros_h, list(d_final_c), arrays(steps))
        )
        d_projected = [array.stack() for array in dz_arrays]
        d_kernel = 0.0
        for part in range(STREAMS):
            previous_h = tf.concat([h0[part][None], hidden[part][:-1]], axis=0)
            d_kernel += tf.matmul(
                tf.reshape(previous_h, (-1, units)), tf.reshape(d_projected[part], (-1, 4 * units)), transpose_a=True
            )
        return (*d_projected, *dh0, *dc0, d_kernel)

    return (*hidden, *final_c), gradient


def _cell_gradient(i, g, f, o, c_previous, tanh_c, dc_next, dh):
    """One step's gate gradients, as `LSTMBlockCellGrad` computes them: `(dc_previous, dz (i, g, f, o))`."""
    dc = dc_next + dh * o * (1.0 - tanh_c * tanh_c)
    dz = tf.concat(
        [dc * g * i * (1.0 - i), dc * i * (1.0 - g * g), dc * c_previous * f * (1.0 - f), dh * tanh_c * o * (1.0 - o)],
        axis=1,
    )
    return dc * f, dz
