"""Forecast output: CSV columns per target and level, cells that read back, JSON mappings, atomic writes."""

from __future__ import annotations

import csv

import numpy as np

from seq2seq.forecasting.forecast import Forecast, SeriesForecast, percent


def two_target_forecast() -> Forecast:
    times = np.array(["2024-01-01", "2024-02-01"], dtype="datetime64[s]")
    point = np.array([[1.5, 10.0], [2.5, 20.0]])
    intervals = {0.8: (point - 1, point + 1), 0.95: (point - 2, point + 2)}
    series = [SeriesForecast("north", times, point, intervals), SeriesForecast("south", times, point * 2, intervals)]
    return Forecast(("rain", "sun"), series, id_column="region", time_column="month")


def test_the_csv_has_a_row_per_series_and_step_with_every_bound(tmp_path):
    forecast = two_target_forecast()
    forecast.write_csv(tmp_path / "out.csv")
    rows = list(csv.DictReader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert list(rows[0]) == [
        "region", "month",
        "rain", "rain_lower_80", "rain_upper_80", "rain_lower_95", "rain_upper_95",
        "sun", "sun_lower_80", "sun_upper_80", "sun_lower_95", "sun_upper_95",
    ]  # fmt: skip
    assert len(rows) == 4 and rows[2]["region"] == "south" and rows[1]["month"] == "2024-02-01"
    assert float(rows[3]["sun"]) == 40.0 and float(rows[0]["rain_lower_95"]) == -0.5
    assert not list(tmp_path.glob(".*tmp*"))


def test_the_mapping_keys_points_and_bounds_by_target_and_percent():
    body = two_target_forecast().to_dict()
    assert body["targets"] == ["rain", "sun"] and body["series"][1]["id"] == "south"
    assert body["series"][0]["point"]["sun"] == [10.0, 20.0]
    assert body["series"][0]["intervals"]["95"]["rain"] == {"lower": [-0.5, 0.5], "upper": [3.5, 4.5]}
    assert percent(0.975) == "97.5" and percent(0.8) == "80"


def test_series_are_found_by_position_and_by_id():
    forecast = two_target_forecast()
    assert forecast[1] is forecast["south"] and len(forecast) == 2 and forecast.levels == [0.8, 0.95]
