"""Time series from a CSV file or a table: targets, covariates, times, one series per id.

A file holds a time column, one or more target columns, optionally covariates known only in
the past (`covariates`), covariates known in the future as well (`future_covariates`, such as
a holiday flag) and an id column for many series in one file. Every value is checked as it is
read; the first bad one is a `SeriesError` naming the file, line and column and what was
expected. Times are numbers (years, steps) or ISO dates (`2020-01-31`, `2020-01-31T12:00`).

`split_by_time` holds out the last steps of every series for validation and test; the held-out
parts keep the whole past before them as input, and the windows they yield forecast only the
held-out steps, so nothing later than a training window's horizon is ever seen in training.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from seq2seq.errors import SeriesError
from seq2seq.text import decode_lines


@dataclass(frozen=True)
class SeriesColumns:
    """Which columns of a table play which part."""

    time: str
    targets: tuple[str, ...]
    covariates: tuple[str, ...] = ()  # known only up to the present
    future_covariates: tuple[str, ...] = ()  # known over the horizon too
    id: str | None = None  # one series per value; None: the whole table is one series

    def __post_init__(self) -> None:
        for name in ("targets", "covariates", "future_covariates"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        if not self.targets:
            raise SeriesError("no target column was named; name at least one with --target.")
        named = [self.time, *self.targets, *self.covariates, *self.future_covariates] + ([self.id] if self.id else [])
        repeated = sorted({name for name in named if named.count(name) > 1})
        if repeated:
            raise SeriesError(f"column {repeated[0]!r} is named for two parts; give each column one part.")

    @property
    def values(self) -> tuple[str, ...]:
        """The numeric columns, in the order the arrays hold them."""
        return self.targets + self.covariates + self.future_covariates

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> SeriesColumns:
        return cls(**values)


@dataclass
class Series:
    """One series: `times (steps,)`, `targets (history, targets)`, `covariates (history, covariates)`,
    `future (steps, future covariates)`.

    `steps` exceeds `history` by the future rows (known covariates over the horizon, no targets yet).
    `forecast_from` is the first step a window's horizon may cover (the held-out part starts there).
    """

    id: str
    times: np.ndarray
    targets: np.ndarray
    covariates: np.ndarray
    future: np.ndarray
    lines: np.ndarray  # where each step came from, for messages
    forecast_from: int = 0

    @property
    def history(self) -> int:
        return len(self.targets)

    @property
    def future_rows(self) -> int:
        return len(self.times) - self.history

    def head(self, steps: int, forecast_from: int = 0) -> Series:
        """The first `steps` steps (future rows dropped)."""
        return dataclasses.replace(
            self,
            times=self.times[:steps],
            targets=self.targets[:steps],
            covariates=self.covariates[:steps],
            future=self.future[:steps],
            lines=self.lines[:steps],
            forecast_from=forecast_from,
        )


@dataclass
class SeriesSet:
    """The series of one source, in the order their ids first appear."""

    columns: SeriesColumns
    series: list[Series] = field(default_factory=list)
    source: str = "<table>"
    unit: str = "line"  # what messages call a row: a file's "line", a request's "step"

    def __len__(self) -> int:
        return len(self.series)

    def __iter__(self):
        return iter(self.series)

    def where(self, series: Series) -> str:
        """`file, series 'a' (lines 2-40)`: how messages name a series."""
        named = f", series {series.id!r}" if self.columns.id else ""
        return f"{self.source}{named} ({self.unit}s {series.lines[0]}-{series.lines[-1]})"

    def replace(self, series: list[Series]) -> SeriesSet:
        return SeriesSet(self.columns, series, self.source, self.unit)


def read_series(
    path,
    time: str,
    targets: str | Sequence[str],
    covariates: Sequence[str] = (),
    future_covariates: Sequence[str] = (),
    id: str | None = None,
    future_rows: bool = False,
) -> SeriesSet:
    """Read a CSV file with a header line into a `SeriesSet`.

    With `future_rows`, trailing rows of a series whose targets are all empty are its future:
    they must hold the future covariates, and the forecast covers them.
    """
    columns = SeriesColumns(time, targets, covariates, future_covariates, id)
    with open(path, "rb") as handle:
        lines = decode_lines(handle.read().splitlines(), str(path))
    rows = list(csv.reader(lines))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SeriesError(f"{path} is empty; expected a header line naming the columns, then one row per time step.")
    header = [cell.strip() for cell in rows[0]]
    table = {name: [row[i].strip() if i < len(row) else "" for row in rows[1:]] for i, name in enumerate(header)}
    return series_from_table(table, columns, str(path), first_line=2, future_rows=future_rows)


def series_from_table(
    table: dict[str, Sequence],
    columns: SeriesColumns,
    source: str,
    first_line: int = 2,
    future_rows: bool = False,
    unit: str = "line",
) -> SeriesSet:
    """A `SeriesSet` from `{column name: cells}` (strings or numbers); row i is `unit` `first_line + i` of `source`."""
    for role, names in (
        ("time", [columns.time]),
        ("id", [columns.id] if columns.id else []),
        ("target", columns.targets),
        ("covariate", columns.covariates),
        ("future covariate", columns.future_covariates),
    ):
        for name in names:
            if name not in table:
                held = ", ".join(repr(str(column)) for column in table) or "no columns"
                raise SeriesError(f"{source}: there is no {role} column {name!r}; the header holds {held}.")
    count = len(table[columns.time])
    if count == 0:
        raise SeriesError(f"{source} holds a header but no rows; expected one row per time step.")
    groups: dict[str, list[int]] = {}
    ids = table[columns.id] if columns.id else [""] * count
    for row, key in enumerate(ids):
        key = str(key).strip()
        if columns.id and not key:
            raise SeriesError(f"{source}, {unit} {first_line + row}, column {columns.id!r}: the id is empty.")
        groups.setdefault(key, []).append(row)
    times = parse_times(table[columns.time], f"{source}, {unit}", columns.time, first_line)
    where = f"{source}, {unit}"
    series = [
        _one_series(key, rows, table, times, columns, where, first_line, future_rows) for key, rows in groups.items()
    ]
    return SeriesSet(columns, series, source, unit)


def parse_times(cells: Sequence, where: str, column: str, first_line: int = 2) -> np.ndarray:
    """Numbers (as float64) or ISO dates (as datetime64[s]), as the first cell is; one kind for all.

    `where` names the rows in messages: `data.csv, line` (then the row's number).
    """
    numeric = _number(cells[0]) is not None
    parsed = []
    for row, cell in enumerate(cells):
        value = _number(cell) if numeric else _date(cell)
        if value is None:
            expected = "a number, as the first time is" if numeric else "an ISO date such as 2020-01-31"
            raise SeriesError(f"{where} {first_line + row}, column {column!r}: {cell!r} is not {expected}.")
        parsed.append(value)
    return np.array(parsed, dtype="float64" if numeric else "datetime64[s]")


def _number(cell) -> float | None:
    try:
        value = float(cell)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _date(cell) -> np.datetime64 | None:
    text = str(cell).strip().replace(" ", "T")
    try:
        return np.datetime64(text, "s") if text else None
    except ValueError:
        return None


def _one_series(key, rows, table, times, columns, where, first_line, future_rows) -> Series:
    lines = np.array(rows) + first_line
    series_times = times[rows]
    for i in range(1, len(rows)):
        if series_times[i] <= series_times[i - 1]:
            earlier = table[columns.time][rows[i - 1]]
            problem = "repeats" if series_times[i] == series_times[i - 1] else "comes before"
            raise SeriesError(
                f"{where} {lines[i]}, column {columns.time!r}: {table[columns.time][rows[i]]!r} {problem} the "
                f"previous row's {earlier!r}; expected times strictly increasing within each series."
            )
    history = len(rows)
    if future_rows:
        while history and all(str(table[name][rows[history - 1]]).strip() == "" for name in columns.targets):
            history -= 1

    def numbers(names, count):
        values = np.empty((count, len(names)), dtype="float64")
        for j, name in enumerate(names):
            for i in range(count):
                cell = table[name][rows[i]]
                value = _number(cell)
                if value is None:
                    found = "is empty" if str(cell).strip() in ("", "nan", "NaN", "NA") else f"holds {cell!r}"
                    raise SeriesError(
                        f"{where} {lines[i]}, column {name!r}: the value {found}; expected a finite number."
                    )
                values[i, j] = value
        return values

    return Series(
        id=key,
        times=series_times,
        targets=numbers(columns.targets, history),
        covariates=numbers(columns.covariates, history),
        future=numbers(columns.future_covariates, len(rows)),
        lines=lines,
    )


def require_length(series_set: SeriesSet, lookback: int, horizon: int) -> None:
    """Refuse a series whose history is shorter than `lookback + horizon` (it yields no window)."""
    for series in series_set:
        if series.history < lookback + horizon:
            raise SeriesError(
                f"{series_set.where(series)}: the series has {series.history} time steps, fewer than lookback "
                f"{lookback} + horizon {horizon} = {lookback + horizon}; give a shorter lookback or horizon, or more "
                "data."
            )


def split_by_time(series_set: SeriesSet, validation: int, test: int = 0) -> tuple[SeriesSet, SeriesSet, SeriesSet]:
    """(training, validation, test) parts: the last `test` steps of every series for test, the `validation` steps
    before them for validation, the rest for training.

    Each later part holds the whole series up to its end, with `forecast_from` where its held-out
    steps start, so its windows read the past but forecast only held-out steps.
    """
    for name, steps in (("validation", validation), ("test", test)):
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise SeriesError(f"{name} must be a number of time steps >= 0, got {steps!r}.")
    parts = ([], [], [])
    for series in series_set:
        end = series.history - validation - test
        if end < 1:
            raise SeriesError(
                f"{series_set.where(series)}: the series has {series.history} time steps, too few to hold out "
                f"{validation} for validation and {test} for test; hold out fewer steps."
            )
        parts[0].append(series.head(end))
        parts[1].append(series.head(end + validation, forecast_from=end))
        parts[2].append(series.head(series.history, forecast_from=end + validation))
    return tuple(series_set.replace(part) for part in parts)


def statistics(series: Series) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of each numeric column over the history (targets, covariates, future covariates); std 1 where the
    column is constant, so scaling never divides by zero."""
    values = np.concatenate([series.targets, series.covariates, series.future[: series.history]], axis=1)
    mean, std = values.mean(axis=0), values.std(axis=0)
    return mean, np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
