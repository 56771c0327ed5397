"""The recurrent decoder: one step at a time gives the teacher-forced sequence, position by position."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.layers.bridge import Bridge
from seq2seq.layers.decoder import IMPOSSIBLE, START_ID, RecurrentDecoder
from seq2seq.layers.encoder import RecurrentEncoder
from seq2seq.layers.recurrent import STATE_KINDS

BATCH, SOURCE, TARGET, UNITS, EMBEDDING, VOCAB, MEMORY = 3, 5, 4, 7, 6, 11, 9  # all different
SOURCE_LENGTHS = np.array([SOURCE, 3, 1])


def _randomize(layer, seed):
    """Nonzero weights everywhere (biases included), so no term of the computation can hide."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5 for w in layer.get_weights()])


def _target_ids(seed, length=TARGET):
    return np.random.default_rng(seed).integers(1, VOCAB, (BATCH, length)).astype("int32")


def _memory(seed, width):
    """Encoder outputs `(batch, src_len, width)` and a source mask with a different length per row."""
    outputs = np.random.default_rng(seed).normal(size=(BATCH, SOURCE, width)).astype("float32")
    return outputs, np.arange(SOURCE)[None] < SOURCE_LENGTHS[:, None]


def _decoder(cell="lstm", attention="none", layers=1, **options):
    """A built decoder with random weights, its initial states and its memory (None without attention)."""
    keras.utils.set_random_seed(0)
    memory_units = {"none": None, "luong-dot": UNITS}.get(attention, MEMORY)  # dot products need one width
    decoder = RecurrentDecoder(
        VOCAB, cell=cell, decoder_units=UNITS, layers=layers, attention=attention, memory_units=memory_units, **options
    )
    rng = np.random.default_rng(1)
    count = layers * len(STATE_KINDS[cell]) + (attention != "none")  # the attentional vector is the last state
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") * 0.5 for _ in range(count)]
    memory = None if attention == "none" else _memory(2, memory_units)
    decoder(_target_ids(3, 1), states, memory)
    _randomize(decoder, 4)
    return decoder, states, memory


def _stepwise(decoder, target_ids, states, memory):
    """Logits `(batch, tgt_len, vocab)` and final states from one `step` per position, states carried."""
    prepared = decoder.prepare_memory(memory)
    logits = []
    for t in range(target_ids.shape[1]):
        step_logits, states = decoder.step(ops.convert_to_tensor(target_ids[:, t]), states, prepared)
        logits.append(ops.convert_to_numpy(step_logits))
    return np.stack(logits, axis=1), [ops.convert_to_numpy(s) for s in states]


def _assert_close(got, expected):
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-5, atol=1e-5)


VARIANTS = {
    "lstm-one-hot": {},
    "gru-one-hot": {"cell": "gru"},
    "lstm-embedding-stacked": {"embedding_dim": EMBEDDING, "layers": 2},
    "gru-embedding-stacked": {"cell": "gru", "embedding_dim": EMBEDDING, "layers": 2},
    "lstm-bahdanau": {"attention": "bahdanau"},
    "gru-bahdanau-embedding": {"cell": "gru", "attention": "bahdanau", "embedding_dim": EMBEDDING},
    "lstm-luong-dot-stacked": {"attention": "luong-dot", "layers": 2},
    "gru-luong-general-stacked": {"cell": "gru", "attention": "luong-general", "layers": 2},
    "lstm-luong-general-embedding-dropout": {"attention": "luong-general", "embedding_dim": EMBEDDING, "dropout": 0.3},
}


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_steps_with_carried_states_give_the_teacher_forced_logits_and_states_at_every_position(variant):
    decoder, states, memory = _decoder(**variant)
    target = _target_ids(5)
    logits, final_states, *weights = decoder(target, states, memory, training=False)
    assert tuple(logits.shape) == (BATCH, TARGET, VOCAB)
    assert [tuple(s.shape) for s in final_states] == [(BATCH, UNITS)] * len(states)
    assert [tuple(w.shape) for w in weights] == ([(BATCH, TARGET, SOURCE)] if decoder.has_attention else [])
    step_logits, step_states = _stepwise(decoder, target, states, memory)
    _assert_close(step_logits, logits)
    _assert_close(step_states, final_states)


@pytest.mark.parametrize("attention", ["bahdanau", "luong-general"])
def test_attended_steps_give_the_attention_weights_of_the_whole_sequence_and_none_on_source_padding(attention):
    decoder, states, memory = _decoder(attention=attention)
    target = _target_ids(6)
    _, _, weights = decoder(target, states, memory)
    prepared = decoder.prepare_memory(memory)
    for t in range(TARGET):
        _, states, step_weights = decoder.attended_step(ops.convert_to_tensor(target[:, t]), states, prepared)
        _assert_close([step_weights], [weights[:, t]])
    weights = ops.convert_to_numpy(weights)
    assert np.all(weights[~np.broadcast_to(memory[1][:, None], weights.shape)] == 0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)


PADDING_VARIANTS = {
    "lstm": {},
    "gru-embedding-stacked": {"cell": "gru", "embedding_dim": EMBEDDING, "layers": 2},
    "lstm-bahdanau": {"attention": "bahdanau"},
    "gru-luong-dot-stacked": {"cell": "gru", "attention": "luong-dot", "layers": 2},
}


@pytest.mark.parametrize("variant", PADDING_VARIANTS.values(), ids=PADDING_VARIANTS.keys())
def test_final_states_after_a_right_padded_target_are_the_states_after_its_last_real_token(variant):
    decoder, states, memory = _decoder(**variant)
    target = _target_ids(7)
    target[1, 2:] = target[2, 1:] = 0  # three lengths: 4, 2 and 1
    padded = np.concatenate([target, np.zeros((BATCH, 2), "int32")], axis=1)
    logits, final_states = decoder(target, states, memory)[:2]
    padded_logits, padded_states = decoder(padded, states, memory)[:2]
    real = target != 0
    _assert_close([ops.convert_to_numpy(padded_logits)[:, :TARGET][real]], [ops.convert_to_numpy(logits)[real]])
    _assert_close(padded_states, final_states)

    def alone(i):  # sentence i by itself, its real tokens only
        row_memory = None if memory is None else tuple(part[i : i + 1] for part in memory)
        return decoder(target[i : i + 1, : real[i].sum()], [s[i : i + 1] for s in states], row_memory)[1]

    _assert_close(padded_states, [ops.concatenate(parts, axis=0) for parts in zip(*map(alone, range(BATCH)))])


SAME_ON_BACKEND = """
import sys
from tests.layers import test_decoder as module
# The attention path's own scan; without attention the states are Keras' masked recurrent layers'.
variant = module.PADDING_VARIANTS["lstm-bahdanau"]
module.test_final_states_after_a_right_padded_target_are_the_states_after_its_last_real_token(variant)
print("checked", module.keras.backend.backend())
"""


@pytest.mark.slow
def test_final_states_after_right_padding_are_the_last_real_tokens_states_on_jax_and_torch():
    """The searches' prefix forcing relies on this on every backend; each runs in its own process, both at once."""
    backends = [name for name in ("jax", "torch") if importlib.util.find_spec(name) is not None]
    if not backends:
        pytest.skip("neither JAX nor PyTorch is installed")
    root = Path(__file__).resolve().parents[2]
    runs = {
        backend: subprocess.Popen(
            [sys.executable, "-c", SAME_ON_BACKEND],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
            cwd=root,
        )
        for backend in backends
    }
    for backend, run in runs.items():
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-3000:]
        assert out.split()[-2:] == ["checked", backend]


@pytest.mark.parametrize("attention", ["bahdanau", "luong-dot"])
def test_target_padding_leaves_the_attention_decoders_real_positions_alone(attention):
    decoder, states, memory = _decoder(attention=attention)
    target = _target_ids(8)
    padded = np.concatenate([target, np.zeros((BATCH, 3), "int32")], axis=1)
    logits, _, weights = decoder(target, states, memory)
    padded_logits, _, padded_weights = decoder(padded, states, memory)
    _assert_close([padded_logits[:, :TARGET], padded_weights[:, :TARGET]], [logits, weights])


def test_source_padding_beyond_each_length_changes_no_attention_decoder_output():
    decoder, states, (outputs, mask) = _decoder(attention="bahdanau")
    target = _target_ids(9)
    noisy = np.where(mask[..., None], outputs, np.random.default_rng(10).normal(size=outputs.shape).astype("float32"))
    _assert_close(decoder(target, states, (noisy, mask)), decoder(target, states, (outputs, mask)))


def test_padding_and_start_ids_are_never_predicted():
    decoder, states, memory = _decoder(attention="luong-general")
    logits = ops.convert_to_numpy(decoder(_target_ids(11), states, memory)[0])
    never = np.isin(np.arange(VOCAB), [0, START_ID])
    assert np.all(logits[..., never] == IMPOSSIBLE)
    assert np.all(np.abs(logits[..., ~never]) < 1e3)


@pytest.mark.parametrize(
    "bridge, cell, encoder_units, decoder_units",
    [("concat", "lstm", 4, 8), ("sum", "gru", 4, 4), ("dense", "lstm", 4, UNITS)],
    ids=["concat-lstm", "sum-gru", "dense-lstm"],
)
def test_steps_from_a_bidirectional_encoders_bridged_states_give_the_teacher_forced_logits(
    bridge, cell, encoder_units, decoder_units
):
    keras.utils.set_random_seed(0)
    source = np.random.default_rng(12).integers(1, VOCAB - 1, (BATCH, SOURCE)).astype("int32")
    source[np.arange(SOURCE)[None] >= SOURCE_LENGTHS[:, None]] = 0
    encoder = RecurrentEncoder(VOCAB - 1, cell=cell, units=encoder_units, layers=1, bidirectional=True)
    bridge_layer = Bridge(
        bridge, cell, encoder_layers=1, decoder_layers=2, bidirectional=True, decoder_units=decoder_units
    )
    decoder = RecurrentDecoder(
        VOCAB, cell=cell, decoder_units=decoder_units, layers=2, attention="bahdanau", memory_units=2 * encoder_units
    )
    target = _target_ids(13)

    def encode():
        outputs, final_states = encoder(source)
        states = bridge_layer(list(final_states), outputs, source != 0)
        return states + [ops.zeros((BATCH, decoder_units))], (outputs, source != 0)  # the first attentional vector

    decoder(target[:, :1], *encode())
    for seed, layer in enumerate((encoder, bridge_layer, decoder)):
        _randomize(layer, seed)
    states, memory = encode()
    logits = decoder(target, states, memory)[0]
    _assert_close([_stepwise(decoder, target, states, memory)[0]], [logits])


@pytest.mark.parametrize(
    "variant", [{}, {"cell": "gru", "attention": "luong-general", "embedding_dim": EMBEDDING, "layers": 2}],
    ids=["lstm", "gru-attention"],
)  # fmt: skip
def test_a_decoder_rebuilt_from_its_config_with_the_same_weights_gives_the_same_outputs(variant):
    decoder, states, memory = _decoder(**variant, dropout=0.2)
    copy = RecurrentDecoder.from_config(decoder.get_config())
    assert copy.get_config() == decoder.get_config()
    target = _target_ids(15)
    copy(target, states, memory)
    copy.set_weights(decoder.get_weights())
    _assert_close(copy(target, states, memory), decoder(target, states, memory))


def test_a_config_takes_the_command_lines_names_and_one_written_with_units_builds_the_same_decoder():
    decoder, _, _ = _decoder(attention="bahdanau")
    config = decoder.get_config()
    assert (config["decoder_units"], config["attention"]) == (UNITS, "bahdanau") and "units" not in config
    assert decoder.attention == "bahdanau" and decoder.attention_layer.attention == "bahdanau"
    former = {("units" if key == "decoder_units" else key): value for key, value in config.items()}
    assert RecurrentDecoder.from_config(former).get_config() == config


def test_an_attention_decoder_saved_in_a_keras_file_loads_with_the_same_outputs(tmp_path):
    decoder, states, memory = _decoder(attention="bahdanau", layers=2)
    tokens = keras.Input((None,), dtype="int32")
    state_inputs = [keras.Input((UNITS,)) for _ in states]
    memory_inputs = [keras.Input((None, MEMORY)), keras.Input((None,))]
    logits, new_states, weights = decoder(tokens, state_inputs, memory_inputs)
    model = keras.Model([tokens, *state_inputs, *memory_inputs], [logits, *new_states, weights])
    model.save(tmp_path / "decoder.keras")
    loaded = keras.saving.load_model(tmp_path / "decoder.keras")
    inputs = [_target_ids(16), *states, memory[0], memory[1].astype("float32")]
    _assert_close(loaded(inputs), model(inputs))
    assert isinstance(loaded.get_layer(decoder.name), RecurrentDecoder)


def test_the_output_bias_starts_at_the_centred_log_prior_of_the_token_counts():
    decoder, _, _ = _decoder()
    counts = np.arange(VOCAB)
    decoder.start_from_token_prior(counts)
    bias = ops.convert_to_numpy(decoder.output_projection.bias)
    log_prior = np.log((counts + 1) / (counts + 1).sum())
    np.testing.assert_allclose(bias, log_prior - log_prior.mean(), rtol=1e-6)
    with pytest.raises(ValueError, match=f"expected {VOCAB} token counts"):
        decoder.start_from_token_prior(counts[:-1])
