"""Seq2Seq: the training graph, the classic inference models, translate, save and load."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from seq2seq.errors import ConfigError, ModelFileError
from seq2seq.models.classic import decode_sequence
from seq2seq.models.format import FORMAT_VERSION
from seq2seq.models.loading import load
from seq2seq.translation.translator import default_max_length
from tests.conftest import tiny_model

SOURCES = ["Go.", "Who are you?", "Hi.", "", "Run! Run!", "Go?"]


def test_training_graph_maps_token_ids_to_logits_over_the_target_vocabulary():
    model = tiny_model(units=5)
    source = np.array([[4, 5, 6, 0], [7, 0, 0, 0]], dtype="int32")
    target = np.array([[2, 4, 5], [2, 6, 0]], dtype="int32")
    logits = model({"encoder_tokens": source, "decoder_tokens": target})
    assert tuple(logits.shape) == (2, 3, len(model.target_vocab))


def test_encoder_model_returns_the_named_decoder_initial_states():
    model = tiny_model(units=5, layers=2)
    assert [t.name for t in model.encoder_model.inputs] == ["encoder_tokens"]
    assert model.encoder_model.output_names == ["state_h_0", "state_c_0", "state_h_1", "state_c_1"]
    states = model.encoder_model.predict(np.array([[4, 5, 6]], dtype="int32"), verbose=0)
    assert [s.shape for s in states] == [(1, 5)] * 4


def test_decoder_model_takes_tokens_and_states_and_returns_probabilities_and_new_states():
    model = tiny_model(units=5)
    assert [t.name for t in model.decoder_model.inputs] == ["decoder_tokens", "state_h_0", "state_c_0"]
    assert model.decoder_model.output_names == ["probabilities", "new_state_h_0", "new_state_c_0"]
    assert [tuple(t.shape) for t in model.decoder_model.outputs] == [
        (None, 1, len(model.target_vocab)),
        (None, 5),
        (None, 5),
    ]
    zeros = np.zeros((3, 5), dtype="float32")
    probabilities, h, c = model.decoder_model.predict([np.full((3, 1), 2, "int32"), zeros, zeros], verbose=0)
    assert probabilities.shape == (3, 1, len(model.target_vocab))
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert h.shape == c.shape == (3, 5)


def test_gru_models_carry_one_state_per_layer():
    model = tiny_model(cell="gru", layers=2, units=3)
    assert model.state_names == ["state_h_0", "state_h_1"]
    assert [t.name for t in model.decoder_model.inputs] == ["decoder_tokens", "state_h_0", "state_h_1"]


@pytest.mark.parametrize(
    "config",
    [
        {"cell": "lstm", "layers": 1},
        {"cell": "lstm", "layers": 2, "embedding_dim": 3},
        {"cell": "gru", "layers": 1, "embedding_dim": 5},
        {"cell": "gru", "layers": 2},
        {"cell": "lstm", "layers": 1, "tokenizer": "word", "embedding_dim": 3},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_hand_written_classic_loop_gives_the_same_text_as_translate(config):
    model = tiny_model(seed=3, **config)
    translations = model.translate(SOURCES)
    for source, translation in zip(SOURCES, translations):
        length = default_max_length(len(model.source_vocab.encode(source)))
        assert decode_sequence(model, source, length) == translation


def test_translating_in_a_batch_gives_the_same_text_as_one_at_a_time():
    model = tiny_model(seed=1, units=9)
    together = model.translate(SOURCES * 3, batch_size=4)
    alone = [model.translate([source])[0] for source in SOURCES]
    assert together == alone * 3


@pytest.mark.parametrize("beam", [1, 3])
def test_a_model_with_dropout_translates_batch_after_batch_as_one_without_it(beam):
    # Recurrent cells draw dropout masks in inference too; in a compiled search on JAX that
    # drawing leaked a tracer and broke the second batch.
    settings = {
        "cell": "lstm",
        "embedding_dim": 6,
        "bidirectional": True,
        "bridge": "dense",
        "attention": "luong-general",
    }
    with_dropout, without = tiny_model(seed=4, dropout=0.3, **settings), tiny_model(seed=4, **settings)
    with_dropout.set_weights(without.get_weights())
    assert with_dropout.translate(SOURCES * 3, batch_size=2, beam=beam) == without.translate(
        SOURCES * 3, batch_size=2, beam=beam
    )
    assert with_dropout.encoder.rnn_layers[0].forward_layer.cell.dropout == 0.3  # restored after the search


@pytest.mark.parametrize("beam", [1, 3])
def test_dropping_ended_sentences_from_a_batch_changes_no_result(beam, monkeypatch):
    import seq2seq.translation.translator as translator
    from seq2seq.search.config import SearchConfig

    model = tiny_model(seed=5, embedding_dim=6, bidirectional=True, bridge="dense", attention="luong-general")
    words = ["Go.", "Hi.", "Run!", "Who are you?"]
    texts = [" ".join(words[: 1 + i % 4] * (1 + i % 3)) for i in range(300)]  # ends spread over many steps
    config = SearchConfig(beam=beam, batch_size=300)
    compactions = []
    keep = translator.keep_sentences
    monkeypatch.setattr(translator, "keep_sentences", lambda *args: compactions.append(len(args[1])) or keep(*args))
    monkeypatch.setattr(translator, "MIN_WORK", 0)  # the tiny model is below the size where dropping pays
    compacting = translator.Translator(model).search_ids(texts, config)
    assert len(compactions) >= 2  # the batch was cut down more than once
    for (ids, scores), (one_loop_ids, one_loop_scores) in zip(
        compacting, translator.Translator(model, compact=False).search_ids(texts, config)
    ):
        np.testing.assert_array_equal(ids, one_loop_ids)
        np.testing.assert_allclose(scores, one_loop_scores, rtol=1e-5)


def test_translate_returns_texts_in_the_callers_order():
    model = tiny_model(seed=2)
    forward = model.translate(SOURCES)
    backward = model.translate(SOURCES[::-1])
    assert backward == forward[::-1]


def test_translate_refuses_a_bare_string():
    with pytest.raises(TypeError, match="list of texts"):
        tiny_model().translate("Go.")


@pytest.mark.parametrize("options", [{"batch_size": 0}, {"max_length": -1}, {"batch_size": 2.5}])
def test_translate_names_an_invalid_option(options):
    name, value = next(iter(options.items()))
    with pytest.raises(ConfigError, match=f"{name} must be a positive integer.*got {value!r}"):
        tiny_model().translate(["Go."], **options)


def test_max_length_caps_the_output_in_tokens():
    model = tiny_model(seed=4)
    for text in model.translate(SOURCES, max_length=2):
        assert len(model.target_vocab.tokenizer.tokenize(text.replace("<unk>", "?"))) <= 2  # <unk> is one token


def test_a_saved_model_loads_with_its_vocabularies_and_translates_the_same(tmp_path):
    model = tiny_model(seed=5, embedding_dim=4, layers=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load(path)
    assert loaded.source_vocab.tokens == model.source_vocab.tokens
    assert loaded.target_vocab.tokens == model.target_vocab.tokens
    assert loaded.model_config == model.model_config
    assert loaded.translate(SOURCES) == model.translate(SOURCES)
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]  # no temporary file left


def test_a_reloaded_model_translates_the_same_in_a_fresh_process(tmp_path):
    model = tiny_model(seed=6, cell="gru", embedding_dim=3)
    path = tmp_path / "model.keras"
    model.save(path)
    script = (
        "import json, sys, seq2seq; "
        "m = seq2seq.load(sys.argv[1]); print(json.dumps(m.translate(json.loads(sys.argv[2]))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path), json.dumps(SOURCES)], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == model.translate(SOURCES)


def test_saving_needs_the_keras_extension(tmp_path):
    with pytest.raises(ModelFileError, match=r"must end with \.keras"):
        tiny_model().save(tmp_path / "model.h5")


def test_saving_into_a_missing_folder_fails_with_one_sentence_and_leaves_nothing(tmp_path):
    with pytest.raises(ModelFileError, match="cannot be written"):
        tiny_model().save(tmp_path / "missing" / "model.keras")
    assert list(tmp_path.iterdir()) == []


def test_loading_something_that_is_not_a_model_says_so(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match="not a keras-seq2seq model file"):
        load(path)


def test_loading_a_truncated_model_says_so(tmp_path):
    path = tmp_path / "model.keras"
    tiny_model().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a keras-seq2seq model file|truncated or damaged"):
        load(path)


def test_loading_a_missing_file_names_it(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load(tmp_path / "absent.keras")


def test_a_model_written_by_a_newer_format_version_is_refused_with_one_sentence(tmp_path):
    import zipfile

    path = tmp_path / "model.keras"
    tiny_model().save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["format_version"] = 99
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=f"format version 99, newer than the {FORMAT_VERSION} "):
        load(path)
