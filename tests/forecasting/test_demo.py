"""The forecasting demo: sunspot numbers from statsmodels, the model's MASE printed beside seasonal naive's."""

from __future__ import annotations

import math

import pytest

from seq2seq.cli import build_parser
from tests.forecasting.series_data import statsmodels_datasets  # noqa: F401  (skips without statsmodels)


def test_the_sunspot_numbers_are_yearly_from_1700_to_2008():
    from seq2seq.forecasting.demo import sunspots

    (series,) = sunspots()
    assert series.history == 309 and series.times[0] == 1700.0 and series.times[-1] == 2008.0
    assert series.targets.min() == 0.0 and series.targets.max() > 150.0


def test_the_demo_command_takes_the_forecast_task():
    args = build_parser().parse_args(["demo", "--task", "forecast", "--epochs", "2"])
    assert args.task == "forecast" and args.out is None


def test_a_short_demo_prints_both_mases_and_saves_a_forecaster(tmp_path, capsys):
    from seq2seq.forecasting.demo import run_forecast_demo
    from seq2seq.forecasting.loading import load_forecaster

    result = run_forecast_demo(out=str(tmp_path / "nino.keras"), epochs=1)
    printed = capsys.readouterr().out
    assert f"this model      {result['mase']:.3f}" in printed and "seasonal naive  " in printed
    assert math.isfinite(result["mase"]) and result["seasonal_naive_mase"] == pytest.approx(1.164, abs=0.001)
    assert load_forecaster(tmp_path / "nino.keras").config.horizon == 10
