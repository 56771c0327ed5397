"""The teacher-forced attention decoder as one PyTorch function: Keras' per-step loop without its dispatch.

On PyTorch, `keras.ops.scan` is a Python loop, and every step of the attention decoder
(`RecurrentDecoder.attention_step`: LSTM cells, the attention layer, the attentional Dense) is
some forty small Keras operations, each paying Keras' dispatch and conversion in Python and
adding its own autograd nodes. This kernel runs the same arithmetic on the layers' own weights
with PyTorch operations directly, so a step is about fifteen operators:

- the first LSTM's input is the token's vector joined to the previous attentional vector; the
  token half of its product is computed for all steps at once (one large matrix product), the
  attentional-vector half and the recurrent product as one product per step;
- the score is the attention layer's (`luong-dot`, `luong-general`, `bahdanau`), the source
  padding gets `MASKED_SCORE` before a softmax, and `tanh(W [context; top output])` is the next
  attentional vector (input feeding);
- a padded target step carries every state on unchanged, as the Keras loop's `ops.where` does.

Results equal the Keras loop's up to float32 rounding (products grouped differently). The
decoder's recurrent cells run without dropout in the loop (`training=False`, as `step_stack`
calls them); dropout on the token vectors is applied by the caller before the scan.
"""

from __future__ import annotations

import torch

MASKED_SCORE = -1e9  # seq2seq.layers.attention.MASKED_SCORE (kept free of Keras imports)
KINDS = ("bahdanau", "luong-dot", "luong-general")


def attention_scan(inputs, real, states, memory, keys, mask, cells, attentional_kernel, kind, score_weights=()):
    """Run the input-feeding attention decoder over all target steps.

    `inputs (batch, steps, token_width)`: the token vectors; `real (batch, steps)`: False at padded
    target steps; `states`: `[h_0, c_0, h_1, c_1, ..., attentional vector]`; `memory (batch, src_len,
    m_units)` with its `keys` and `mask (batch, src_len)`; `cells`: one `(kernel, recurrent_kernel,
    bias or None)` per LSTM layer in Keras' layout (gates i, f, c, o); `attentional_kernel
    (m_units + units, units)`; `kind` one of `KINDS`, `score_weights` Bahdanau's `(query kernel,
    score vector)`. Returns `(attentional vectors (batch, steps, units), final states, attention
    weights (batch, steps, src_len))`.
    """
    if kind not in KINDS:
        raise ValueError(f"expected an attention kind in {KINDS}, got {kind!r}.")
    token_width = inputs.shape[-1]
    first_kernel, first_recurrent, first_bias = cells[0]
    token_part = torch.matmul(inputs, first_kernel[:token_width])  # (batch, steps, 4 units), all steps at once
    if first_bias is not None:
        token_part = token_part + first_bias
    # Unbound once: a step's slice would send a whole-sequence gradient (mostly zeros) back at every step.
    token_steps, real_steps = token_part.unbind(1), real.to(torch.bool)[..., None].unbind(1)
    # Batches come bucketed by length: most steps are real in every row and need no carrying (one host read).
    if real.device.type == "meta":  # Keras' symbolic pass has no values to read: carry at every step
        carry_steps = [True] * inputs.shape[1]
    else:
        carry_steps = (~real.to(torch.bool)).any(dim=0).tolist()
    # The attentional vector and the first layer's h meet one joined kernel: one product per step.
    first_step_kernel = torch.cat([first_kernel[token_width:], first_recurrent], dim=0)
    step_kernels = [first_step_kernel] + [torch.cat([kernel, recurrent], dim=0) for kernel, recurrent, _ in cells[1:]]
    biases = [None] + [bias for _, _, bias in cells[1:]]
    layer_states = [(states[2 * i], states[2 * i + 1]) for i in range(len(cells))]
    feed = states[-1]
    mask = mask.to(torch.bool)
    if kind == "bahdanau":
        query_kernel, score_vector = score_weights
    feeds, all_weights = [], []
    for t in range(inputs.shape[1]):
        layer_input, new_states = feed, []
        for index, (h, c) in enumerate(layer_states):
            joined = torch.cat([layer_input, h], dim=-1)
            if index == 0:
                z = torch.addmm(token_steps[t], joined, step_kernels[0])
            elif biases[index] is not None:
                z = torch.addmm(biases[index], joined, step_kernels[index])
            else:
                z = torch.matmul(joined, step_kernels[index])
            i, f, g, o = z.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            new_states.append((h, c))
            layer_input = h
        top = layer_input
        if kind == "bahdanau":
            hidden = torch.tanh(keys + torch.matmul(top, query_kernel)[:, None, :])
            scores = torch.matmul(hidden, score_vector).squeeze(-1)
        else:
            scores = torch.bmm(keys, top[:, :, None]).squeeze(-1)
        weights = torch.softmax(torch.where(mask, scores, MASKED_SCORE), dim=-1)
        context = torch.bmm(weights[:, None, :], memory).squeeze(1)
        new_feed = torch.tanh(torch.matmul(torch.cat([context, top], dim=-1), attentional_kernel))
        feeds.append(new_feed)
        all_weights.append(weights)
        if carry_steps[t]:
            real_t = real_steps[t]
            new_states = [
                (torch.where(real_t, h, old_h), torch.where(real_t, c, old_c))
                for (h, c), (old_h, old_c) in zip(new_states, layer_states)
            ]
            new_feed = torch.where(real_t, new_feed, feed)
        layer_states, feed = new_states, new_feed
    final_states = [state for pair in layer_states for state in pair] + [feed]
    if not feeds:  # no target steps: nothing to stack
        batch = inputs.shape[0]
        return feed.new_zeros((batch, 0, feed.shape[-1])), final_states, feed.new_zeros((batch, 0, memory.shape[1]))
    return torch.stack(feeds, dim=1), final_states, torch.stack(all_weights, dim=1)


def decoder_applies(decoder) -> bool:
    """Whether `decoder`'s (a `RecurrentDecoder` with attention) teacher-forced pass can run on this kernel.

    LSTM stacks whose layers would run fused (tanh and sigmoid activations, no recurrent
    dropout, no forced Keras loop) in float32; GRU stacks and mixed precision keep Keras' loop.
    """
    return (
        decoder.cell == "lstm"
        and decoder.attention in KINDS
        and decoder.compute_dtype == "float32"
        and all(layer.fused_kernel_applies() for layer in decoder.rnn_layers)
    )


def run_decoder(decoder, inputs, token_ids, states, prepared):
    """`attention_scan` over `decoder`'s own weights: `(attentional vectors, final states, attention weights)`."""
    memory, keys, mask = prepared
    cells = [layer.cell for layer in decoder.rnn_layers]
    weights = [
        (cell.kernel.value, cell.recurrent_kernel.value, cell.bias.value if cell.use_bias else None) for cell in cells
    ]
    attention = decoder.attention_layer
    score_weights = ()
    if attention.attention == "bahdanau":
        score_weights = (attention.query_projection.kernel.value, attention.score_vector.kernel.value)
    return attention_scan(
        inputs,
        token_ids != 0,
        list(states),
        memory,
        keys,
        mask,
        weights,
        decoder.attentional.kernel.value,
        attention.attention,
        score_weights,
    )
