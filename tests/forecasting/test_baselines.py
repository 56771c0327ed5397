"""Baselines on real series that statsmodels ships: seasonal naive by hand, ETS and ARIMA against it, no leakage."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.forecasting.baselines import (
    ARIMA,
    ETS,
    BaselineError,
    SeasonalNaive,
    make_baseline,
    rolling_forecasts,
)
from seq2seq.forecasting.metrics import coverage, mase
from tests.conftest import one_line_error

datasets = pytest.importorskip("statsmodels.api", reason="the baselines' tests need statsmodels").datasets


@pytest.fixture(scope="module")
def co2() -> np.ndarray:
    """The last 20 years of Mauna Loa CO2, weekly readings averaged per month (gaps filled in between)."""
    weekly = datasets.co2.load_pandas().data["co2"]
    return weekly.resample("MS").mean().interpolate().to_numpy()[-240:]


@pytest.fixture(scope="module")
def elnino() -> np.ndarray:
    """Monthly sea surface temperatures of the El Niño region, 1950-2010."""
    return datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy().ravel()


@pytest.fixture(scope="module")
def nile() -> np.ndarray:
    """The Nile's yearly flow at Aswan, 1871-1970."""
    return datasets.nile.load_pandas().data["volume"].to_numpy()


def held_out(values: np.ndarray, train_end: int, horizon: int, stride: int):
    origins = list(range(train_end, len(values) - horizon + 1, stride))
    return origins, np.stack([values[origin : origin + horizon] for origin in origins])


def test_seasonal_naive_repeats_the_last_season_and_widens_its_intervals_per_season_back():
    naive = SeasonalNaive(season=3).fit([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    forecast = naive.forecast([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], horizon=4, levels=[0.8])
    np.testing.assert_allclose(forecast.point, [5.0, 6.0, 7.0, 5.0])  # step 4 looks two seasons back
    lower, upper = forecast.intervals[0.8]
    np.testing.assert_allclose(upper - forecast.point, [3.0, 3.0, 3.0, 6.0])  # every 3-step error is 3, 6-step 6
    np.testing.assert_allclose(forecast.point - lower, [3.0, 3.0, 3.0, 6.0])


def test_seasonal_naive_on_a_strongly_seasonal_series_has_a_mase_of_one_on_its_training_part(elnino):
    values = elnino[:240]
    origins, actual = held_out(values, 13, 1, 1)
    point, _ = rolling_forecasts(SeasonalNaive(12), values, 13, origins, horizon=1)
    assert mase(actual, point, values, season=12) == pytest.approx(1.0, abs=0.02)


def test_ets_finds_the_seasonality_of_co2_and_beats_seasonal_naive_with_intervals_near_their_level(co2):
    origins, actual = held_out(co2, 204, 12, 4)
    ets = ETS(season=12)
    point, intervals = rolling_forecasts(ets, co2, 204, origins, 12, levels=(0.8, 0.95))
    naive_point, naive_intervals = rolling_forecasts(SeasonalNaive(12), co2, 204, origins, 12, levels=(0.8, 0.95))
    assert ets.spec["seasonal"] == "add" and ets.spec["trend"] == "add"
    assert mase(actual, point, co2[:204], 12) < 0.5 * mase(actual, naive_point, co2[:204], 12)
    for level in (0.8, 0.95):
        assert coverage(actual, *intervals[level]) == pytest.approx(level, abs=0.15)
        assert coverage(actual, *naive_intervals[level]) == pytest.approx(level, abs=0.2)
    assert np.all(intervals[0.95][1] - intervals[0.95][0] > intervals[0.8][1] - intervals[0.8][0])


def test_arima_chooses_its_orders_and_beats_the_naive_forecast_of_the_nile(nile):
    origins, actual = held_out(nile, 70, 5, 5)
    arima = ARIMA(season=1)
    point, intervals = rolling_forecasts(arima, nile, 70, origins, 5, levels=(0.9,))
    naive_point, _ = rolling_forecasts(SeasonalNaive(1), nile, 70, origins, 5)
    assert arima.result.model.order in [(p, d, q) for p, q in ARIMA.GRID for d in (0, 1)]
    assert mase(actual, point, nile[:70]) < mase(actual, naive_point, nile[:70])
    width = intervals[0.9][1] - intervals[0.9][0]
    assert np.all(np.diff(width, axis=1) >= 0)  # uncertainty grows with the step
    assert coverage(actual, *intervals[0.9]) >= 0.7


@pytest.mark.parametrize(
    "baseline",
    [SeasonalNaive(4), ETS(4, trend="damped", seasonal=None), ARIMA(4, order=(1, 1, 0))],
    ids=["seasonal naive", "ETS", "ARIMA"],
)
def test_a_forecast_sees_nothing_from_its_origin_on(baseline, nile):
    values = nile[:60].copy()
    first, _ = rolling_forecasts(baseline, values, 40, [45, 50], horizon=3)
    values[45:] += 500.0
    second, _ = rolling_forecasts(baseline, values, 40, [45, 50], horizon=3)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.allclose(first[1], second[1])  # the second origin saw five changed values


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: make_baseline("prophet"), "no baseline 'prophet'; choose from seasonal_naive, ets, arima"),
        (lambda: SeasonalNaive(0), "whole number of steps >= 1 (1: none), got 0"),
        (lambda: ETS(4, trend="mul"), "ETS's trend must be one of auto, None, add, damped, got 'mul'"),
        (lambda: rolling_forecasts(SeasonalNaive(1), np.arange(9.0), 5, [4, 6], 2), "origin 4 lies inside"),
        (lambda: SeasonalNaive(1).forecast([1.0, 2.0], 1), "only after fit(train)"),
        (lambda: SeasonalNaive(2).fit([1.0, 2.0, 3.0]).forecast([1.0, 5.0, 3.0], 1), "must start with the 3 training"),
        (lambda: SeasonalNaive(5).fit([1.0, 2.0, 3.0]), "at least 6 finite values"),
        (lambda: SeasonalNaive(2).fit(np.arange(5.0)).forecast(np.arange(5.0), 7), "needs 8 past values"),
    ],
)
def test_a_baseline_asked_the_impossible_says_why_in_one_line(call, expected):
    assert expected in one_line_error(BaselineError, call)
