"""A forecaster against baselines on the same held-out steps, from the same rolling origins, in one run.

The last `test` steps of every series are held out. Forecasts start at rolling origins through
that part, `stride` steps apart and aligned on the series' end (the last origin forecasts the
last `horizon` steps), so every origin forecasts a full horizon of known values. At each origin
the model and every baseline see only the values before it. The baselines are fitted once per
series and target on the values before the first origin (what the model could have trained
on); MASE is scaled by the seasonal-naive error of that same part.

Per series, each metric is taken over all its origins, horizon steps and targets; the figures
reported are the means over series (as in the M4 competition). Interval coverage, width and
Winkler score are at each level the model gives (or 80 % and 95 % for a point model, for the
baselines), pooled over all points. A series whose training part repeats exactly every season
has no MASE (`metrics.MetricError`); it is left out of the MASE mean and named under
`mase_undefined`.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from seq2seq.data.series import SeriesSet
from seq2seq.errors import SeriesError
from seq2seq.forecasting.baselines import LEVELS, make_baseline, rolling_forecasts
from seq2seq.forecasting.forecast import percent
from seq2seq.forecasting.metrics import (
    MetricError,
    coverage,
    interval_width,
    mae,
    mase,
    rmse,
    smape,
    winkler_score,
)

DEFAULT_BASELINES = ("seasonal_naive", "ets")
Intervals = dict  # {level: (lower, upper)}, each shaped like the point forecasts


def evaluate_forecaster(
    model,
    series_set: SeriesSet,
    origins: int | None = None,
    season: int = 1,
    test: int | None = None,
    stride: int = 1,
    baselines: Sequence[str] = DEFAULT_BASELINES,
) -> dict:
    """Score `model` (a `Forecaster`) and each named baseline on the held-out end of every series of `series_set`.

    `origins` (how many rolling origins, `stride` apart) or `test` (steps held out) sets the
    held-out part; with neither, a `series_set` from `split_by_time` holds out its own test
    part, and any other one its last horizon. `season` is the seasonal period in steps
    (12 for monthly data, 1 for none): the seasonal-naive baseline's and MASE's.

    Returns `{"horizon", "season", "test_steps", "origins", "stride", "series", "levels",
    "methods": {name: {"mae", "rmse", "smape", "mase", "coverage": {level %: share},
    "interval_width", "winkler", "seconds"}}, "mase_undefined": [series ids]}`; the model is
    the method named "model".
    """
    horizon = model.config.horizon
    test = _test_steps(series_set, horizon, origins, test, stride, season)
    series_origins = [holdout_origins(series.history, horizon, test, stride) for series in series_set]
    for series, found in zip(series_set, series_origins):
        if found[0] <= season:
            raise SeriesError(
                f"{series_set.where(series)}: holding out {test} steps leaves {found[0]} before them, too few to fit "
                f"baselines on with season {season}; hold out fewer steps or give a longer series."
            )
    holdouts = [series_set.series[0].history - origin for origin in series_origins[0]]
    actual = [_windows(series.targets, found, horizon) for series, found in zip(series_set, series_origins)]
    started = time.perf_counter()
    model_point, model_intervals = model_forecasts(model, series_set, holdouts)
    seconds = {"model": time.perf_counter() - started}
    forecasts = {"model": (model_point, model_intervals)}
    levels = sorted(model_intervals[0]) if model_intervals and model_intervals[0] else list(LEVELS)
    for name in baselines:
        started = time.perf_counter()
        forecasts[name] = baseline_forecasts(name, series_set, series_origins, horizon, season, levels)
        seconds[name] = time.perf_counter() - started
    trains = [series.targets[: found[0]] for series, found in zip(series_set, series_origins)]
    undefined = set()
    methods = {}
    for name, (points, intervals) in forecasts.items():
        scores = score_series(actual, points, intervals, trains, season, levels, undefined)
        methods[name] = {**scores, "seconds": seconds[name]}
    return {
        "horizon": horizon,
        "season": season,
        "test_steps": test,
        "origins": len(holdouts),
        "stride": stride,
        "series": len(series_set),
        "levels": levels,
        "methods": methods,
        "mase_undefined": sorted(series_set.series[i].id for i in undefined),
    }


def holdout_origins(history: int, horizon: int, test: int, stride: int = 1) -> list[int]:
    """The origins (first forecast steps) through the last `test` of `history` steps: `stride` apart, the last at
    `history - horizon`."""
    return list(range(history - horizon, history - test - 1, -stride))[::-1]


def model_forecasts(model, series_set: SeriesSet, holdouts: Sequence[int]) -> tuple[list, list]:
    """The model's forecasts from each origin (`holdouts`: steps before each series' end), all series batched per
    origin: per series, `point (origins, horizon, targets)` and `{level: (lower, upper)}` of that shape."""
    per_origin = [model.forecast(series_set, holdout=holdout) for holdout in holdouts]
    points, intervals = [], []
    for index in range(len(series_set)):
        forecasts = [forecast.series[index] for forecast in per_origin]
        points.append(np.stack([forecast.point for forecast in forecasts]))
        intervals.append(
            {
                level: tuple(np.stack([forecast.intervals[level][side] for forecast in forecasts]) for side in (0, 1))
                for level in forecasts[0].intervals
            }
        )
    return points, intervals


def baseline_forecasts(name: str, series_set: SeriesSet, series_origins, horizon: int, season: int, levels):
    """A baseline's forecasts shaped as `model_forecasts`' (each target of each series fitted on its own)."""
    points, intervals = [], []
    for series, found in zip(series_set, series_origins):
        per_target = [
            rolling_forecasts(make_baseline(name, season), values, found[0], found, horizon, levels)
            for values in series.targets.T
        ]
        points.append(np.stack([point for point, _ in per_target], axis=-1))
        intervals.append(
            {
                level: tuple(np.stack([bounds[level][side] for _, bounds in per_target], axis=-1) for side in (0, 1))
                for level in levels
            }
        )
    return points, intervals


def score_series(actual, points, intervals, trains, season: int, levels, undefined: set | None = None) -> dict:
    """Metrics of one method over many series: per-series MAE, RMSE, sMAPE and MASE averaged over series, interval
    scores pooled over all points. `undefined` collects the positions of series without a MASE."""
    undefined = set() if undefined is None else undefined
    per_series = {"mae": [], "rmse": [], "smape": [], "mase": []}
    for index, (truth, point, train) in enumerate(zip(actual, points, trains)):
        per_series["mae"].append(mae(truth, point))
        per_series["rmse"].append(rmse(truth, point))
        per_series["smape"].append(smape(truth, point))
        try:
            per_series["mase"].append(mase(truth, point, train, season))
        except MetricError:
            undefined.add(index)
    scores = {name: float(np.mean(values)) if values else None for name, values in per_series.items()}
    truth = np.concatenate([np.ravel(values) for values in actual])
    scores.update(coverage={}, interval_width={}, winkler={})
    for level in levels:
        if not intervals or level not in intervals[0]:
            continue
        lower = np.concatenate([np.ravel(bounds[level][0]) for bounds in intervals])
        upper = np.concatenate([np.ravel(bounds[level][1]) for bounds in intervals])
        key = percent(level)
        scores["coverage"][key] = coverage(truth, lower, upper)
        scores["interval_width"][key] = interval_width(lower, upper)
        scores["winkler"][key] = winkler_score(truth, lower, upper, level)
    return scores


def _test_steps(series_set: SeriesSet, horizon: int, origins, test, stride, season) -> int:
    for name, value in (("stride", stride), ("season", season)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SeriesError(f"{name} must be a whole number of steps >= 1, got {value!r}.")
    if origins is not None and test is not None:
        raise SeriesError("give either origins (how many forecasts per series) or test (steps held out), not both.")
    if origins is not None:
        if isinstance(origins, bool) or not isinstance(origins, int) or origins < 1:
            raise SeriesError(f"origins must be a whole number >= 1, got {origins!r}.")
        return horizon + (origins - 1) * stride
    if test is None:
        held = {series.history - series.forecast_from for series in series_set if series.forecast_from}
        test = max(held) if held else horizon
    if isinstance(test, bool) or not isinstance(test, int) or test < horizon:
        raise SeriesError(f"test must hold out at least one horizon ({horizon} steps), got {test!r}.")
    return test


def _windows(targets: np.ndarray, origins: Sequence[int], horizon: int) -> np.ndarray:
    """The actual values each origin forecasts: `(origins, horizon, targets)`."""
    return np.stack([targets[origin : origin + horizon] for origin in origins])
