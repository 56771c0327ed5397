"""Tests of seq2seq.config: ModelConfig and TrainConfig validation, presets, dict round trip."""

from __future__ import annotations

import dataclasses

import pytest

from seq2seq.config import ModelConfig, TrainConfig, parse_duration
from seq2seq.errors import ConfigError, Seq2SeqError
from tests.conftest import one_line_error

FIELDS = sorted(
    ["attention", "bidirectional", "bridge", "cell", "decoder_layers", "dropout", "embedding_dim", "layers"]
    + ["lowercase", "preset", "tokenizer", "units", "vocab_size", "joint_vocab", "tie_embeddings"]
)


def message_of(call, *args, **kwargs) -> str:
    """Run a call that must raise ConfigError and return its one-line message."""
    return one_line_error(ConfigError, call, *args, **kwargs)


# ModelConfig defaults and presets


def test_model_config_defaults_are_the_classic_recipe():
    config = ModelConfig()
    assert config.preset == "classic"
    assert config.cell == "lstm"
    assert config.units == 256
    assert config.layers == 1
    assert config.embedding_dim is None
    assert config.dropout == 0.0
    assert config.tokenizer == "char"
    assert config.lowercase is False


def test_classic_preset_equals_the_defaults():
    assert ModelConfig.from_preset("classic") == ModelConfig()
    assert ModelConfig.from_preset() == ModelConfig()


def test_from_preset_applies_overrides():
    config = ModelConfig.from_preset("classic", cell="gru", units=32, embedding_dim=16, tokenizer="word")
    assert (config.cell, config.units, config.embedding_dim, config.tokenizer) == ("gru", 32, 16, "word")
    assert config.layers == 1 and config.preset == "classic"


def test_from_preset_ignores_none_overrides():
    config = ModelConfig.from_preset("classic", units=None, cell=None, layers=2)
    assert config.units == 256 and config.cell == "lstm" and config.layers == 2


def test_from_preset_validates_the_overrides():
    assert "units" in message_of(ModelConfig.from_preset, "classic", units=0)


def test_from_preset_rejects_an_unknown_preset_and_lists_the_known_ones():
    message = message_of(ModelConfig.from_preset, "transformer")
    assert "'transformer'" in message and "classic" in message


def test_from_preset_rejects_an_unknown_override_by_name():
    assert "colour" in message_of(ModelConfig.from_preset, "classic", colour="blue")


def test_model_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().units = 12


# ModelConfig validation


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("units", 0, "0"),
        ("units", -3, "-3"),
        ("units", 2.5, "2.5"),
        ("units", "256", "'256'"),
        ("cell", "rnn", "'rnn'"),
        ("cell", "LSTM", "'LSTM'"),
        ("dropout", 1.0, "1.0"),
        ("dropout", -0.1, "-0.1"),
        ("dropout", "0.5", "'0.5'"),
        ("embedding_dim", 0, "0"),
        ("embedding_dim", 8.0, "8.0"),
        ("tokenizer", "bpe", "'bpe'"),
        ("layers", True, "True"),
        ("layers", 0, "0"),
    ],
)
def test_invalid_model_setting_raises_config_error_naming_field_and_value(field, value, shown):
    message = message_of(ModelConfig, **{field: value})
    assert field in message
    assert shown in message


def test_config_error_is_a_value_error_and_a_seq2seq_error():
    with pytest.raises(ValueError):
        ModelConfig(units=0)
    with pytest.raises(Seq2SeqError):
        ModelConfig(units=0)


def test_cell_error_lists_the_valid_cells():
    message = message_of(ModelConfig, cell="rnn")
    assert "lstm" in message and "gru" in message


def test_embedding_dim_error_mentions_none_for_one_hot_inputs():
    assert "None" in message_of(ModelConfig, embedding_dim=0)


@pytest.mark.parametrize(
    "values",
    [
        {"cell": "gru"},
        {"units": 1},
        {"layers": 4},
        {"embedding_dim": 1},
        {"dropout": 0.0},
        {"dropout": 0.999},
        {"dropout": 0},
        {"tokenizer": "word", "lowercase": True},
    ],
)
def test_valid_model_settings_are_accepted(values):
    config = ModelConfig(**values)
    for key, value in values.items():
        assert getattr(config, key) == value


# ModelConfig dict round trip


def test_from_dict_rejects_an_unknown_key_and_lists_the_valid_keys():
    message = message_of(ModelConfig.from_dict, {"units": 8, "hidden_size": 8})
    assert "hidden_size" in message
    assert ", ".join(FIELDS) in message


def test_to_dict_lists_every_field():
    assert ModelConfig().to_dict() == {
        "preset": "classic",
        "cell": "lstm",
        "units": 256,
        "layers": 1,
        "decoder_layers": None,
        "bidirectional": False,
        "bridge": "concat",
        "attention": "none",
        "embedding_dim": None,
        "dropout": 0.0,
        "tokenizer": "char",
        "lowercase": False,
        "vocab_size": None,
        "joint_vocab": False,
        "tie_embeddings": False,
    }


def test_to_dict_and_from_dict_round_trip():
    config = ModelConfig(
        cell="gru", units=12, layers=2, embedding_dim=6, dropout=0.25, tokenizer="word", lowercase=True
    )
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_from_dict_validates_the_values():
    values = ModelConfig().to_dict() | {"cell": "rnn"}
    assert "'rnn'" in message_of(ModelConfig.from_dict, values)


# TrainConfig


def test_train_config_defaults():
    config = TrainConfig()
    assert (config.epochs, config.batch_size, config.validation_split, config.learning_rate) == (10, 64, 0.2, 3e-3)
    assert (config.schedule, config.lr_decay_start, config.select_by) == ("linear", 0.5, "loss")
    assert config.min_frequency == 1 and config.extra == {}


def test_train_config_extra_is_not_shared_between_instances():
    first, second = TrainConfig(), TrainConfig()
    first.extra["note"] = "x"
    assert second.extra == {}


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("epochs", 0, "0"),
        ("epochs", 1.5, "1.5"),
        ("batch_size", -1, "-1"),
        ("batch_size", True, "True"),
        ("validation_split", 1.0, "1.0"),
        ("validation_split", -0.2, "-0.2"),
        ("validation_split", "0.1", "'0.1'"),
        ("learning_rate", 0, "0"),
        ("learning_rate", -1e-3, "-0.001"),
        ("min_frequency", 0, "0"),
    ],
)
def test_invalid_train_setting_raises_config_error_naming_field_and_value(field, value, shown):
    message = message_of(TrainConfig, **{field: value})
    assert field in message
    assert shown in message


@pytest.mark.parametrize(
    "values",
    [
        {"epochs": 1},
        {"validation_split": 0.0},
        {"validation_split": 0.99},
        {"learning_rate": 0.5},
        {"min_frequency": 3},
    ],
)
def test_valid_train_settings_are_accepted(values):
    config = TrainConfig(**values)
    for key, value in values.items():
        assert getattr(config, key) == value


def test_a_zero_bridge_without_attention_is_refused_with_the_fix():
    message = message_of(ModelConfig, bridge="zero")
    assert "bridge 'zero'" in message and "--attention" in message


def test_luong_dot_needs_equal_widths_and_says_what_to_use_instead():
    message = message_of(ModelConfig, bidirectional=True, bridge="dense", attention="luong-dot")
    assert "512" in message and "256" in message and "luong-general" in message
    assert ModelConfig(bidirectional=True, bridge="concat", attention="luong-dot").decoder_units == 512


def test_presets_name_the_three_models_of_the_literature():
    assert ModelConfig.from_preset("bidirectional").decoder_units == 512
    attention = ModelConfig.from_preset("attention")
    assert (attention.bidirectional, attention.bridge, attention.attention) == (True, "dense", "luong-general")
    assert attention.effective_vocab_size == 4000 and attention.decoder_units == 256
    assert ModelConfig(tokenizer="subword").effective_vocab_size == 8000


def test_only_the_attention_preset_shares_one_vocabulary_and_ties_its_embeddings_and_both_can_be_switched_off():
    attention = ModelConfig.from_preset("attention")
    assert attention.joint_vocab and attention.tie_embeddings
    for name in ("classic", "bidirectional"):
        other = ModelConfig.from_preset(name)
        assert not other.joint_vocab and not other.tie_embeddings
    assert not ModelConfig().joint_vocab and not ModelConfig().tie_embeddings
    separate = ModelConfig.from_preset("attention", joint_vocab=False, tie_embeddings=False)
    assert not separate.joint_vocab and not separate.tie_embeddings
    assert separate.embedding_dim == attention.embedding_dim == 256


def test_tying_one_hot_inputs_names_both_ways_out():
    message = message_of(ModelConfig, tie_embeddings=True)
    assert "set embedding_dim" in message and "--no-tie-embeddings" in message


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"layers": 33}, "layers must be at most 32, got 33"),
        ({"decoder_layers": 100_000}, "decoder_layers must be at most 32, got 100,000"),
        ({"vocab_size": 10**12}, "vocab_size must be at most 1,000,000, got 1,000,000,000,000"),
    ],
)
def test_depths_and_vocabularies_past_their_caps_are_refused(settings, expected):
    assert expected in message_of(ModelConfig, **settings)
    assert ModelConfig(layers=32, vocab_size=1_000_000).layers == 32


@pytest.mark.parametrize(
    "text, seconds", [("90", 90), ("90s", 90), ("20m", 1200), ("1.5h", 5400), (" 2 m ", 120), (7, 7.0)]
)
def test_durations_read_in_seconds_minutes_and_hours(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "20 minutes", "-5m", "0", "1d", "m"])
def test_a_bad_duration_says_what_is_expected(text):
    with pytest.raises(ConfigError, match="max_time must be a"):
        parse_duration(text)
