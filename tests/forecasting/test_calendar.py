"""Steps between times, the horizon's times, calendar features and seasons."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.forecasting.calendar import (
    calendar_cycles,
    calendar_features,
    format_time,
    future_times,
    season_of,
    time_step,
)


def dates(*texts):
    return np.array(texts, dtype="datetime64[s]")


def test_monthly_dates_step_in_months_across_the_year_end():
    times = dates("2020-10-01", "2020-11-01", "2020-12-01")
    assert time_step(times) == ("months", 1.0)
    assert [format_time(t) for t in future_times(times, 3)] == ["2021-01-01", "2021-02-01", "2021-03-01"]


def test_the_most_common_gap_is_the_step_despite_a_missing_row():
    times = dates("2021-03-01", "2021-03-02", "2021-03-03", "2021-03-05", "2021-03-06")
    assert time_step(times) == ("seconds", 86_400.0)
    assert format_time(future_times(times, 1)[0]) == "2021-03-07"


def test_numbered_times_step_by_their_gap():
    assert future_times(np.array([1871.0, 1872.0, 1873.0]), 2).tolist() == [1874.0, 1875.0]
    assert format_time(np.float64(1874.0)) == "1874" and format_time(np.float64(2.5)) == "2.5"


def test_calendar_cycles_follow_the_step():
    assert calendar_cycles(dates("2020-01-01", "2020-02-01")) == ["month"]
    assert calendar_cycles(dates("2020-01-01", "2021-01-01")) == []
    assert calendar_cycles(dates("2020-01-01T00:00", "2020-01-01T01:00")) == ["hour", "weekday", "yearday"]
    assert calendar_cycles(np.array([1.0, 2.0])) == []


def test_calendar_features_place_each_time_on_its_cycles():
    features = calendar_features(dates("2024-01-01T06:00", "2024-07-01T18:00"), ["hour", "weekday", "month"])
    assert features.shape == (2, 6)
    assert features[0, :2] == pytest.approx([1.0, 0.0], abs=1e-12)  # 6 h: a quarter of the day
    assert features[0, 2:4] == pytest.approx([0.0, 1.0], abs=1e-12)  # 2024-01-01 was a Monday
    assert features[1, 4:6] == pytest.approx([0.0, -1.0], abs=1e-12)  # July: half the year
    assert np.all(np.abs(features) <= 1.0)


def test_seasons_are_the_usual_periods_of_each_step():
    assert season_of(dates("2020-01-01", "2020-02-01")) == 12
    assert season_of(dates("2020-01-01", "2020-04-01")) == 4
    assert season_of(dates("2020-01-01", "2020-01-02")) == 7
    assert season_of(np.array([1.0, 2.0])) == 1
