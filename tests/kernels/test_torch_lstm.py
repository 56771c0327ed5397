"""PyTorch's fused LSTM: the outputs, states and gradients of Keras' masked LSTM loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seq2seq.kernels.torch_lstm import fused_lstm  # noqa: E402

BATCH, TIME, FEATURES, UNITS = 5, 7, 3, 4  # all different, so a swapped axis fails


def keras_loop(inputs, mask, h0, c0, kernel, recurrent_kernel, bias, go_backwards=False, zero_output_for_mask=False):
    """Keras' masked LSTM written step by step: a padded step keeps the states and repeats the output (or 0)."""
    if go_backwards:
        inputs, mask = torch.flip(inputs, [1]), torch.flip(mask, [1])
    h, c, output, outputs = h0, c0, torch.zeros_like(h0), []
    for t in range(inputs.shape[1]):
        z = inputs[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = torch.split(z, UNITS, dim=1)
        new_c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        new_h = torch.sigmoid(o) * torch.tanh(new_c)
        real = mask[:, t, None]
        h, c = torch.where(real, new_h, h), torch.where(real, new_c, c)
        output = torch.where(real, new_h, 0.0 if zero_output_for_mask else output)
        outputs.append(output)
    outputs = torch.stack(outputs, dim=1)
    return outputs[:, -1], outputs, [h, c]


def _case(seed, token_depth=None):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, TIME + 1, BATCH)
    lengths[0], lengths[-1] = 0, TIME  # an empty sequence and a full one in every case
    mask = torch.tensor(np.arange(TIME)[None] < lengths[:, None])
    depth = token_depth or FEATURES
    if token_depth:
        inputs = torch.tensor(np.where(mask.numpy(), rng.integers(1, depth, (BATCH, TIME)), 0))
    else:
        inputs = torch.tensor(rng.normal(size=(BATCH, TIME, depth)).astype("float32"), requires_grad=True)
    weights = [rng.normal(size=shape).astype("float32") * 0.5 for shape in ((depth, 4 * UNITS), (UNITS, 4 * UNITS))]
    weights += [rng.normal(size=(4 * UNITS,)).astype("float32") * 0.5]
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2)]
    return inputs, mask, [torch.tensor(v, requires_grad=True) for v in states + weights]


def _results_and_gradients(function, inputs, mask, variables, **options):
    if not inputs.dtype.is_floating_point:
        one_hot = torch.nn.functional.one_hot(inputs, variables[2].shape[0]).float()
        inputs = inputs if function is fused_lstm else one_hot
    last, outputs, states = function(inputs, mask, *variables, **options)
    rng = np.random.default_rng(5)
    loss = sum(
        (value * torch.tensor(rng.normal(size=value.shape).astype("float32"))).sum()
        for value in [last, outputs, *states]
    )
    watched = ([inputs] if inputs.requires_grad else []) + variables
    gradients = torch.autograd.grad(loss, watched, allow_unused=True)
    return [v.detach().numpy() for v in (last, outputs, *states)], [
        np.zeros(w.shape, "float32") if g is None else g.numpy() for w, g in zip(watched, gradients)
    ]


@pytest.mark.parametrize(
    "options",
    [{}, {"go_backwards": True}, {"zero_output_for_mask": True}, {"go_backwards": True, "zero_output_for_mask": True}],
    ids=["forward", "go-backwards", "zero-output-for-mask", "both"],
)
def test_feature_inputs_give_the_outputs_states_and_gradients_of_keras_masked_loop(options):
    inputs, mask, variables = _case(1)
    ours = _results_and_gradients(fused_lstm, inputs, mask, variables, **options)
    reference = _results_and_gradients(keras_loop, inputs, mask, variables, **options)
    for got, expected in zip(ours[0] + ours[1], reference[0] + reference[1], strict=True):
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "go-backwards"])
def test_token_ids_read_as_one_hot_vectors_give_the_results_of_the_one_hot_loop(go_backwards):
    inputs, mask, variables = _case(2, token_depth=6)
    ours = _results_and_gradients(fused_lstm, inputs, mask, variables, go_backwards=go_backwards)
    reference = _results_and_gradients(keras_loop, inputs, mask, variables, go_backwards=go_backwards)
    for got, expected in zip(ours[0] + ours[1], reference[0] + reference[1], strict=True):
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


def test_no_gradient_reaches_the_inputs_of_padded_steps():
    inputs, mask, variables = _case(3)
    _, (input_gradient, *_) = _results_and_gradients(fused_lstm, inputs, mask, variables)
    assert np.all(input_gradient[~mask.numpy()] == 0.0) and np.any(input_gradient[mask.numpy()] != 0.0)


def test_a_dropout_mask_scales_every_steps_inputs():
    inputs, mask, variables = _case(4)
    dropout = torch.tensor(np.random.default_rng(0).choice([0.0, 2.0], size=(BATCH, FEATURES)).astype("float32"))
    ours, _ = _results_and_gradients(fused_lstm, inputs, mask, variables, dropout_mask=dropout)
    reference, _ = _results_and_gradients(keras_loop, inputs * dropout[:, None, :], mask, variables)
    for got, expected in zip(ours, reference, strict=True):
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


# On the PyTorch backend (a process of its own: the suite's backend is fixed per process), the layer selects the
# kernel and gives `keras.layers.LSTM`'s results, one-way and bidirectional.
ON_TORCH = """
import json
import keras, numpy as np, torch
from seq2seq.layers.lstm import LSTM

rng = np.random.default_rng(0)
inputs = rng.normal(size=(5, 7, 3)).astype("float32")
mask = np.arange(7)[None] < np.array([0, 3, 7, 1, 5])[:, None]
differences, applies = [], []
for wrap in (lambda layer: layer, lambda layer: keras.layers.Bidirectional(layer)):
    ours = wrap(LSTM(4, return_sequences=True, return_state=True))
    reference = wrap(keras.layers.LSTM(4, return_sequences=True, return_state=True))
    for layer in (ours, reference):
        layer(inputs[:1])
    reference.set_weights([w + 0.3 for w in reference.get_weights()])
    ours.set_weights(reference.get_weights())
    results = []
    for layer in (ours, reference):
        for variable in layer.trainable_variables:
            variable.value.grad = None
        outputs = layer(torch.tensor(inputs), mask=torch.tensor(mask))
        weighted = [(o * torch.linspace(-1, 1, o.numel()).reshape(o.shape)).sum() for o in outputs]
        sum(weighted).backward()
        grads = [v.value.grad.numpy() for v in layer.trainable_variables]
        results.append([o.detach().numpy() for o in outputs] + grads)
    differences.append(max(float(np.abs(a - b).max()) for a, b in zip(*results)))
    applies.append(all(layer.fused_kernel_applies() for layer in ours._flatten_layers() if isinstance(layer, LSTM)))
print(json.dumps({"differences": differences, "applies": applies}))
"""


@pytest.mark.slow
def test_on_the_torch_backend_the_layer_runs_the_kernel_with_keras_results():
    environment = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", ON_TORCH], capture_output=True, text=True, env=environment, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["applies"] == [True, True]
    assert max(found["differences"]) < 1e-5, found
