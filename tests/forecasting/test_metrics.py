"""Forecast metrics against values worked out by hand on tiny arrays, and their refusals."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.forecasting.metrics import (
    MetricError,
    coverage,
    interval_width,
    mae,
    mase,
    pinball_loss,
    rmse,
    seasonal_naive_scale,
    smape,
    winkler_score,
)
from tests.conftest import one_line_error

ACTUAL = [1.0, 2.0, 3.0, 4.0]
PREDICTED = [2.0, 2.0, 5.0, 0.0]  # errors -1, 0, -2, 4


def test_mae_and_rmse_match_the_hand_computed_values():
    assert mae(ACTUAL, PREDICTED) == pytest.approx(7 / 4)
    assert rmse(ACTUAL, PREDICTED) == pytest.approx(np.sqrt(21 / 4))


def test_smape_is_a_percentage_of_the_mean_absolute_value_of_both():
    # 2·1/3, 0, 2·2/8, 2·4/4
    assert smape(ACTUAL, PREDICTED) == pytest.approx(100 * (2 / 3 + 0 + 0.5 + 2) / 4)


def test_smape_counts_a_zero_forecast_of_a_zero_as_perfect_and_a_miss_of_zero_as_the_worst():
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert smape([0.0, 2.0], [3.0, 2.0]) == pytest.approx(100.0)  # 200 % and 0 %


def test_mase_divides_by_the_in_sample_error_of_the_seasonal_naive_forecast():
    history = [1.0, 3.0, 2.0, 6.0, 5.0]
    assert seasonal_naive_scale(history, 1) == pytest.approx(2.0)  # |2|, |-1|, |4|, |-1|
    assert mase(ACTUAL, PREDICTED, history, season=1) == pytest.approx(1.75 / 2)
    assert mase(ACTUAL, PREDICTED, history, season=2) == pytest.approx(1.75 / (7 / 3))  # |1|, |3|, |3|


def test_mase_scales_each_target_by_its_own_training_part():
    history = [[1.0, 10.0], [3.0, 10.0], [2.0, 14.0]]  # scales 1.5 and 2
    assert mase([[0.0, 0.0]], [[3.0, 1.0]], history) == pytest.approx((3 / 1.5 + 1 / 2) / 2)


def test_the_seasonal_naive_forecast_of_its_own_training_part_has_a_mase_of_exactly_one():
    history = np.random.default_rng(3).normal(size=29).cumsum()
    assert mase(history[5:], history[:-5], history, season=5) == pytest.approx(1.0)


def test_coverage_width_and_winkler_score_of_intervals():
    lower, upper = [0.0, 2.0, 3.5, 5.0], [1.0, 3.0, 4.0, 6.0]  # bounds count as inside; 3 is below, 4 below
    assert coverage(ACTUAL, lower, upper) == 0.5
    assert interval_width(lower, upper) == pytest.approx(0.875)
    # widths 3.5 in all, plus 2 / 0.2 = 10 times the misses 0.5 and 1
    assert winkler_score(ACTUAL, lower, upper, level=0.8) == pytest.approx((3.5 + 10 * 1.5) / 4)


def test_pinball_loss_weighs_misses_below_by_the_quantile():
    # differences y - f: -1, 0, -2, 4 → 0.1, 0, 0.2, 3.6
    assert pinball_loss(ACTUAL, PREDICTED, 0.9) == pytest.approx(3.9 / 4)
    assert pinball_loss(ACTUAL, PREDICTED, 0.5) == pytest.approx(mae(ACTUAL, PREDICTED) / 2)


def test_mase_of_a_training_part_that_repeats_every_season_is_refused_with_the_reason():
    message = one_line_error(MetricError, mase, [1.0], [2.0], [4.0, 7.0, 4.0, 7.0, 4.0], season=2)
    assert "repeats exactly every 2 step(s)" in message and "scale, is 0" in message


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: mae([], []), "no values"),
        (lambda: mae([1.0, np.nan, np.inf], [1.0, 2.0, 3.0]), "2 of 3 values are not finite"),
        (lambda: rmse([1.0, 2.0], [1.0, 2.0, 3.0]), "one shape, got (2,) and (3,)"),
        (
            lambda: mase([1.0], [1.0], [1.0, 2.0, 3.0], season=3),
            "longer than its season (3 steps) to scale by, got 3 values",
        ),
        (lambda: mase([1.0], [1.0], [1.0, 2.0, 4.0], season=0), "positive whole number of steps, got 0"),
        (lambda: mase([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [[1.0, 2.0], [2.0, 4.0]]), "2 targets, got shape (3,)"),
        (lambda: coverage([1.0], [2.0], [0.0]), "1 interval(s) have a lower bound above the upper one"),
        (lambda: winkler_score([1.0], [0.0], [2.0], level=95), "between 0 and 1"),
        (lambda: pinball_loss([1.0], [0.0], quantile=1.5), "between 0 and 1, got 1.5"),
    ],
)
def test_a_metric_without_a_value_says_why_in_one_line(call, expected):
    assert expected in one_line_error(MetricError, call)
