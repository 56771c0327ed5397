"""Reading series from CSV files: roles of columns, many series by id, one-line errors, splits by time, scaling."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.data.series import (
    SeriesColumns,
    read_series,
    require_length,
    series_from_table,
    split_by_time,
    statistics,
)
from seq2seq.errors import SeriesError
from tests.conftest import one_line_error
from tests.forecasting.series_data import macro_rows, nile_rows, two_series, write_csv


@pytest.fixture
def nile_csv(tmp_path):
    return write_csv(tmp_path / "nile.csv", ["year", "volume"], nile_rows())


@pytest.fixture
def macro_csv(tmp_path):
    rows = macro_rows()
    header = list(rows[0])
    return write_csv(tmp_path / "macro.csv", header, [[row[name] for name in header] for row in rows])


def test_a_numbered_series_is_read_with_its_times_and_values(nile_csv):
    series_set = read_series(nile_csv, "year", "volume")
    (series,) = series_set.series
    assert series.history == 100 and series.times.dtype == np.float64
    assert series.times[0] == 1871 and series.targets[0, 0] == nile_rows()[0][1]
    assert series.targets.shape == (100, 1) and series.covariates.shape == (100, 0)
    assert list(series.lines[:2]) == [2, 3]


def test_dated_rows_read_several_targets_and_both_kinds_of_covariates(macro_csv):
    series_set = read_series(macro_csv, "quarter", ["realgdp", "realcons"], ["infl"], ["unemp"])
    (series,) = series_set.series
    assert series.times.dtype.kind == "M" and str(series.times[1])[:10] == "1959-04-01"
    assert series.targets.shape == (203, 2) and series.covariates.shape == (203, 1) and series.future.shape == (203, 1)
    assert series_set.columns.values == ("realgdp", "realcons", "infl", "unemp")


def test_an_id_column_splits_rows_into_series_in_order_of_appearance(tmp_path):
    rows = [(f"{year}", "nile", volume) for year, volume in nile_rows()[:30]]
    rows += [(f"{year}", "half", volume / 2) for year, volume in nile_rows()[:25]]
    path = write_csv(tmp_path / "two.csv", ["year", "river", "volume"], rows)
    series_set = read_series(path, "year", "volume", id="river")
    assert [s.id for s in series_set] == ["nile", "half"]
    assert [s.history for s in series_set] == [30, 25]
    assert series_set.series[1].targets[0, 0] == nile_rows()[0][1] / 2
    assert "series 'half' (lines 32-56)" in series_set.where(series_set.series[1])


def test_a_missing_column_is_named_with_the_columns_there_are(nile_csv):
    message = one_line_error(SeriesError, read_series, nile_csv, "year", "flow")
    assert "no target column 'flow'" in message and "'year', 'volume'" in message and "nile.csv" in message


def test_a_missing_value_names_its_line_and_column(tmp_path):
    rows = [[year, volume] for year, volume in nile_rows()[:10]]
    rows[4][1] = ""
    message = one_line_error(
        SeriesError, read_series, write_csv(tmp_path / "gap.csv", ["year", "v"], rows), "year", "v"
    )
    assert "gap.csv, line 6, column 'v': the value is empty; expected a finite number." in message


def test_the_gaps_of_the_real_co2_record_are_refused_at_the_first_one(tmp_path):
    import statsmodels.datasets

    frame = statsmodels.datasets.co2.load_pandas().data
    rows = [[str(when)[:10], "" if np.isnan(value) else value] for when, value in zip(frame.index, frame["co2"])]
    first_gap = next(i for i, row in enumerate(rows) if row[1] == "")
    path = write_csv(tmp_path / "co2.csv", ["week", "co2"], rows)
    message = one_line_error(SeriesError, read_series, path, "week", "co2")
    assert f"line {first_gap + 2}, column 'co2': the value is empty" in message


def test_a_value_that_is_not_a_number_is_quoted(tmp_path):
    rows = [[year, volume] for year, volume in nile_rows()[:5]]
    rows[2][1] = "1,120"
    message = one_line_error(SeriesError, read_series, write_csv(tmp_path / "t.csv", ["year", "v"], rows), "year", "v")
    assert "line 4, column 'v': the value holds '1,120'; expected a finite number." in message


@pytest.mark.parametrize("swap, problem", [(True, "comes before the previous row's '1874'"), (False, "repeats")])
def test_unsorted_or_repeated_times_are_refused_where_they_occur(tmp_path, swap, problem):
    rows = [[year, volume] for year, volume in nile_rows()[:6]]
    rows[4][0] = rows[3][0] - 1 if swap else rows[3][0]
    path = write_csv(tmp_path / "order.csv", ["year", "v"], rows)
    message = one_line_error(SeriesError, read_series, path, "year", "v")
    assert "line 6, column 'year'" in message and problem in message and "strictly increasing" in message


def test_a_time_that_is_not_a_date_is_refused(tmp_path):
    rows = [["2020-01-01", 1.0], ["2020-02-30", 2.0]]
    message = one_line_error(SeriesError, read_series, write_csv(tmp_path / "d.csv", ["t", "v"], rows), "t", "v")
    assert "line 3, column 't': '2020-02-30' is not an ISO date" in message


def test_a_series_shorter_than_lookback_plus_horizon_is_named():
    series_set = two_series()
    require_length(series_set, 40, 20)
    message = one_line_error(SeriesError, require_length, series_set, 50, 12)
    assert "series 'nino'" in message and "60 time steps, fewer than lookback 50 + horizon 12 = 62" in message


def test_an_empty_file_and_a_header_alone_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in one_line_error(SeriesError, read_series, empty, "t", "v")
    header = tmp_path / "header.csv"
    header.write_text("t,v\n")
    assert "holds a header but no rows" in one_line_error(SeriesError, read_series, header, "t", "v")


def test_a_column_named_for_two_parts_is_refused():
    assert "'v' is named for two parts" in one_line_error(SeriesError, SeriesColumns, "t", ("v",), ("v",))


def test_trailing_rows_without_targets_are_future_rows_only_when_asked(tmp_path):
    rows = [[year, volume, year % 2] for year, volume in nile_rows()[:8]] + [[1879, "", 1], [1880, "", 0]]
    path = write_csv(tmp_path / "future.csv", ["year", "v", "odd"], rows)
    (series,) = read_series(path, "year", "v", future_covariates=["odd"], future_rows=True)
    assert series.history == 8 and series.future_rows == 2 and list(series.future[-2:, 0]) == [1, 0]
    assert "line 10, column 'v': the value is empty" in one_line_error(
        SeriesError, read_series, path, "year", "v", future_covariates=["odd"]
    )


def test_split_by_time_holds_out_the_last_steps_with_the_past_before_them():
    training, validation, test = split_by_time(two_series(), 10, 5)
    assert [s.history for s in training] == [45, 85]
    assert [(s.history, s.forecast_from) for s in validation] == [(55, 45), (95, 85)]
    assert [(s.history, s.forecast_from) for s in test] == [(60, 55), (100, 95)]
    whole = two_series().series[0].targets
    assert np.array_equal(training.series[0].targets, whole[:45])


def test_split_by_time_refuses_to_hold_out_a_whole_series():
    message = one_line_error(SeriesError, split_by_time, two_series(), 50, 10)
    assert "series 'nino'" in message and "too few to hold out 50 for validation and 10 for test" in message


def test_statistics_give_each_column_its_mean_and_a_usable_std():
    table = {"t": [1, 2, 3, 4], "v": [1.0, 2.0, 3.0, 4.0], "flag": [7.0, 7.0, 7.0, 7.0]}
    (series,) = series_from_table(table, SeriesColumns("t", ("v",), ("flag",)), "table")
    mean, std = statistics(series)
    assert mean.tolist() == [2.5, 7.0] and std[0] == pytest.approx(np.std([1, 2, 3, 4])) and std[1] == 1.0
