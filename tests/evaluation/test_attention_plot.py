"""Attention pictures: drawn for attention models, refused in one sentence for the others."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.cli import main
from seq2seq.evaluation.attention_plot import NoAttentionError, attention_matrix, plot_attention
from tests.conftest import tiny_model


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


@pytest.mark.slow
def test_attention_alone_learns_to_copy_and_looks_at_the_aligned_word():
    """With no state passed (bridge zero), attention is the decoder's only view of the source."""
    import random

    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.training.fit import train

    rng = random.Random(0)
    words = [f"w{i}" for i in range(20)]
    sentences = [[rng.choice(words) for _ in range(rng.randint(3, 7))] for _ in range(3200)]
    pairs = [(" ".join(s), " ".join(w.upper() for w in s)) for s in sentences]
    config = ModelConfig(units=48, embedding_dim=16, tokenizer="word", bridge="zero", attention="luong-general")
    model = train(pairs[:3000], config, TrainConfig(epochs=12, batch_size=32, learning_rate=3e-3, verbose=0))
    held_out = pairs[3000:]
    translations = model.translate([source for source, _ in held_out])
    assert np.mean([t == r for t, (_, r) in zip(translations, held_out)]) >= 0.95
    _, output_ids, weights = attention_matrix(model, "w1 w2 w3 w4 w5")
    assert output_ids[:5] == [model.target_vocab.token_to_id[w] for w in ["W1", "W2", "W3", "W4", "W5"]]
    assert weights[:5].argmax(axis=1).tolist() == [0, 1, 2, 3, 4]
