"""A fused LSTM for PyTorch: Keras' masked LSTM arithmetic run by PyTorch's own LSTM operator.

Keras runs a masked LSTM on PyTorch step by step in Python (its fused path refuses masks), so
every step is a dozen small operators and as many autograd nodes. This kernel hands the whole
recurrence to `torch._VF.lstm` (the operator under `torch.nn.LSTM`): oneDNN's fused LSTM on a
CPU, cuDNN on a GPU, with their own backward passes. It keeps Keras' results:

- the weights are Keras' (gate order input, forget, cell, output is PyTorch's too), passed
  transposed, the bias as the input bias and a zero recurrent bias;
- masks need no packing (no lengths copied to the host): each step's input gains one feature,
  1 at padded steps, whose weights are pre-activations far beyond a sigmoid's saturation
  (input gate -1e4, forget gate +1e4). At a padded step the input and forget gates are then
  exactly 0 and 1, so the cell state is held exactly; the hidden state of a padded step is
  never used (outputs and final states come from each sequence's real steps), so no gradient
  reaches the padding or flows through it;
- `go_backwards` reverses each sequence's real steps in place (the padding stays at the end)
  and lays the outputs out in Keras' processing order afterwards.

Masks are taken to be right-padded (each sequence's real steps first), as `token_ids != 0` is
for every batch this package builds.
"""

from __future__ import annotations

import torch

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

    `inputs` are feature vectors `(batch, time, features)` or token ids `(batch, time)` read as
    one-hot vectors of depth `kernel.shape[0]`; `dropout_mask (batch, features)` scales every
    step's inputs. `outputs (batch, time, units)` are in processing order (reversed when
    `go_backwards`), padded steps holding the previous output or zeros (`zero_output_for_mask`);
    the states are those after each sequence's last real step.
    """
    dtype = kernel.dtype
    units = recurrent_kernel.shape[0]
    batch, steps = inputs.shape[0], inputs.shape[1]
    if mask is None:
        mask = torch.ones((batch, steps), dtype=torch.bool, device=inputs.device)
    mask = mask.to(torch.bool)
    lengths = mask.sum(dim=1)
    if not inputs.dtype.is_floating_point:
        inputs = torch.nn.functional.one_hot(inputs.long(), kernel.shape[0]).to(dtype)
    if dropout_mask is not None:
        inputs = inputs * dropout_mask[:, None, :]
    if go_backwards:
        inputs = _reverse_real_steps(inputs, lengths)
    padded = (~mask)[..., None].to(dtype)
    inputs = torch.cat([inputs.to(dtype) * (1.0 - padded), padded], dim=-1)
    hold = torch.zeros(4 * units, dtype=dtype, device=kernel.device)
    hold[:units], hold[units : 2 * units] = -SATURATION, SATURATION  # gate order i, f, g, o
    input_weights = torch.cat([kernel, hold[None]], dim=0).t()
    weights = [input_weights, recurrent_kernel.t(), bias, torch.zeros_like(bias)]
    hx = (h0[None].to(dtype), c0[None].to(dtype))
    states, _, final_c = torch._VF.lstm(inputs, hx, weights, True, 1, 0.0, torch.is_grad_enabled(), False, True)
    final_c = final_c[0]

    real = mask[..., None]
    has_steps = (lengths > 0)[:, None]
    last = torch.clamp(lengths - 1, min=0)
    final_h = torch.where(has_steps, states[torch.arange(batch, device=states.device), last], h0.to(dtype))
    if go_backwards:  # processing order: the padding first (zeros), then the real steps reversed
        outputs = torch.flip(_reverse_real_steps(torch.where(real, states, 0.0), lengths), dims=[1])
    elif zero_output_for_mask:
        outputs = torch.where(real, states, 0.0)
    else:  # a padded step repeats the last real output (zeros where there was none)
        outputs = torch.where(real, states, torch.where(has_steps, final_h, 0.0)[:, None])
    return outputs[:, -1], outputs, [final_h, final_c]


def _reverse_real_steps(sequences, lengths):
    """Each row's first `length` steps in reverse order, the steps after them where they were."""
    steps = torch.arange(sequences.shape[1], device=sequences.device)[None, :]
    order = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return torch.gather(sequences, 1, order[..., None].expand(-1, -1, sequences.shape[-1]))
