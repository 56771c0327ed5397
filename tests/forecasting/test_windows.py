"""Windows: aligned on the series' end, within the held-out part, scaled and normalised by their own lookback; the
inputs of one forecast."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.data.series import SeriesColumns, series_from_table, split_by_time, statistics
from seq2seq.errors import SeriesError
from seq2seq.forecasting.windows import (
    SMALLEST_SPREAD,
    forecast_inputs,
    full_batches,
    normalise_window,
    training_windows,
)
from tests.conftest import one_line_error
from tests.forecasting.series_data import el_nino_start, nile_rows, two_series


def scaling_of(series_set):
    return {series.id: statistics(series) for series in series_set}


def by_window(past, horizon):
    """Standardised values `past` and `horizon` relative to `past`'s last value, divided by its spread."""
    spread = max(np.std(past), SMALLEST_SPREAD)
    return (past - past[-1]) / spread, (horizon - past[-1]) / spread


def test_training_windows_end_at_each_series_end_stride_apart():
    series_set = two_series()
    scaling = scaling_of(series_set)
    inputs, targets = training_windows(series_set, 6, 4, 5, scaling, [])
    # nino: horizon starts 56, 51, ..., 6 (11 windows); nile: 96, ..., 6 (19 windows)
    assert targets.shape == (30, 4, 1) and inputs["past"].shape == (30, 6, 1) and inputs["future"].shape == (30, 4, 0)
    nile = series_set.series[1]
    mean, std = scaling["nile"]
    past, horizon = by_window((nile.targets[-10:-4, 0] - mean[0]) / std[0], (nile.targets[-4:, 0] - mean[0]) / std[0])
    assert targets[-1, :, 0] == pytest.approx(horizon, abs=1e-5)
    assert inputs["past"][-1, :, 0] == pytest.approx(past, abs=1e-5) and inputs["past"][-1, -1, 0] == 0.0
    assert np.array_equal(inputs["targets"], targets)


def test_a_window_normalised_by_its_lookback_does_not_depend_on_the_level_it_sits_at():
    rng = np.random.default_rng(5)
    past = rng.normal(size=(2, 6, 3)).astype("float64")
    horizon = rng.normal(size=(2, 4, 2))
    moved, moved_horizon, _ = normalise_window(past + np.array([7.0, -3.0, 1.0]), 2, horizon + np.array([7.0, -3.0]))
    normalised, normalised_horizon, (location, spread) = normalise_window(past, 2, horizon)
    assert np.allclose(moved[..., :2], normalised[..., :2]) and np.allclose(moved_horizon, normalised_horizon)
    assert np.array_equal(moved[..., 2], past[..., 2] + 1.0)  # covariates keep their standardised values
    assert np.array_equal(location, past[:, -1, :2]) and np.allclose(spread, past[..., :2].std(axis=1))
    _, flat_horizon, (_, flat_spread) = normalise_window(np.ones((1, 6, 1)), 1, np.full((1, 2, 1), 1.5))
    assert flat_spread.tolist() == [[SMALLEST_SPREAD]] and flat_horizon[0, :, 0] == pytest.approx([5.0, 5.0])


def test_validation_windows_forecast_only_held_out_steps_from_the_past_before_them():
    training, validation, _ = split_by_time(two_series(), 8, 0)
    scaling = scaling_of(training)
    _, targets = training_windows(validation, 6, 4, 1, scaling, [])
    assert len(targets) == 2 * 5  # horizon starts at the 5 positions within the last 8 steps, per series
    nino = validation.series[0]
    mean, std = scaling["nino"]
    _, first_held_out = by_window(
        (nino.targets[46:52, 0] - mean[0]) / std[0], (nino.targets[52:56, 0] - mean[0]) / std[0]
    )
    assert targets[0, :, 0] == pytest.approx(first_held_out, abs=1e-5)


def test_dated_series_carry_calendar_features_in_both_parts():
    series_set = el_nino_start()
    inputs, _ = training_windows(series_set, 7, 3, 10, scaling_of(series_set), ["month"])
    assert inputs["past"].shape[2] == 3 and inputs["future"].shape[2] == 2
    assert np.all(np.abs(inputs["future"]) <= 1.0)


def test_no_window_fitting_is_one_line():
    message = one_line_error(SeriesError, training_windows, two_series(), 98, 4, 1, scaling_of(two_series()), [])
    assert "no window of lookback 98 + horizon 4 fits in any series" in message


def test_a_forecast_reads_the_last_lookback_and_times_the_horizon_after_it():
    series_set = el_nino_start()
    series = series_set.series[0]
    scaling = statistics(series)
    past, future, times = forecast_inputs(series_set, series, 7, 3, scaling, ["month"])
    assert past.shape == (7, 3) and future.shape == (3, 2)
    assert str(times[0])[:7] == "1962-07" and str(series.times[-1])[:7] == "1962-06"
    held_past, _, held_times = forecast_inputs(series_set, series, 7, 3, scaling, ["month"], holdout=3)
    assert np.array_equal(held_times, series.times[-3:])
    assert held_past[:, 0] == pytest.approx((series.targets[-10:-3, 0] - scaling[0][0]) / scaling[1][0])


def test_future_covariates_must_be_given_over_the_horizon():
    rows = nile_rows()[:12]
    table = {
        "year": [year for year, _ in rows],
        "v": [volume for _, volume in rows[:10]] + ["", ""],
        "dam": [0.0] * 10 + [1.0, 1.0],
    }
    series_set = series_from_table(table, SeriesColumns("year", ("v",), (), ("dam",)), "dam.csv", future_rows=True)
    series = series_set.series[0]
    scaling = statistics(series)
    message = one_line_error(SeriesError, forecast_inputs, series_set, series, 4, 3, scaling, [])
    assert "reads the future covariates 'dam'" in message and "there are 2" in message
    _, future, times = forecast_inputs(series_set, series, 4, 2, scaling, [])
    assert times.tolist() == [1881.0, 1882.0] and future.shape == (2, 1)
    assert "the series has 5 before the 5 held out" in one_line_error(
        SeriesError, forecast_inputs, series_set, series, 6, 2, scaling, [], holdout=5
    )


def test_full_batches_repeat_a_few_windows_so_every_batch_is_full():
    inputs = {"past": np.arange(11 * 2).reshape(11, 2, 1), "future": np.zeros((11, 3, 1))}
    x, y, size = full_batches(inputs, np.arange(11 * 5).reshape(11, 5, 1), batch_size=4, seed=2)
    assert size == 4 and len(y) == 12 and len(x["past"]) == len(x["future"]) == 12
    assert y[:11].tolist() == np.arange(55).reshape(11, 5, 1).tolist()  # every window once, then one repeated
    assert x["past"][11].tolist() == inputs["past"][y[11, 0, 0] // 5].tolist()  # its inputs travel with it
    assert full_batches(inputs, y[:11], batch_size=16)[2] == 11  # fewer windows than a batch: one batch of all
