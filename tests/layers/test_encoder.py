"""The recurrent encoder: shapes, right padding that changes nothing real, and its config."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.layers.encoder import RecurrentEncoder

BATCH, SOURCE, UNITS, EMBEDDING, VOCAB = 3, 5, 7, 6, 11  # all different
LENGTHS = np.array([SOURCE, 3, 1])

VARIANTS = {
    "lstm-one-hot": {},
    "gru-embedding-stacked": {"cell": "gru", "embedding_dim": EMBEDDING, "layers": 2},
    "lstm-one-hot-bidirectional": {"bidirectional": True},
    "gru-embedding-bidirectional": {"cell": "gru", "embedding_dim": EMBEDDING, "bidirectional": True},
}


def _source_ids(seed):
    """Ids `(batch, src_len)` with a different number of real tokens per row, padded on the right with 0."""
    ids = np.random.default_rng(seed).integers(1, VOCAB, (BATCH, SOURCE)).astype("int32")
    ids[np.arange(SOURCE)[None] >= LENGTHS[:, None]] = 0
    return ids


def _encoder(**options):
    """A built encoder with nonzero random weights everywhere, biases included."""
    keras.utils.set_random_seed(0)
    encoder = RecurrentEncoder(VOCAB, units=UNITS, **options)
    encoder(_source_ids(0))
    rng = np.random.default_rng(1)
    encoder.set_weights([rng.normal(size=w.shape).astype("float32") * 0.5 for w in encoder.get_weights()])
    return encoder


def _numpy(tensors):
    return [ops.convert_to_numpy(t) for t in tensors]


def _assert_close(got, expected):
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_outputs_are_per_position_and_states_per_layer_direction_and_kind(variant):
    encoder = _encoder(**variant)
    outputs, states = encoder(_source_ids(2))
    directions = 2 if encoder.bidirectional else 1
    kinds = 2 if encoder.cell == "lstm" else 1
    assert tuple(outputs.shape) == (BATCH, SOURCE, directions * UNITS)
    assert [tuple(s.shape) for s in states] == [(BATCH, UNITS)] * (encoder.layers * directions * kinds)


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_appended_padding_changes_neither_the_real_positions_nor_the_final_states(variant):
    encoder = _encoder(**variant)
    source = _source_ids(3)
    outputs, states = encoder(source)
    padded_outputs, padded_states = encoder(np.pad(source, ((0, 0), (0, 4))))
    real = source != 0
    _assert_close([ops.convert_to_numpy(padded_outputs)[:, :SOURCE][real]], [ops.convert_to_numpy(outputs)[real]])
    _assert_close(_numpy(padded_states), _numpy(states))


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_each_sentences_final_states_are_those_of_the_sentence_encoded_alone(variant):
    encoder = _encoder(**variant)
    source = _source_ids(4)
    _, states = encoder(source)
    for row, length in enumerate(LENGTHS):
        _, alone = encoder(source[row : row + 1, :length])
        _assert_close([s[0] for s in _numpy(alone)], [s[row] for s in _numpy(states)])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_backward_direction_reads_each_sentence_from_its_last_real_token(cell):
    encoder = _encoder(cell=cell, embedding_dim=EMBEDDING, bidirectional=True)
    backward = RecurrentEncoder(VOCAB, cell=cell, units=UNITS, embedding_dim=EMBEDDING)
    source = _source_ids(5)
    backward(source)
    weights = encoder.get_weights()  # the embedding, then the forward layer's weights, then the backward layer's
    backward.set_weights([weights[0], *weights[1 + (len(weights) - 1) // 2 :]])
    outputs = ops.convert_to_numpy(encoder(source)[0])
    for row, length in enumerate(LENGTHS):  # the backward half, reversed, is a forward pass over the reversed sentence
        reversed_outputs = ops.convert_to_numpy(backward(source[row : row + 1, :length][:, ::-1].copy())[0])
        _assert_close([outputs[row, :length, UNITS:][::-1]], [reversed_outputs[0]])


@pytest.mark.parametrize("variant", [{}, VARIANTS["gru-embedding-bidirectional"]], ids=["lstm", "gru-bidirectional"])
def test_an_encoder_rebuilt_from_its_config_with_the_same_weights_gives_the_same_outputs(variant):
    encoder = _encoder(**variant, dropout=0.25)
    copy = RecurrentEncoder.from_config(encoder.get_config())
    assert copy.get_config() == encoder.get_config()
    source = _source_ids(6)
    copy(source)
    copy.set_weights(encoder.get_weights())
    outputs, states = encoder(source)
    copy_outputs, copy_states = copy(source)
    _assert_close(_numpy([copy_outputs, *copy_states]), _numpy([outputs, *states]))


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer")  # the encoder has no `build` (see report)
def test_an_encoder_saved_in_a_keras_file_loads_with_the_same_outputs(tmp_path):
    encoder = _encoder(embedding_dim=EMBEDDING, layers=2)
    tokens = keras.Input((None,), dtype="int32")
    outputs, states = encoder(tokens)
    model = keras.Model(tokens, [outputs, *states])
    model.save(tmp_path / "encoder.keras")
    loaded = keras.saving.load_model(tmp_path / "encoder.keras")
    source = _source_ids(7)
    assert isinstance(loaded.get_layer(encoder.name), RecurrentEncoder)
    _assert_close(_numpy(loaded(source)), _numpy(model(source)))


def test_dropout_changes_only_training_outputs():
    encoder = _encoder(embedding_dim=EMBEDDING, dropout=0.5)
    source = _source_ids(8)
    inference = _numpy([encoder(source)[0], encoder(source, training=False)[0]])
    _assert_close([inference[0]], [inference[1]])
    assert not np.allclose(ops.convert_to_numpy(encoder(source, training=True)[0]), inference[0])
