"""Intervals calibrated on the validation part: conformal widening factors, and a trained model that keeps them."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.forecasting.calibration import MIN_WINDOWS, interval_factors, scores, widen
from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
from seq2seq.forecasting.forecaster import Forecaster
from seq2seq.forecasting.loading import load_forecaster
from seq2seq.forecasting.training import calibrate, train_forecaster
from seq2seq.forecasting.windows import training_windows
from tests.forecasting.series_data import el_nino_start, untrained


def normal_windows(seed: int = 7):
    """Actual values `(windows 11, horizon 5, targets 3)` drawn around a point forecast of 2."""
    actual = np.random.default_rng(seed).normal(2.0, 1.0, size=(11, 5, 3))
    return actual, np.full_like(actual, 2.0)


def test_a_value_scores_its_distance_from_the_point_in_half_widths_of_its_side():
    point, lower, upper = np.zeros(4), np.full(4, -2.0), np.full(4, 4.0)
    found = scores(np.array([0.0, 4.0, -1.0, -6.0]), point, lower, upper)
    assert found.tolist() == [0.0, 1.0, 0.5, 3.0]


@pytest.mark.parametrize("half_width", [0.3, 4.0])
def test_factors_widen_narrow_and_narrow_wide_intervals_to_hold_their_level(half_width):
    actual, point = normal_windows()
    given = {0.8: (point - half_width, point + half_width)}
    factors = interval_factors(actual, point, given)
    assert (factors[0.8] > 1.0) == (half_width < 1.0)
    lower, upper = widen(point, given, factors)[0.8]
    held = np.mean((actual >= lower) & (actual <= upper))
    assert 0.8 <= held <= 0.8 + 2 / actual.size  # the conformal rank: at least the level, at most a point more


def test_factors_for_windows_that_chose_the_model_widen_narrow_intervals_but_never_narrow_wide_ones():
    actual, point = normal_windows(seed=8)
    narrow, wide = {0.8: (point - 0.3, point + 0.3)}, {0.8: (point - 4.0, point + 4.0)}
    assert interval_factors(actual, point, narrow, narrow=False) == interval_factors(actual, point, narrow)
    assert interval_factors(actual, point, narrow)[0.8] > 1.0
    assert interval_factors(actual, point, wide)[0.8] < 1.0
    assert interval_factors(actual, point, wide, narrow=False) == {0.8: 1.0}


def test_calibrating_a_model_on_windows_it_forecasts_exactly_keeps_its_intervals_and_records_the_conformal_factor():
    model = untrained(loss="gaussian", levels=(0.9,))
    inputs, _ = training_windows(el_nino_start(), 7, 3, 1, model.scaling, model.calendar)
    inputs = {name: values[:MIN_WINDOWS] for name, values in inputs.items()}
    exact = np.asarray(model.predict_on_batch({"past": inputs["past"], "future": inputs["future"]}))[..., 0]
    summary = calibrate(model, (inputs, exact))
    assert model.interval_scale == {0.9: 1.0} and summary["interval_scale"] == {"90": 1.0}
    assert summary["conformal_scale"] == {"90": 0.0} and summary["calibrated_coverage"] == {"90": 1.0}


def test_widening_keeps_the_point_and_the_sides_in_proportion():
    point = np.array([1.0, 5.0])
    given = {0.5: (np.array([0.0, 4.5]), np.array([3.0, 6.0])), 0.9: (np.array([-1.0, 4.0]), np.array([4.0, 7.0]))}
    widened = widen(point, given, {0.5: 2.0})
    assert [side.tolist() for side in widened[0.5]] == [[-1.0, 4.0], [5.0, 7.0]]
    assert widened[0.9] is not None and all(np.array_equal(a, b) for a, b in zip(widened[0.9], given[0.9]))


@pytest.mark.slow  # a training and a save (20 s on a busy 2-core machine)
def test_a_trained_model_keeps_factors_that_make_its_validation_intervals_hold_their_level(tmp_path):
    config = ForecastConfig(lookback=6, horizon=4, units=3, loss="quantile", quantiles=(0.1, 0.5, 0.9))
    settings = ForecastTrainConfig(epochs=1, validation=4 + MIN_WINDOWS - 1, seed=5, verbose=0, batch_size=8)
    model = train_forecaster(el_nino_start(90), config, settings)
    summary = model.training_summary
    assert summary["validation_windows"] == MIN_WINDOWS and list(model.interval_scale) == [0.8]
    assert summary["interval_scale"] == {"80": pytest.approx(model.interval_scale[0.8], abs=1e-4)}
    assert summary["calibrated_coverage"]["80"] >= 0.8
    path = tmp_path / "calibrated.keras"
    model.save(path)
    loaded = load_forecaster(path)
    assert loaded.interval_scale == model.interval_scale
    # The forecast's intervals are the head's, stretched about the point by the stored factor.
    head = Forecaster.from_config({**model.get_config(), "interval_scale": {}})
    head.set_weights(model.get_weights())
    ours, raw = loaded.forecast(el_nino_start(90)).series[0], head.forecast(el_nino_start(90)).series[0]
    np.testing.assert_allclose(ours.point, raw.point, rtol=1e-6)
    factor = model.interval_scale[0.8]
    np.testing.assert_allclose(ours.point - ours.intervals[0.8][0], factor * (raw.point - raw.intervals[0.8][0]))


def test_too_few_validation_windows_leave_the_intervals_as_the_head_gives_them():
    model = untrained(loss="gaussian", levels=(0.9,))
    model.interval_scale = {0.9: 2.0}  # as a resumed training's model may carry from its checkpoint
    series_set = el_nino_start()
    windows = training_windows(series_set, 7, 3, 1, model.scaling, model.calendar)
    few = ({name: values[: MIN_WINDOWS - 1] for name, values in windows[0].items()}, windows[1][: MIN_WINDOWS - 1])
    summary = calibrate(model, few)
    assert model.interval_scale == {} and sorted(summary) == ["interval_scale", "validation_coverage"]
    assert (
        summary["interval_scale"] == f"not calibrated: {MIN_WINDOWS - 1} validation windows, fewer than {MIN_WINDOWS}"
    )
