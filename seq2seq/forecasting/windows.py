"""Series to the network's arrays: scaled features, sliding training windows, and the inputs of one forecast.

Every numeric column is first standardised by its series' mean and standard deviation (learned
on the training part: `seq2seq.data.series.statistics`). A step's past features are its
targets, then its covariates, then its future covariates, then its calendar features; a horizon
step's future features are its future covariates and calendar features. A window starting its
horizon at step `t` reads past steps `t - lookback .. t - 1` and forecasts steps
`t .. t + horizon - 1`.

The targets of each window are then normalised by the window itself (`window_scaling`, as RevIN
and DeepAR do): relative to the window's last observed value and divided by the spread of its
lookback. The network so sees every window on the same footing wherever the series' level has
gone, and a trend carried past the training part's range is no harder than one within it; its
outputs are scaled back by the same two numbers.
"""

from __future__ import annotations

import numpy as np

from seq2seq.data.series import Series, SeriesSet
from seq2seq.errors import SeriesError
from seq2seq.forecasting.calendar import calendar_features, future_times

Scaling = tuple[np.ndarray, np.ndarray]  # (mean, std) of a series' numeric columns
SMALLEST_SPREAD = 0.1  # of a window, in units of the series' standard deviation: a flat lookback divides by this


def window_scaling(past_targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(location, spread) of windows' standardised past targets `(..., lookback, targets)`: each `(..., targets)`.

    The location is the last observed value, the spread the standard deviation over the
    lookback (at least `SMALLEST_SPREAD`).
    """
    return past_targets[..., -1, :], np.maximum(past_targets.std(axis=-2), SMALLEST_SPREAD)


def normalise_window(past: np.ndarray, targets: int, horizon_values=None):
    """`past (..., lookback, features)` with its first `targets` features relative to `window_scaling`, the
    `horizon_values (..., horizon, targets)` likewise, and the (location, spread) used."""
    location, spread = window_scaling(past[..., :targets])
    past = past.copy()
    past[..., :targets] = (past[..., :targets] - location[..., None, :]) / spread[..., None, :]
    if horizon_values is not None:
        horizon_values = (horizon_values - location[..., None, :]) / spread[..., None, :]
    return past, horizon_values, (location, spread)


def scaled_features(series: Series, scaling: Scaling, cycles: list[str], times=None) -> tuple[np.ndarray, np.ndarray]:
    """(past features `(history, past_features)`, future features `(len(times), future_features)`).

    `times` (default: the series' own) are the steps whose future features are wanted; the
    future covariates of steps past the series' rows are not known, so such steps are refused.
    """
    mean, std = scaling
    targets, covariates = series.targets.shape[1], series.covariates.shape[1]
    history = np.concatenate([series.targets, series.covariates, series.future[: series.history]], axis=1)
    past = np.concatenate([(history - mean) / std, calendar_features(series.times[: series.history], cycles)], axis=1)
    times = series.times if times is None else times
    known = series.future[: len(times)] if series.future.shape[1] else np.zeros((len(times), 0))
    future = (known - mean[targets + covariates :]) / std[targets + covariates :]
    return past, np.concatenate([future, calendar_features(times, cycles)], axis=1)


def training_windows(
    series_set: SeriesSet, lookback: int, horizon: int, stride: int, scaling: dict, cycles: list[str]
) -> tuple[dict, np.ndarray]:
    """`({"past", "future", "targets"}, targets)` of every window whose horizon lies within the held-out steps, the
    targets normalised by each window's own lookback (`normalise_window`).

    Windows are aligned on each series' end (the newest window always counts), `stride` apart.
    `targets (windows, horizon, targets)` is both the teacher's input and what the loss compares to.
    """
    past_parts, future_parts, target_parts = [], [], []
    for series in series_set:
        past, future = scaled_features(series, scaling[series.id], cycles)
        count = series.targets.shape[1]
        first = max(lookback, series.forecast_from)
        starts = np.arange(series.history - horizon, first - 1, -stride)[::-1]
        if len(starts) == 0:
            continue
        past_parts.append(np.stack([past[t - lookback : t] for t in starts]))
        future_parts.append(np.stack([future[t : t + horizon] for t in starts]))
        target_parts.append(np.stack([past[t : t + horizon, :count] for t in starts]))
    if not past_parts:
        raise SeriesError(
            f"{series_set.source}: no window of lookback {lookback} + horizon {horizon} fits in any series; "
            "give a shorter lookback or horizon, or more data."
        )
    count = len(series_set.columns.targets)
    past, targets, _ = normalise_window(np.concatenate(past_parts), count, np.concatenate(target_parts))
    targets = targets.astype("float32")
    inputs = {
        "past": past.astype("float32"),
        "future": np.concatenate(future_parts).astype("float32"),
        "targets": targets,
    }
    return inputs, targets


def forecast_inputs(
    series_set: SeriesSet, series: Series, lookback: int, horizon: int, scaling: Scaling, cycles: list[str], holdout=0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(past `(lookback, past_features)`, future `(horizon, future_features)`, horizon times) of the forecast
    that starts `holdout` steps before the end of `series`' history (0: after its last target); standardised,
    not yet normalised by the window (`normalise_window`).

    Future covariates over the horizon come from held-out steps or from the series' future rows;
    a model that reads future covariates needs them for every horizon step.
    """
    cut = series.history - holdout
    if cut < lookback:
        raise SeriesError(
            f"{series_set.where(series)}: the forecast needs the {lookback} steps of the model's lookback before it, "
            f"but the series has {cut}{f' before the {holdout} held out' if holdout else ''}; give a longer history."
        )
    known = len(series.times) - cut  # steps after the cut whose time (and future covariates) the data holds
    needs_covariates = series.future.shape[1] > 0
    if known >= horizon:
        times = series.times[cut : cut + horizon]
    elif needs_covariates:
        names = ", ".join(repr(name) for name in series_set.columns.future_covariates)
        raise SeriesError(
            f"{series_set.where(series)}: the model reads the future covariates {names}, so the forecast needs "
            f"{horizon} rows after the last target value with them filled in (targets left empty); there are {known}."
        )
    else:
        times = np.concatenate([series.times[cut:], future_times(series.times, horizon - known)])
    head = series.head(cut) if holdout else series
    past, _ = scaled_features(head, scaling, cycles)
    tail = Series(series.id, times, series.targets[:0], series.covariates[:0], series.future[cut:], series.lines)
    _, future = scaled_features(tail, scaling, cycles)
    return past[-lookback:], future, times


def full_batches(inputs: dict, targets: np.ndarray, batch_size: int, seed: int = 0) -> tuple[dict, np.ndarray, int]:
    """(inputs, targets, batch size) with windows repeated to fill the last batch: every batch full, one shape, so a
    training step is traced or compiled once.

    The repeated windows are the first of a seeded permutation; the batch size shrinks to the
    number of windows where there are fewer. Arrays go to `fit` as they are (`shuffle=True`),
    which took half the time per epoch of a `PyDataset` handing out the same batches.
    """
    size = min(batch_size, len(targets))
    extra = np.random.default_rng(seed).permutation(len(targets))[: -len(targets) % size]
    rows = np.concatenate([np.arange(len(targets)), extra])
    return {name: values[rows] for name, values in inputs.items()}, targets[rows], size
