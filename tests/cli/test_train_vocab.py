"""`seq2seq train --joint-vocab --tie-embeddings`: one vocabulary for both sides and one embedding matrix."""

from __future__ import annotations

from pathlib import Path

import pytest

import seq2seq
from seq2seq.cli import main
from seq2seq.config import ModelConfig, read_settings_file

PAIRS = "Go.\tVa !\nHi.\tSalut.\nRun!\tCours !\nWho are you?\tQui êtes-vous ?\nTom ran.\tTom a couru.\n" * 5
SMALL = ["--units", "6", "--embedding-dim", "6", "--vocab-size", "40", "--epochs", "1", "--batch-size", "8"]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "pairs.tsv").write_text(PAIRS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tying_one_hot_inputs_is_refused_in_one_line(capsys, folder):
    assert main(["train", "pairs.tsv", "--out", "m.keras", "--preset", "classic", "--tie-embeddings"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: tie_embeddings") and "embedding_dim" in err and err.count("\n") == 1


def test_a_joint_tied_model_trains_saves_and_loads_with_one_vocabulary_and_one_matrix(capsys, folder):
    assert main(["train", "pairs.tsv", "--out", "m.keras", *SMALL, "--joint-vocab", "--tie-embeddings"]) == 0
    assert "Saved m.keras" in capsys.readouterr().out
    model = seq2seq.load(folder / "m.keras")
    assert model.model_config.joint_vocab and model.model_config.tie_embeddings
    assert model.source_vocab.tokens == model.target_vocab.tokens
    assert model.source_vocab.encode("Tom") == model.target_vocab.encode("Tom")
    assert model.encoder.token_input is model.decoder.token_input


def test_the_default_command_shares_one_vocabulary_and_one_matrix(capsys, folder):
    assert main(["train", "pairs.tsv", "--out", "m.keras", *SMALL]) == 0
    model = seq2seq.load(folder / "m.keras")
    assert model.model_config.preset == "attention"
    assert model.model_config.joint_vocab and model.model_config.tie_embeddings
    assert model.source_vocab.tokens == model.target_vocab.tokens
    assert model.encoder.token_input is model.decoder.token_input


def assert_separate(model) -> None:
    assert not model.model_config.joint_vocab and not model.model_config.tie_embeddings
    assert model.source_vocab.tokens != model.target_vocab.tokens
    assert model.encoder.token_input is not model.decoder.token_input


def test_switching_both_off_trains_separate_vocabularies_and_matrices(capsys, folder):
    assert main(["train", "pairs.tsv", "--out", "m.keras", *SMALL, "--no-joint-vocab", "--no-tie-embeddings"]) == 0
    assert_separate(seq2seq.load(folder / "m.keras"))


def test_a_settings_file_can_switch_both_off_and_a_flag_switches_them_back_on(capsys, folder):
    (folder / "separate.yaml").write_text("joint_vocab: false\ntie_embeddings: false\n", encoding="utf-8")
    assert main(["train", "pairs.tsv", "--out", "m.keras", *SMALL, "--config", "separate.yaml"]) == 0
    assert_separate(seq2seq.load(folder / "m.keras"))
    argv = ["train", "pairs.tsv", "--out", "on.keras", *SMALL, "--config", "separate.yaml", "--joint-vocab"]
    assert main(argv) == 0
    model = seq2seq.load(folder / "on.keras")
    assert model.model_config.joint_vocab and not model.model_config.tie_embeddings


def test_the_example_settings_file_spells_out_the_attention_preset_joint_and_tied():
    example = read_settings_file(Path(__file__).resolve().parents[2] / "examples" / "train.yaml")
    model_settings = {key: value for key, value in example.items() if key in ModelConfig.field_names()}
    assert model_settings["joint_vocab"] is True and model_settings["tie_embeddings"] is True
    assert ModelConfig.from_dict(model_settings) == ModelConfig.from_preset("attention")
