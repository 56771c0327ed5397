"""Attention pictures: drawn for attention models, refused in one sentence for the others."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import tiny_model
from seq2seq.attention_plot import NoAttentionError, attention_matrix, plot_attention
from seq2seq.cli import main


def test_attention_rows_are_distributions_over_the_source_and_follow_the_greedy_translation():
    model = tiny_model(seed=31, bidirectional=True, bridge="dense", attention="bahdanau", embedding_dim=4)
    sources, output_ids, weights = attention_matrix(model, "Who are you?")
    assert sources == list("Who are you?")
    assert weights.shape == (len(output_ids), len(sources))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert model.target_vocab.decode(output_ids) == model.translate(["Who are you?"])[0]


def test_plot_attention_writes_an_image_and_returns_the_translation(tmp_path):
    model = tiny_model(seed=32, attention="luong-general")
    path = tmp_path / "attention.png"
    translation = plot_attention(model, "Go.", path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert translation == model.translate(["Go."])[0]
    assert [p.name for p in tmp_path.iterdir()] == ["attention.png"]


def test_a_model_without_attention_says_it_has_no_attention_picture(tmp_path, capsys):
    model = tiny_model(seed=33)
    with pytest.raises(NoAttentionError, match="has no attention"):
        attention_matrix(model, "Go.")
    path = tmp_path / "model.keras"
    model.save(path)
    assert main(["translate", str(path), "Go.", "--plot-attention", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no attention" in err and "--attention luong-general" in err
    assert not (tmp_path / "a.png").exists()
