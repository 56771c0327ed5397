"""Sizes from the settings alone: the parameter count matches built models, and a training that cannot fit is one
line."""

from __future__ import annotations

import pytest

from seq2seq.config import ModelConfig
from seq2seq.errors import ConfigError
from seq2seq.training.sizes import (
    check_fits,
    corpus_sizes,
    count_parameters,
    estimate,
    format_bytes,
    memory_limit,
    parse_size,
)
from tests.conftest import one_line_error, tiny_model

PAIRS = [("Go.", "Va !"), ("Who are you?", "Qui êtes-vous ?")]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"cell": "gru"},
        {"embedding_dim": 3},
        {"bidirectional": True, "bridge": "dense"},
        {"attention": "luong-general", "embedding_dim": 5, "layers": 2},
        {"attention": "bahdanau", "cell": "gru", "bidirectional": True, "bridge": "concat"},
        {"attention": "luong-dot", "bidirectional": True, "bridge": "concat", "layers": 2, "decoder_layers": 3},
    ],
)
def test_the_parameter_count_equals_the_built_models(config):
    model = tiny_model(**config)
    assert (
        count_parameters(model.model_config, len(model.source_vocab), len(model.target_vocab)) == model.count_params()
    )


@pytest.mark.parametrize(
    "joint, tie, config",
    [
        (True, False, {}),
        (False, True, {}),
        (True, True, {}),
        (True, True, {"embedding_dim": 5}),  # a decoder wider than the embedding maps to its width first
        (False, True, {"embedding_dim": 5, "attention": "none", "bridge": "concat"}),
    ],
)
def test_the_parameter_count_of_joint_and_tied_models_equals_the_built_models(joint, tie, config):
    from tests.models.test_seq2seq_tied import tied_model

    model = tied_model(joint=joint, tie=tie, **config)
    counted = count_parameters(model.model_config, len(model.source_vocab), len(model.target_vocab))
    assert counted == model.count_params()


def test_batches_by_tokens_are_estimated_by_the_rows_of_the_longest_pairs(monkeypatch):
    config = ModelConfig(units=7, embedding_dim=5)
    longest_target = corpus_sizes(config, PAIRS)[3]
    by_rows = check_fits(config, PAIRS, max(1, 40 // longest_target))
    assert check_fits(config, PAIRS, 64, batch_tokens=40).batch_bytes == by_rows.batch_bytes
    monkeypatch.setenv("SEQ2SEQ_MEMORY_LIMIT", "1K")
    assert "lower --units" in one_line_error(ConfigError, check_fits, config, PAIRS, 64, batch_tokens=40)
    assert one_line_error(ConfigError, check_fits, config, PAIRS, 64, batch_tokens=40).endswith("--batch-tokens.")


def test_the_estimate_grows_with_the_batch_and_the_longest_pair():
    config = ModelConfig(units=7, embedding_dim=5)
    small = estimate(config, 11, 13, batch_size=2, source_length=3, target_length=4)
    assert small.weight_bytes == count_parameters(config, 11, 13) * 16  # float32 weight, gradient, two Adam moments
    assert estimate(config, 11, 13, 4, 3, 4).batch_bytes == 2 * small.batch_bytes
    assert estimate(config, 11, 13, 2, 30, 40).batch_bytes > 9 * small.batch_bytes


def test_corpus_sizes_count_characters_and_the_special_tokens():
    assert corpus_sizes(ModelConfig(), PAIRS) == (
        len(set("Go.Who are you?")) + 4,
        len(set("Va !Qui êtes-vous ?")) + 4,
        13,
        16,
    )
    assert corpus_sizes(ModelConfig(tokenizer="subword", vocab_size=300), PAIRS)[:2] == (304, 304)


def test_a_training_past_the_limit_is_one_line_with_the_estimate_and_the_limit(monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_MEMORY_LIMIT", "512M")
    message = one_line_error(ConfigError, check_fits, ModelConfig(units=5000, embedding_dim=3), PAIRS, 64)
    parameters = count_parameters(ModelConfig(units=5000, embedding_dim=3), *corpus_sizes(ModelConfig(), PAIRS)[:2])
    assert f"({parameters:,} parameters" in message and "but the limit is 512 MB (SEQ2SEQ_MEMORY_LIMIT=512M)" in message
    assert check_fits(ModelConfig(units=7), PAIRS, 64).parameters < 10_000


def test_the_limit_is_the_memory_available_without_a_setting(monkeypatch):
    monkeypatch.delenv("SEQ2SEQ_MEMORY_LIMIT", raising=False)
    limit, where = memory_limit()
    assert limit is None or (limit > 0 and "memory" in where)


@pytest.mark.parametrize(
    "text, count", [("8G", 8 * 2**30), ("512M", 512 * 2**20), ("1.5g", 3 * 2**29), ("1000", 1000), ("2 GiB", 2**31)]
)
def test_sizes_are_read_with_binary_units(text, count):
    assert parse_size(text) == count


def test_a_size_that_is_not_one_is_refused_and_bytes_are_shown_in_three_figures():
    assert "must be a size such as 8G" in one_line_error(ConfigError, parse_size, "lots")
    assert (format_bytes(512), format_bytes(3 * 2**29), format_bytes(5 * 2**40)) == ("512 B", "1.5 GB", "5 TB")
