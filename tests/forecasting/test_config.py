"""Forecasting settings: validated at once, with the field and the value named; round trips through dicts."""

from __future__ import annotations

import pytest

from seq2seq.errors import ConfigError
from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
from tests.conftest import one_line_error


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"horizon": 0}, "horizon must be a positive integer, got 0"),
        ({"loss": "huber"}, "loss must be one of mse, mae, gaussian, quantile; got 'huber'"),
        ({"attention": "dot"}, "attention must be one of none, bahdanau"),
        ({"quantiles": (0.1, 1.2)}, "quantiles must be numbers between 0 and 1"),
        ({"levels": (0.8, 0.8)}, "levels must not repeat a value"),
        ({"scheduled_sampling": 1.0}, "scheduled_sampling must be a number in [0, 1)"),
        ({"lookback": 20_000}, "lookback is at most 10000"),
        ({"linear_skip": "yes"}, "linear_skip must be"),
        ({"teacher_forcing": False, "scheduled_sampling": 0.3}, "scheduled_sampling mixes teacher forcing"),
    ],
)
def test_a_bad_model_setting_is_named(settings, expected):
    assert expected in one_line_error(ConfigError, ForecastConfig, **settings)


def test_a_config_round_trips_through_a_dict_with_sorted_levels():
    config = ForecastConfig(lookback=9, horizon=4, loss="quantile", quantiles=(0.9, 0.1, 0.5))
    assert config.quantiles == (0.1, 0.5, 0.9) and config.outputs_per_target == 3 and config.probabilistic
    assert ForecastConfig.from_dict(config.to_dict()) == config
    assert "unknown forecast setting 'window'" in one_line_error(ConfigError, ForecastConfig.from_dict, {"window": 3})


def test_only_point_losses_train_teacher_forced_unless_told():
    assert ForecastConfig(loss="mse").teacher_forced and ForecastConfig(loss="mae").teacher_forced
    assert not ForecastConfig(loss="gaussian").teacher_forced and not ForecastConfig(loss="quantile").teacher_forced
    assert ForecastConfig(loss="quantile", scheduled_sampling=0.2).teacher_forced
    assert ForecastConfig(loss="gaussian", teacher_forcing=True).teacher_forced
    assert not ForecastConfig(loss="mse", teacher_forcing=False).teacher_forced


def test_training_settings_parse_the_time_budget_and_default_validation_to_a_horizon():
    settings = ForecastTrainConfig(max_time="2m")
    assert settings.max_time == 120.0 and settings.validation_steps(7) == 7
    assert ForecastTrainConfig(validation=0).validation_steps(7) == 0
    assert "validation must be a number of time steps" in one_line_error(
        ConfigError, ForecastTrainConfig, validation=-1
    )
