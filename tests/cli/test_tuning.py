"""`seq2seq train --from BASE.keras`: fine-tuning from the command line, and its refusals in one line."""

from __future__ import annotations

import json

import pytest

import seq2seq
from seq2seq.cli import main
from tests.conftest import tiny_model

PAIRS = "Go.\tVa !\nHi.\tSalut.\nRun!\tCours !\nWho are you?\tQui êtes-vous ?\n" * 6


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuning")
    tiny_model(seed=3, attention="luong-general", embedding_dim=3).save(folder / "base.keras")
    (folder / "pairs.tsv").write_text(PAIRS, encoding="utf-8")
    (folder / "notes.txt").write_text("not a model\n", encoding="utf-8")
    return folder


def refusal(capsys, folder, monkeypatch, *argv) -> str:
    monkeypatch.chdir(folder)
    assert main(["train", "pairs.tsv", "--out", "tuned.keras", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1, err
    return err


def test_from_a_file_that_is_not_a_model_names_it(capsys, folder, monkeypatch):
    assert "--from: notes.txt is not a keras-seq2seq model file" in refusal(
        capsys, folder, monkeypatch, "--from", "notes.txt"
    )


def test_options_that_would_change_the_base_model_are_refused_by_name(capsys, folder, monkeypatch):
    assert "--units cannot be combined with --from" in refusal(
        capsys, folder, monkeypatch, "--from", "base.keras", "--units", "64"
    )
    assert "--freeze needs --from" in refusal(capsys, folder, monkeypatch, "--freeze", "encoder")


def test_switching_off_a_shared_vocabulary_or_tying_is_refused_with_the_flag_as_given(capsys, folder, monkeypatch):
    assert "--no-joint-vocab cannot be combined with --from" in refusal(
        capsys, folder, monkeypatch, "--from", "base.keras", "--no-joint-vocab"
    )
    assert "--tie-embeddings cannot be combined with --from" in refusal(
        capsys, folder, monkeypatch, "--from", "base.keras", "--tie-embeddings"
    )
    (folder / "separate.yaml").write_text("tie_embeddings: false\n", encoding="utf-8")
    assert "`tie_embeddings:` in separate.yaml cannot be combined" in refusal(
        capsys, folder, monkeypatch, "--from", "base.keras", "--config", "separate.yaml"
    )


def test_a_fine_tuning_keeps_the_base_vocabularies_and_records_its_base(capsys, folder, monkeypatch):
    monkeypatch.chdir(folder)
    argv = ["train", "pairs.tsv", "--out", "tuned.keras", "--from", "base.keras", "--freeze", "embeddings"]
    assert main([*argv, "--epochs", "2", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    assert "Saved tuned.keras" in out
    base, tuned = seq2seq.load(folder / "base.keras"), seq2seq.load(folder / "tuned.keras")
    assert tuned.source_vocab.tokens == base.source_vocab.tokens
    assert tuned.target_vocab.tokens == base.target_vocab.tokens
    assert tuned.model_config == base.model_config
    summary = json.loads(json.dumps(tuned.training_summary))
    assert summary["fine_tuning"]["frozen"] == "embeddings" and summary["fine_tuning"]["learning_rate"] == 1e-3
