"""What a forecast holds: per series, the horizon's times, point forecasts and prediction intervals; as CSV or JSON.

A CSV row is one series and step: `[id,] time, <target>, <target>_lower_<level>,
<target>_upper_<level>, ...`, levels in percent (`co2_lower_80`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from seq2seq.atomic_files import write_text_atomically
from seq2seq.forecasting.calendar import format_time


@dataclass
class SeriesForecast:
    """One series' forecast: `times (horizon,)`, `point (horizon, targets)`, `intervals {level: (lower, upper)}`."""

    id: str
    times: np.ndarray
    point: np.ndarray
    intervals: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class Forecast:
    """The forecasts of every series, in the order the series came, with the names of the targets."""

    targets: tuple[str, ...]
    series: list[SeriesForecast]
    id_column: str | None = None  # the data's id column, written first where there is one
    time_column: str = "time"

    def __len__(self) -> int:
        return len(self.series)

    def __iter__(self):
        return iter(self.series)

    def __getitem__(self, key) -> SeriesForecast:
        """A series' forecast by position or by id."""
        if isinstance(key, int):
            return self.series[key]
        for series in self.series:
            if series.id == key:
                return series
        raise KeyError(key)

    @property
    def levels(self) -> list[float]:
        return sorted(self.series[0].intervals) if self.series else []

    def header(self) -> list[str]:
        columns = ([self.id_column] if self.id_column else []) + [self.time_column]
        for target in self.targets:
            columns.append(target)
            for level in self.levels:
                columns += [f"{target}_lower_{percent(level)}", f"{target}_upper_{percent(level)}"]
        return columns

    def rows(self) -> list[list[str]]:
        """One row of cells per series and step, as `header()` names them."""
        rows = []
        for series in self.series:
            for step, time in enumerate(series.times):
                row = ([series.id] if self.id_column else []) + [format_time(time)]
                for index in range(len(self.targets)):
                    row.append(number(series.point[step, index]))
                    for level in self.levels:
                        lower, upper = series.intervals[level]
                        row += [number(lower[step, index]), number(upper[step, index])]
                rows.append(row)
        return rows

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header())
        writer.writerows(self.rows())
        return buffer.getvalue()

    def write_csv(self, path) -> None:
        """Write the CSV atomically: a crash leaves the old file or the whole new one."""
        write_text_atomically(path, self.to_csv())

    def to_dict(self) -> dict:
        """A JSON-ready mapping: per series its id, times, point forecasts and intervals, keyed by target."""
        return {
            "targets": list(self.targets),
            "series": [
                {
                    "id": series.id,
                    "times": [format_time(time) for time in series.times],
                    "point": {name: _floats(series.point[:, i]) for i, name in enumerate(self.targets)},
                    "intervals": {
                        percent(level): {
                            name: {"lower": _floats(lower[:, i]), "upper": _floats(upper[:, i])}
                            for i, name in enumerate(self.targets)
                        }
                        for level, (lower, upper) in sorted(series.intervals.items())
                    },
                }
                for series in self.series
            ],
        }


def percent(level: float) -> str:
    """`0.8` as `80`, `0.975` as `97.5`."""
    return f"{level * 100:.6g}"


def number(value) -> str:
    """A value as a CSV cell that reads back as the same float32."""
    return repr(float(np.float32(value)))


def _floats(values) -> list[float]:
    return [float(value) for value in np.asarray(values, dtype="float64")]
