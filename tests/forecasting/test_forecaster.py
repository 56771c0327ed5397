"""Forecaster: forecasts with intervals in the series' own units, identical after saving, from frames too."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.data.series import SeriesColumns, series_from_table
from seq2seq.forecasting.forecaster import Forecaster
from seq2seq.forecasting.loading import load_forecaster
from seq2seq.host import to_host
from tests.forecasting.series_data import el_nino_start, trained, untrained


@pytest.mark.parametrize("loss, levels", [("mse", []), ("gaussian", [0.8, 0.95]), ("quantile", [0.8])])
def test_a_forecast_covers_the_horizon_after_the_series_in_its_own_units(loss, levels):
    model = trained() if loss == "gaussian" else untrained(loss=loss)
    forecast = model.forecast(el_nino_start())
    (series,) = forecast
    assert series.point.shape == (3, 1) and [str(t)[:7] for t in series.times] == ["1962-07", "1962-08", "1962-09"]
    assert 15.0 < series.point.min() and series.point.max() < 30.0  # sea temperatures, not standardised values
    assert sorted(series.intervals) == levels
    for lower, upper in series.intervals.values():
        assert np.all(lower <= series.point) and np.all(series.point <= upper)
    if len(levels) == 2:
        (narrow_low, narrow_high), (wide_low, wide_high) = series.intervals[0.8], series.intervals[0.95]
        assert np.all(wide_low < narrow_low) and np.all(narrow_high < wide_high)


def test_a_saved_forecaster_forecasts_identically_after_loading(tmp_path):
    model = trained()
    model.save(tmp_path / "nino.keras")
    loaded = load_forecaster(tmp_path / "nino.keras")
    assert isinstance(loaded, Forecaster) and loaded.config == model.config and loaded.calendar == ["month"]
    assert loaded.scaling.keys() == model.scaling.keys()
    before, after = model.forecast(el_nino_start(), holdout=4)[0], loaded.forecast(el_nino_start(), holdout=4)[0]
    assert np.array_equal(before.point, after.point) and np.array_equal(before.times, after.times)
    assert np.array_equal(before.intervals[0.95][0], after.intervals[0.95][0])


def test_a_holdout_forecasts_the_steps_that_were_held_back():
    series = el_nino_start().series[0]
    forecast = trained().forecast(el_nino_start(), holdout=5)[0]
    assert np.array_equal(forecast.times, series.times[-5:-2])


def test_a_data_frame_forecasts_like_the_series_set_it_holds():
    pandas = pytest.importorskip("pandas")
    series = el_nino_start().series[0]
    frame = pandas.DataFrame({"temperature": series.targets[:, 0]}, index=pandas.DatetimeIndex(series.times))
    frame.index.name = "month"
    model = trained()
    assert np.array_equal(model.forecast(frame)[0].point, model.forecast(el_nino_start())[0].point)


def test_a_series_the_model_did_not_train_on_is_scaled_by_its_own_history():
    model = trained()
    series = el_nino_start().series[0]
    table = {"month": [str(t) for t in series.times], "temperature": list(series.targets[:, 0] + 100.0)}
    warmer = series_from_table(table, SeriesColumns("month", ("temperature",), id=None), "warmer")
    warmer.series[0].id = "warmer"
    shifted = model.forecast(warmer)[0].point
    assert np.allclose(shifted - 100.0, model.forecast(el_nino_start())[0].point, atol=0.05)


@pytest.mark.parametrize("loss, teacher_forced", [("gaussian", False), ("mse", True)])
def test_training_feeds_the_decoder_true_values_only_where_teacher_forced(loss, teacher_forced):
    model = untrained(loss=loss, attention="luong-dot")
    rng = np.random.default_rng(6)
    inputs = {
        "past": rng.normal(size=(2, 7, 3)).astype("float32"),
        "future": rng.normal(size=(2, 3, 2)).astype("float32"),
    }
    taught = {**inputs, "targets": rng.normal(size=(2, 3, 1)).astype("float32")}
    free = to_host(model(inputs, training=True))
    assert np.array_equal(to_host(model(taught, training=False)), to_host(model(inputs, training=False)))
    assert np.array_equal(to_host(model(taught, training=True)), free) != teacher_forced
