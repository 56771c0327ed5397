"""PyTorch's teacher-forced attention kernel: the logits, states, weights and gradients of the Keras loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seq2seq.kernels.torch_attention import attention_scan  # noqa: E402

BATCH, STEPS, SOURCE, UNITS, MEMORY, TOKEN_WIDTH = 3, 5, 4, 6, 7, 2  # all different, so a swapped axis fails


def _case(seed, kind="luong-general"):
    rng = np.random.default_rng(seed)

    def tensor(*shape):
        return torch.tensor(rng.normal(size=shape).astype("float32") * 0.5)

    key_width = MEMORY if kind == "luong-dot" else UNITS
    real = torch.tensor(np.arange(STEPS)[None] < np.array([2, STEPS, 4])[:, None])
    mask = torch.tensor(np.arange(SOURCE)[None] < np.array([1, SOURCE, 3])[:, None])
    memory = tensor(BATCH, SOURCE, MEMORY)
    keys = memory if kind == "luong-dot" else tensor(BATCH, SOURCE, key_width)
    query_width = MEMORY if kind == "luong-dot" else UNITS  # luong-dot scores the top output against memories
    cells = [(tensor(TOKEN_WIDTH + query_width, 4 * query_width), tensor(query_width, 4 * query_width), None)]
    states = [tensor(BATCH, query_width) for _ in range(3)]
    score_weights = (tensor(query_width, key_width), tensor(key_width, 1)) if kind == "bahdanau" else ()
    attentional = tensor(MEMORY + query_width, query_width)
    inputs = tensor(BATCH, STEPS, TOKEN_WIDTH)
    return inputs, real, states, memory, keys, mask, cells, attentional, kind, score_weights


def test_an_unknown_attention_kind_is_refused():
    case = list(_case(0))
    case[8] = "luong-concat"
    with pytest.raises(ValueError, match="luong-concat"):
        attention_scan(*case)


def test_with_no_target_steps_the_states_are_returned_unchanged_and_the_sequences_are_empty():
    inputs, real, *rest = _case(1)
    feeds, states, weights = attention_scan(inputs[:, :0], real[:, :0], *rest)
    assert feeds.shape == (BATCH, 0, UNITS) and weights.shape == (BATCH, 0, SOURCE)
    for got, expected in zip(states, rest[0], strict=True):
        assert torch.equal(got, expected)


@pytest.mark.parametrize("kind", ["luong-general", "luong-dot", "bahdanau"])
def test_padded_target_steps_carry_every_state_to_the_end_unchanged(kind):
    inputs, real, states, *rest = _case(2, kind)
    _, final, weights = attention_scan(inputs, real, states, *rest)
    _, after_two, _ = attention_scan(inputs[:, :2], real[:, :2], states, *rest)
    other_padding = inputs.clone()
    other_padding[0, 2:] = 3.0  # what the padded steps of the first row read must not matter
    _, final_with_other_padding, _ = attention_scan(other_padding, real, states, *rest)
    for got, expected, unchanged in zip(final, after_two, final_with_other_padding, strict=True):
        torch.testing.assert_close(got[0], expected[0], rtol=1e-6, atol=1e-6)  # the first row has two real steps
        assert torch.equal(got[0], unchanged[0])
        assert not torch.allclose(got[1], expected[1])  # the full row moved on
    assert torch.all(weights[0, :, 1:] == 0.0)  # its source has one real position: nothing reaches the padding
    torch.testing.assert_close(weights.sum(-1), torch.ones(BATCH, STEPS))


# On the PyTorch backend (a process of its own: the suite's backend is fixed per process): the decoder with the
# kernel against the same decoder with Keras' loop, on the same weights, inputs and dropout masks.
ON_TORCH = """
import json
import keras, numpy as np, torch
import seq2seq.layers.decoder as decoder_module
from seq2seq.layers.decoder import RecurrentDecoder

kernel = decoder_module._torch_attention_kernel
rng = np.random.default_rng(0)
BATCH, SOURCE, UNITS, MEMORY, VOCAB, EMBED = 3, 4, 6, 5, 9, 7
token_ids = np.array([[3, 4, 5, 0, 0], [2, 6, 7, 8, 3], [0, 0, 0, 0, 0]])  # padded, full, and empty targets
source_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)

def run(decoder, kernel_on, training, memory_values, state_values):
    decoder_module._torch_attention_kernel = kernel if kernel_on else (lambda: None)
    torch.manual_seed(1)  # the input dropout's mask
    for variable in decoder.trainable_variables:
        variable.value.grad = None
    memory = torch.tensor(memory_values, requires_grad=True)
    states = [torch.tensor(s, requires_grad=True) for s in state_values]
    memory_pair = (memory, torch.tensor(source_mask))
    logits, final, weights = decoder(torch.tensor(token_ids), states, memory=memory_pair, training=training)
    results = [logits, *final, weights]
    sum((r * torch.linspace(-1, 1, r.numel()).reshape(r.shape)).sum() for r in results).backward()
    gradients = [v.value.grad for v in decoder.trainable_variables] + [memory.grad] + [s.grad for s in states]
    return [r.detach().numpy() for r in results] + [g.numpy() for g in gradients]

differences, applies = {}, {}
for kind, layers in [("luong-general", 1), ("luong-dot", 1), ("bahdanau", 1), ("luong-general", 2)]:
    memory_units = UNITS if kind == "luong-dot" else MEMORY
    decoder = RecurrentDecoder(VOCAB, UNITS, kind, memory_units, embedding_dim=EMBED, layers=layers, dropout=0.3)
    decoder.build((None, None))
    for variable in decoder.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32") * 0.4)
    memory_values = rng.normal(size=(BATCH, SOURCE, memory_units)).astype("float32")
    state_values = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(2 * layers + 1)]
    applies[f"{kind} x{layers}"] = kernel().decoder_applies(decoder)
    for training in (False, True):
        ours, keras_loop = (run(decoder, on, training, memory_values, state_values) for on in (True, False))
        differences[f"{kind} x{layers} training={training}"] = max(
            float(np.abs(a - b).max()) for a, b in zip(ours, keras_loop, strict=True)
        )
applies["gru"] = kernel().decoder_applies(RecurrentDecoder(VOCAB, UNITS, "luong-general", MEMORY, cell="gru"))
keras.mixed_precision.set_global_policy("mixed_bfloat16")
applies["bfloat16"] = kernel().decoder_applies(RecurrentDecoder(VOCAB, UNITS, "luong-general", MEMORY))
print(json.dumps({"differences": differences, "applies": applies}))
"""

# A model trained a few steps with the kernel and one trained with Keras' loop: the same weights and translations.
TRAINED = """
import json, sys
import numpy as np
import seq2seq
import seq2seq.layers.decoder as decoder_module
from seq2seq.config import ModelConfig, TrainConfig

pairs = seq2seq.read_tatoeba(sys.argv[1], limit=96).pairs
kernel = decoder_module._torch_attention_kernel
kernel_runs, run_decoder = [], kernel().run_decoder
kernel().run_decoder = lambda *arguments: kernel_runs.append(1) or run_decoder(*arguments)
results = []
for kernel_on in (True, False):
    decoder_module._torch_attention_kernel = kernel if kernel_on else (lambda: None)
    model_config = ModelConfig(units=9, attention="luong-general", bidirectional=True, bridge="dense",
                               embedding_dim=5, dropout=0.1)
    train_config = TrainConfig(
        epochs=4, batch_size=16, validation_split=0.0, verbose=0, label_smoothing=0.1, learning_rate=0.02
    )
    model = seq2seq.train(pairs, model_config, train_config)
    weights = model.get_weights()
    results.append((weights, model.translate([source for source, _ in pairs[:12]])))
difference = max(float(np.abs(a - b).max()) for a, b in zip(results[0][0], results[1][0], strict=True))
print(json.dumps({"weight_difference": difference, "translations": [r[1] for r in results], "runs": len(kernel_runs)}))
"""


def _on_torch(script, *arguments) -> dict:
    environment = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, env=environment, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_on_the_torch_backend_the_decoder_gives_the_keras_loops_results_and_gradients_for_every_kind():
    found = _on_torch(ON_TORCH)
    assert found["applies"] == {
        "luong-general x1": True,
        "luong-dot x1": True,
        "bahdanau x1": True,
        "luong-general x2": True,
        "gru": False,
        "bfloat16": False,
    }
    assert len(found["differences"]) == 8 and max(found["differences"].values()) < 1e-5, found


@pytest.mark.slow
def test_a_model_trained_with_the_kernel_has_the_weights_and_translations_of_keras_loop(tatoeba_path):
    found = _on_torch(TRAINED, str(tatoeba_path))
    assert found["runs"] > 0 and found["weight_difference"] < 1e-4, found
    with_kernel, with_keras_loop = found["translations"]
    assert with_kernel == with_keras_loop and any(sentence.strip() for sentence in with_kernel)
