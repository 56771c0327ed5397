"""The default recipe: the output starts at the token prior, validation is capped, and attention does not collapse."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba, split_pairs
from seq2seq.data.pipeline import EncodedPairs
from seq2seq.training.fit import train, validation_split
from tests.conftest import tiny_model


def test_the_output_bias_starts_at_the_log_frequency_of_each_token():
    model = tiny_model(attention="luong-general", embedding_dim=5)
    vocab_size = model.decoder.vocab_size
    counts = np.arange(vocab_size)
    model.decoder.start_from_token_prior(counts)
    bias = np.asarray(model.decoder.output_projection.bias)
    expected = np.log((counts + 1) / (counts + 1).sum())
    np.testing.assert_allclose(bias, expected - expected.mean(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=f"expected {vocab_size} token counts"):
        model.decoder.start_from_token_prior(counts[:-1])


def test_token_counts_hold_every_target_id_and_one_end_per_sentence():
    model = tiny_model()
    encoded = EncodedPairs.encode([("Go.", "Va !"), ("Hi.", "Va")], model.source_vocab, model.target_vocab)
    counts = encoded.target_token_counts(len(model.target_vocab), model.target_vocab.end_id)
    assert counts[model.target_vocab.end_id] == 2
    assert counts[model.target_vocab.encode("V")[0]] == 2
    assert counts.sum() == len("Va !") + len("Va") + 2


def test_validation_is_a_share_of_the_sources_but_at_most_the_cap():
    pairs = [(f"s{i}", f"t{i}") for i in range(5000)]
    train_pairs, held = validation_split(pairs, TrainConfig(validation_split=0.2, max_validation_sources=300))
    assert len(held) == 300 and len(train_pairs) == 4700
    assert len(validation_split(pairs, TrainConfig(validation_split=0.02))[1]) == 100  # under the default cap of 1000
    assert len(validation_split(pairs, TrainConfig())[1]) == 1000
    assert len(validation_split(pairs, TrainConfig(max_validation_sources=None))[1]) == 1000
    assert (
        split_pairs(pairs, 0.2, seed=0, most_sources=10)[1]
        == validation_split(pairs, TrainConfig(max_validation_sources=10))[1]
    )


@pytest.mark.slow
def test_the_default_model_attends_along_the_source_after_its_first_steps(tatoeba_path):
    """Before the fix, 16 steps put all weight on one source position (entropy 0.006); now it stays spread."""
    from seq2seq.evaluation.attention_stats import attention_statistics

    pairs = read_tatoeba(tatoeba_path).pairs
    pairs = [pairs[i] for i in np.random.default_rng(0).permutation(len(pairs))[:2400]]
    model = train(
        pairs, ModelConfig.from_preset("attention"), TrainConfig(epochs=1, verbose=0, max_validation_sources=100)
    )
    stats = attention_statistics(model, [source for source, _ in pairs[:100]])
    assert stats["entropy"] > 0.3, stats
    assert stats["max_weight"] < 0.8, stats


def test_a_validation_file_replaces_the_split(tmp_path):
    dev = tmp_path / "dev.txt"
    dev.write_text("w1 x1\tv1 y1\nw2 x2\tv2 y0\nw3 x0\tv3 y1\n", encoding="utf-8")
    pairs = [(f"w{i} x{i % 3}", f"v{i} y{i % 2}") for i in range(40)]
    config = ModelConfig(units=6, embedding_dim=4, tokenizer="word")
    model = train(pairs, config, TrainConfig(epochs=2, batch_size=8, verbose=0, validation_file=str(dev)))
    summary = model.training_summary
    assert (summary["training_pairs"], summary["validation_pairs"]) == (40, 3)
    assert len(summary["history"]["val_loss"]) == 2
    with pytest.raises(Exception, match="no-such-dev.txt"):
        train(pairs, config, TrainConfig(epochs=1, verbose=0, validation_file=str(tmp_path / "no-such-dev.txt")))
