"""Forecast accuracy over NumPy arrays: MAE, RMSE, sMAPE, MASE, and scores of prediction intervals.

Notation: `y` the actual values, `f` the forecasts, over the same points (any shape, the
same for both); `n` their count. Every metric is a mean over all the points given.

- MAE   = mean |y - f|
- RMSE  = sqrt(mean (y - f)^2)
- sMAPE = 100 * mean 2 |y - f| / (|y| + |f|), in per cent from 0 to 200. A point where both
  `y` and `f` are 0 is a perfect forecast and counts 0 (not 0 / 0).
- MASE  = mean |y - f| / s, with the scale `s` = mean over t of |x_t - x_(t-m)| over the training
  part `x` of the series: the in-sample error of the seasonal-naive forecast with season `m`
  (Hyndman & Koehler 2006). Below 1 is better than that naive forecast was in sample. With
  several targets (`x` of shape `(time, targets)`), each target is scaled by its own `s`.
- coverage = share of points with lower <= y <= upper.
- width    = mean (upper - lower).
- Winkler (interval) score of a central interval at level 1 - a (Gneiting & Raftery 2007):
  mean of (upper - lower) + (2 / a)(lower - y) where y < lower + (2 / a)(y - upper) where
  y > upper. Lower is better: narrow intervals that still hold the values.
- pinball loss of a quantile q forecast f: mean of max(q (y - f), (q - 1)(y - f)).

Where a metric has no value (an empty array, a constant training part for MASE, values that
are not finite) it raises `MetricError` saying why, rather than returning a silent nan:
callers that evaluate many series catch it per series and report which ones had no value.
"""

from __future__ import annotations

import numpy as np

from seq2seq.errors import Seq2SeqError


class MetricError(Seq2SeqError, ValueError):
    """A metric has no value for these arrays (empty, mismatched, not finite, or a zero scale)."""


def mae(actual, predicted) -> float:
    """Mean absolute error: mean |y - f|."""
    actual, predicted = _pair(actual, predicted, "MAE")
    return float(np.mean(np.abs(actual - predicted)))


def rmse(actual, predicted) -> float:
    """Root mean squared error: sqrt(mean (y - f)^2)."""
    actual, predicted = _pair(actual, predicted, "RMSE")
    return float(np.sqrt(np.mean(np.square(actual - predicted))))


def smape(actual, predicted) -> float:
    """Symmetric mean absolute percentage error, 0 to 200 (%): mean 2|y - f| / (|y| + |f|), 0 where both are 0."""
    actual, predicted = _pair(actual, predicted, "sMAPE")
    denominator = np.abs(actual) + np.abs(predicted)
    terms = np.divide(
        2.0 * np.abs(actual - predicted), denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return float(100.0 * np.mean(terms))


def seasonal_naive_scale(history, season: int = 1) -> float | np.ndarray:
    """MASE's scale: mean |x_t - x_(t-m)| over the training part `x` (`(time,)`, or `(time, targets)`: one per target).

    Raises `MetricError` where `x` has no more than `season` values or a scale is 0 (the
    training part repeats itself exactly every `season` steps, so no error can be scaled by it).
    """
    history = _finite(history, "MASE's training part")
    if not isinstance(season, (int, np.integer)) or season < 1:
        raise MetricError(f"MASE's season must be a positive whole number of steps, got {season!r}.")
    if history.ndim not in (1, 2):
        raise MetricError(f"MASE's training part must be (time,) or (time, targets), got shape {history.shape}.")
    if len(history) <= season:
        raise MetricError(
            f"MASE needs a training part longer than its season ({season} steps) to scale by, "
            f"got {len(history)} values."
        )
    scale = np.mean(np.abs(history[season:] - history[:-season]), axis=0)
    if np.any(scale == 0):
        raise MetricError(
            f"MASE is undefined here: the training part repeats exactly every {season} step(s), so its seasonal-naive "
            "error, the scale, is 0."
        )
    return float(scale) if history.ndim == 1 else scale


def mase(actual, predicted, history, season: int = 1) -> float:
    """Mean absolute scaled error: mean |y - f| / s, s = `seasonal_naive_scale(history, season)`.

    With several targets, `actual` and `predicted` end in a targets axis the length of
    `history`'s second axis, and each target's errors are divided by its own scale.
    """
    actual, predicted = _pair(actual, predicted, "MASE")
    scale = seasonal_naive_scale(history, season)
    if np.ndim(scale) == 1 and (actual.ndim == 0 or actual.shape[-1] != len(scale)):
        raise MetricError(
            f"MASE: the forecasts' last axis must hold the training part's {len(scale)} targets, "
            f"got shape {actual.shape}."
        )
    return float(np.mean(np.abs(actual - predicted) / scale))


def coverage(actual, lower, upper) -> float:
    """Share of the actual values inside their interval: mean of [lower <= y <= upper], 0 to 1."""
    actual, lower, upper = _interval(actual, lower, upper, "coverage")
    return float(np.mean((actual >= lower) & (actual <= upper)))


def interval_width(lower, upper) -> float:
    """Mean width of the intervals: mean (upper - lower)."""
    lower, upper = _pair(lower, upper, "interval width")
    _ordered(lower, upper, "interval width")
    return float(np.mean(upper - lower))


def winkler_score(actual, lower, upper, level: float) -> float:
    """Mean interval score of central intervals at `level` (0.9 for 90 %): width plus 2 / (1 - level) times misses."""
    if not 0 < level < 1:
        raise MetricError(f"an interval's level must lie between 0 and 1 (0.9 for 90 %), got {level!r}.")
    actual, lower, upper = _interval(actual, lower, upper, "Winkler score")
    alpha = 1.0 - level
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return float(np.mean(upper - lower + (2.0 / alpha) * (below + above)))


def pinball_loss(actual, predicted, quantile: float) -> float:
    """Mean pinball (quantile) loss of forecasts of the `quantile` (0 to 1): max(q (y - f), (q - 1)(y - f))."""
    if not 0 < quantile < 1:
        raise MetricError(f"a quantile must lie between 0 and 1, got {quantile!r}.")
    actual, predicted = _pair(actual, predicted, "pinball loss")
    difference = actual - predicted
    return float(np.mean(np.maximum(quantile * difference, (quantile - 1.0) * difference)))


def _finite(values, what: str) -> np.ndarray:
    """`values` as a float64 array with at least one value, all finite."""
    array = np.asarray(values, dtype="float64")
    if array.size == 0:
        raise MetricError(f"{what}: no values to score.")
    if not np.all(np.isfinite(array)):
        count = int(np.sum(~np.isfinite(array)))
        raise MetricError(f"{what}: {count} of {array.size} values are not finite (nan or infinite).")
    return array


def _pair(first, second, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of one shape (actual and forecast, or lower and upper), checked."""
    first, second = _finite(first, metric), _finite(second, metric)
    if first.shape != second.shape:
        raise MetricError(f"{metric}: the arrays must have one shape, got {first.shape} and {second.shape}.")
    return first, second


def _interval(actual, lower, upper, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    actual, lower = _pair(actual, lower, metric)
    _, upper = _pair(actual, upper, metric)
    _ordered(lower, upper, metric)
    return actual, lower, upper


def _ordered(lower: np.ndarray, upper: np.ndarray, metric: str) -> None:
    if np.any(lower > upper):
        count = int(np.sum(lower > upper))
        raise MetricError(f"{metric}: {count} interval(s) have a lower bound above the upper one.")
