"""`seq2seq train --joint-vocab --tie-embeddings`: one vocabulary for both sides and one embedding matrix."""

from __future__ import annotations

import pytest

import seq2seq
from seq2seq.cli import main

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


def test_without_the_flags_each_side_keeps_its_own_vocabulary_and_matrices(capsys, folder):
    assert main(["train", "pairs.tsv", "--out", "m.keras", *SMALL]) == 0
    model = seq2seq.load(folder / "m.keras")
    assert not model.model_config.joint_vocab and not model.model_config.tie_embeddings
    assert model.source_vocab.tokens != model.target_vocab.tokens
    assert model.encoder.token_input is not model.decoder.token_input
