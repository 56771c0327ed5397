"""What the decoder's output becomes: a point forecast, a Gaussian, or quantiles; their losses and intervals.

The head gives `(batch, horizon, targets, outputs_per_target)`:
- `mse`, `mae`: one value (trained with the squared or absolute error);
- `gaussian`: a mean and a scale > 0 (trained with the negative log-likelihood), so an interval
  of coverage `c` is `mean ± z((1 + c) / 2) × scale`;
- `quantile`: one value per quantile level, in increasing order by construction (the first
  value plus softplus increments, so quantiles never cross), trained with the pinball loss;
  each pair of levels `(q, 1 - q)` is an interval of coverage `1 - 2q`.
The point forecast (what the decoder feeds itself and what `point` holds) is the value, the
mean, or the median (the middle quantile level).
"""

from __future__ import annotations

from statistics import NormalDist

import keras
import numpy as np
from keras import ops

SMALLEST_SCALE = 1e-3  # of a Gaussian, in a window's normalised units (`windows.normalise_window`)


def shape_outputs(raw, loss: str, count: int):
    """`raw (..., count)` from the output layer to the head's values (scales positive, quantiles increasing)."""
    if loss == "gaussian":
        return ops.concatenate([raw[..., :1], ops.softplus(raw[..., 1:]) + SMALLEST_SCALE], axis=-1)
    if loss == "quantile" and count > 1:
        return ops.cumsum(ops.concatenate([raw[..., :1], ops.softplus(raw[..., 1:])], axis=-1), axis=-1)
    return raw


def add_location(values, shift, loss: str):
    """Head values `(..., targets, outputs)` moved by `shift (..., targets)` (None: unmoved): the value, the
    Gaussian's mean (not its scale) or every quantile."""
    if shift is None:
        return values
    if loss == "gaussian":
        return ops.concatenate([values[..., :1] + ops.expand_dims(shift, -1), values[..., 1:]], axis=-1)
    return values + ops.expand_dims(shift, -1)


def point_index(loss: str, quantiles) -> int:
    """Which of the head's values is the point forecast: the first, or the median quantile."""
    if loss != "quantile":
        return 0
    return int(np.argmin(np.abs(np.asarray(quantiles) - 0.5)))


@keras.saving.register_keras_serializable(package="seq2seq")
class ForecastLoss(keras.losses.Loss):
    """`(targets (batch, horizon, targets), head values (batch, horizon, targets, outputs))` to one loss per window."""

    def __init__(self, kind: str = "mse", quantiles=(0.1, 0.5, 0.9), name="forecast_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.kind = kind
        self.quantiles = tuple(float(q) for q in quantiles)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.kind == "quantile":
            levels = ops.convert_to_tensor(np.asarray(self.quantiles, dtype="float32"))
            error = ops.expand_dims(y_true, -1) - y_pred
            losses = ops.mean(ops.maximum(levels * error, (levels - 1.0) * error), axis=-1)
        elif self.kind == "gaussian":
            mean, scale = y_pred[..., 0], y_pred[..., 1]
            losses = ops.log(scale) + 0.5 * ops.square((y_true - mean) / scale) + 0.5 * np.log(2 * np.pi)
        else:
            error = y_true - y_pred[..., 0]
            losses = ops.abs(error) if self.kind == "mae" else ops.square(error)
        return ops.mean(losses, axis=(1, 2))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "quantiles": list(self.quantiles)}


def quantile_pairs(quantiles) -> dict[float, tuple[int, int]]:
    """`{coverage: (lower index, upper index)}` for each pair of levels `(q, 1 - q)` among `quantiles`."""
    quantiles = list(quantiles)
    pairs = {}
    for low, q in enumerate(quantiles):
        for high, other in enumerate(quantiles):
            if q < 0.5 and abs(q + other - 1.0) < 1e-9:
                pairs[round(1.0 - 2.0 * q, 6)] = (low, high)
    return dict(sorted(pairs.items()))


def intervals(values: np.ndarray, loss: str, quantiles, levels) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """`{coverage: (lower, upper)}` from head values `(..., outputs)` already in the series' own units."""
    if loss == "gaussian":
        mean, scale = values[..., 0], values[..., 1]
        found = {}
        for level in levels:
            z = NormalDist().inv_cdf((1.0 + level) / 2.0)
            found[round(float(level), 6)] = (mean - z * scale, mean + z * scale)
        return found
    if loss == "quantile":
        return {
            level: (values[..., low], values[..., high]) for level, (low, high) in quantile_pairs(quantiles).items()
        }
    return {}


def unscale(values: np.ndarray, mean: np.ndarray, std: np.ndarray, loss: str) -> np.ndarray:
    """Head values `(..., targets, outputs)` from normalised units back to the series' own: `values * std + mean`,
    `mean` and `std` `(targets,)` (the window's location and spread joined with the series' scaling).

    A Gaussian's scale is only stretched; every other value is shifted and stretched.
    """
    if loss == "gaussian":
        return np.stack([values[..., 0] * std + mean, values[..., 1] * std], axis=-1)
    return values * std[:, None] + mean[:, None]
