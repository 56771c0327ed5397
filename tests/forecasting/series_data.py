"""Real series that statsmodels ships, as CSV files and `SeriesSet`s, and tiny forecasters trained on them (cached)."""

from __future__ import annotations

import csv
import functools

import keras
import pytest

statsmodels_datasets = pytest.importorskip("statsmodels.datasets", reason="the forecast extra is not installed")

from seq2seq.data.series import SeriesColumns, series_from_table, statistics  # noqa: E402
from seq2seq.forecasting.calendar import calendar_cycles  # noqa: E402
from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig  # noqa: E402
from seq2seq.forecasting.forecaster import Forecaster  # noqa: E402
from seq2seq.forecasting.training import train_forecaster  # noqa: E402

MONTHS_USED = 150  # of El Niño's 732: enough for a few dozen tiny windows
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@functools.cache
def el_nino():
    """The monthly Niño 1+2 sea surface temperature (°C), 1950-2010: one dated series of 732 months."""
    frame = statsmodels_datasets.elnino.load_pandas().data
    times, values = [], []
    for _, row in frame.iterrows():
        for month, name in enumerate(MONTHS, start=1):
            times.append(f"{int(row['YEAR'])}-{month:02d}-01")
            values.append(float(row[name]))
    table = {"month": times, "temperature": values}
    return series_from_table(table, SeriesColumns("month", ("temperature",)), "statsmodels' El Niño data")


def nile_rows() -> list[tuple[int, float]]:
    """(year, Nile flow at Aswan) for 1871-1970: 100 annual values."""
    frame = statsmodels_datasets.nile.load_pandas().data
    return [(int(year), float(volume)) for year, volume in zip(frame["year"], frame["volume"])]


def macro_rows() -> list[dict]:
    """US quarterly macro data 1959-2009: dates (first month of the quarter), real GDP, consumption, inflation."""
    frame = statsmodels_datasets.macrodata.load_pandas().data
    return [
        {
            "quarter": f"{int(row['year'])}-{3 * int(row['quarter']) - 2:02d}-01",
            "realgdp": float(row["realgdp"]),
            "realcons": float(row["realcons"]),
            "infl": float(row["infl"]),
            "unemp": float(row["unemp"]),
        }
        for _, row in frame.iterrows()
    ]


def write_csv(path, header: list[str], rows) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@functools.cache
def el_nino_start(months: int = MONTHS_USED):
    """The first `months` of the El Niño sea temperatures, one series."""
    series_set = el_nino()
    return series_set.replace([series_set.series[0].head(months)])


def two_series():
    """El Niño's first 60 months and the Nile's 100 years as two series of one set (numbered steps)."""
    temperatures = [float(v) for v in el_nino().series[0].targets[:60, 0]]
    nile = [volume / 100 for _, volume in nile_rows()]
    table = {
        "step": list(range(60)) + list(range(100)),
        "name": ["nino"] * 60 + ["nile"] * 100,
        "value": temperatures + nile,
    }
    return series_from_table(table, SeriesColumns("step", ("value",), id="name"), "two series")


def trained(loss: str = "gaussian", attention: str = "luong-dot"):
    """A tiny forecaster (lookback 7, horizon 3, 5 units) trained 2 epochs on `el_nino_start()`, seed 3; one per
    setting in a test run."""
    return _trained(loss, attention)


@functools.cache
def _trained(loss: str, attention: str):
    keras.utils.set_random_seed(3)
    config = ForecastConfig(lookback=7, horizon=3, units=5, loss=loss, attention=attention)
    return train_forecaster(el_nino_start(), config, ForecastTrainConfig(epochs=2, seed=3, verbose=0, batch_size=16))


def untrained(**settings):
    """A tiny forecaster for `el_nino_start()` with its scaling, as built (no training), seed 4."""
    series_set = el_nino_start()
    keras.utils.set_random_seed(4)
    config = ForecastConfig(**{"lookback": 7, "horizon": 3, "units": 5, **settings})
    scaling = {series.id: statistics(series) for series in series_set}
    return Forecaster(config, series_set.columns, scaling, calendar_cycles(series_set.series[0].times))
