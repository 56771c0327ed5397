"""The step between a series' times, the times of its horizon, and calendar features from dated times.

Dated series step in whole months (monthly, quarterly, yearly data dated on the first of a
month) or in a fixed number of seconds (hourly, daily, weekly data); numbered series in a fixed
number. The step is the most common gap, so one missing row does not change it.

Calendar features are a sine and a cosine per cycle shorter than a year that the step can
show (hour of day, day of week, day of year, month of year): future covariates that every
dated series has for free.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

CYCLES = ("hour", "weekday", "yearday", "month")
DAY = 86_400


def time_step(times: np.ndarray) -> tuple[str, float]:
    """`("months", k)`, `("seconds", s)` or `("number", d)`: the most common gap between consecutive times."""
    if len(times) < 2:
        return ("number", 1.0) if times.dtype.kind == "f" else ("seconds", float(DAY))
    if times.dtype.kind == "f":
        return "number", _most_common(np.diff(times))
    if _month_starts(times):
        months = times.astype("datetime64[M]").astype("int64")
        return "months", _most_common(np.diff(months))
    seconds = times.astype("datetime64[s]").astype("int64")
    return "seconds", _most_common(np.diff(seconds))


def _most_common(gaps: np.ndarray) -> float:
    return float(Counter(gaps.tolist()).most_common(1)[0][0])


def _month_starts(times: np.ndarray) -> bool:
    return bool(np.all(times.astype("datetime64[M]").astype("datetime64[s]") == times.astype("datetime64[s]")))


def future_times(times: np.ndarray, count: int) -> np.ndarray:
    """The `count` times after the last of `times`, one step apart."""
    kind, step = time_step(times)
    ahead = np.arange(1, count + 1)
    last = times[-1]
    if kind == "number":
        return last + step * ahead
    if kind == "months":
        months = last.astype("datetime64[M]") + (ahead * int(step)).astype("timedelta64[M]")
        return months.astype("datetime64[s]")
    return last.astype("datetime64[s]") + (ahead * int(step)).astype("timedelta64[s]")


def calendar_cycles(times: np.ndarray) -> list[str]:
    """The cycles that dated times one step apart can show (none for numbered times)."""
    if times.dtype.kind == "f":
        return []
    kind, step = time_step(times)
    if kind == "months":
        return ["month"] if step < 12 else []
    cycles = []
    if step < DAY:
        cycles.append("hour")
    if step < 7 * DAY:
        cycles.append("weekday")
    if step < 365 * DAY / 2:
        cycles.append("yearday")
    return cycles


def calendar_features(times: np.ndarray, cycles: list[str]) -> np.ndarray:
    """`(len(times), 2 * len(cycles))`: the sine and cosine of where each time falls in each cycle."""
    if not cycles:
        return np.zeros((len(times), 0), dtype="float64")
    seconds = times.astype("datetime64[s]").astype("int64")
    days = seconds // DAY
    years = times.astype("datetime64[Y]")
    phases = {
        "hour": (seconds % DAY) / DAY,
        "weekday": ((days + 3) % 7) / 7,  # 1970-01-01 was a Thursday; Monday is 0
        "yearday": (days - years.astype("datetime64[D]").astype("int64")) / 365.25,
        "month": (times.astype("datetime64[M]").astype("int64") % 12) / 12,
    }
    columns = []
    for cycle in cycles:
        angle = 2 * np.pi * phases[cycle]
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=1)


def format_time(value) -> str:
    """A time as a CSV cell: a date, a date and time, or a number written as short as it reads back."""
    if isinstance(value, np.datetime64):
        text = str(value.astype("datetime64[s]"))
        return text[:10] if text.endswith("T00:00:00") else text
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def season_of(times: np.ndarray) -> int:
    """The usual seasonal period of series with these times, in steps: 12 for monthly data, 4 for quarterly, 7 for
    daily, 24 for hourly, 52 for weekly; 1 (none) for numbered times and other steps."""
    if times.dtype.kind == "f" or len(times) < 2:
        return 1
    kind, step = time_step(times)
    if kind == "months":
        return int(12 // step) if step < 12 and 12 % step == 0 else 1
    return {3600.0: 24, float(DAY): 7, float(7 * DAY): 52}.get(step, 1)
