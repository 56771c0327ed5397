"""Prediction intervals calibrated on the validation part: one widening factor per level, stored in the model.

A head's intervals hold as much as its learned spread says; a spread learned on the training
windows (and an epoch chosen for its loss) can be too narrow or too wide for new data. After
training, the validation windows are forecast as a forecast is, and each held-out value gets a
score: its distance from the point forecast in units of the interval's half-width on its side
(at most 1 where the interval holds it). The factor of a level c is the ⌈(n + 1)c⌉-th smallest
of the n scores, the split-conformal quantile (Vovk et al. 2005; on scaled residuals, Lei et
al. 2018), so on data like the validation part the widened intervals hold at least a share c.
Every interval of that level is then `point ± factor × its half-widths`: its shape over the
horizon and between windows stays the head's, only its width changes.

The factors are pooled over all validation windows, steps and targets: with the few tens of
windows a single series leaves for validation, a factor per horizon step would be noise.
Fewer than `MIN_WINDOWS` validation windows leave the intervals as the head gives them.

Training calibrates on the windows that also chose the epoch (`narrow=False`): of all epochs,
the one kept forecasts those windows best, so their scores run small, and a factor below 1
fitted on them may only reflect that choice. Such a factor is therefore raised to 1: the
windows can show that the intervals are too narrow (even the flattered scores exceed them),
never that they are too wide. Holding out windows that did not choose the epoch would cost
more than it gains: windows one step apart share most of their held-out values, so disjoint
parts of the few tens of validation windows leave too few for either the choice or the factors.
"""

from __future__ import annotations

import math

import numpy as np

MIN_WINDOWS = 10  # validation windows needed before the intervals are rescaled
SMALLEST_HALF_WIDTH = 1e-12  # a half-width below this counts as this, so a score is always finite

Intervals = dict  # {level: (lower, upper)}, each shaped like the point forecasts


def scores(actual: np.ndarray, point: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Each value's distance from the point forecast over the interval's half-width on its side (≤ 1: inside)."""
    half = np.where(actual >= point, upper - point, point - lower)
    return np.abs(actual - point) / np.maximum(half, SMALLEST_HALF_WIDTH)


def interval_factors(
    actual: np.ndarray, point: np.ndarray, intervals: Intervals, narrow: bool = True
) -> dict[float, float]:
    """`{level: factor}` that makes each level's intervals hold a share `level` of `actual` (split conformal);
    with `narrow=False` no factor is below 1 (for windows that also chose the model: see the module's text).

    `actual`, `point` and each bound share one shape, such as `(windows, horizon, targets)`.
    """
    factors = {}
    for level, (lower, upper) in intervals.items():
        found = np.sort(np.ravel(scores(actual, point, lower, upper)))
        rank = min(math.ceil((len(found) + 1) * level), len(found))
        factors[level] = float(found[rank - 1]) if narrow else max(1.0, float(found[rank - 1]))
    return factors


def widen(point: np.ndarray, intervals: Intervals, factors: dict) -> Intervals:
    """Each level's `(lower, upper)` stretched about `point` by its factor (a level without one is left as it is)."""
    return {
        level: (point - factors.get(level, 1.0) * (point - lower), point + factors.get(level, 1.0) * (upper - point))
        for level, (lower, upper) in intervals.items()
    }
