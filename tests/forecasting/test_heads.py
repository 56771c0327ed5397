"""Heads: positive scales, quantiles that never cross, the losses' values, intervals and unscaling."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from seq2seq.forecasting.heads import (
    ForecastLoss,
    add_location,
    intervals,
    point_index,
    quantile_pairs,
    shape_outputs,
    unscale,
)
from seq2seq.host import to_host


def test_gaussian_scales_are_positive_and_quantiles_increase_whatever_the_raw_values():
    raw = np.random.default_rng(3).normal(scale=5.0, size=(4, 2, 3)).astype("float32")
    gaussian = to_host(shape_outputs(ops.convert_to_tensor(raw[..., :2]), "gaussian", 2))
    assert np.all(gaussian[..., 1] > 0) and np.array_equal(gaussian[..., 0], raw[..., 0])
    quantiles = to_host(shape_outputs(ops.convert_to_tensor(raw), "quantile", 3))
    assert np.all(np.diff(quantiles, axis=-1) >= 0)


def test_each_loss_is_its_formula_averaged_per_window():
    rng = np.random.default_rng(5)
    y = rng.normal(size=(2, 3, 1)).astype("float32")
    prediction = rng.normal(size=(2, 3, 1, 3)).astype("float32")
    prediction[..., 1] = np.abs(prediction[..., 1]) + 0.5
    error = y - prediction[..., 0]
    expected = {
        "mse": (error**2).mean(axis=(1, 2)),
        "mae": np.abs(error).mean(axis=(1, 2)),
        "gaussian": (
            np.log(prediction[..., 1]) + 0.5 * (error / prediction[..., 1]) ** 2 + 0.5 * np.log(2 * np.pi)
        ).mean(axis=(1, 2)),
    }
    for kind, values in expected.items():
        got = to_host(ForecastLoss(kind).call(ops.convert_to_tensor(y), ops.convert_to_tensor(prediction[..., :2])))
        assert got == pytest.approx(values, rel=1e-5), kind
    levels = np.array([0.1, 0.5, 0.9])
    residual = y[..., None] - prediction
    pinball = np.maximum(levels * residual, (levels - 1) * residual).mean(axis=(1, 2, 3))
    got = to_host(ForecastLoss("quantile", levels).call(ops.convert_to_tensor(y), ops.convert_to_tensor(prediction)))
    assert got == pytest.approx(pinball, rel=1e-5)


def test_quantile_pairs_and_gaussian_levels_give_intervals_around_the_point():
    assert quantile_pairs([0.05, 0.1, 0.5, 0.9, 0.95]) == {0.8: (1, 3), 0.9: (0, 4)}
    assert point_index("quantile", [0.1, 0.5, 0.9]) == 1 and point_index("gaussian", [0.1]) == 0
    values = np.array([[[10.0, 2.0]]])
    (lower, upper) = intervals(values, "gaussian", (), (0.95,))[0.95]
    assert lower[0, 0] == pytest.approx(10 - 1.959964 * 2, rel=1e-6) and upper[0, 0] == pytest.approx(10 + 3.919928)
    assert intervals(values, "mse", (), (0.8,)) == {}


def test_unscaling_shifts_values_and_only_stretches_a_scale():
    values = np.array([[[1.0, 0.5], [-1.0, 2.0]]])  # (horizon 1, targets 2, outputs 2)
    mean, std = np.array([10.0, 20.0]), np.array([2.0, 3.0])
    gaussian = unscale(values, mean, std, "gaussian")
    assert gaussian.tolist() == [[[12.0, 1.0], [17.0, 6.0]]]
    assert unscale(values, mean, std, "quantile").tolist() == [[[12.0, 11.0], [17.0, 26.0]]]


def test_a_shift_moves_every_location_value_but_never_a_gaussian_scale():
    values = np.arange(12, dtype="float32").reshape(2, 2, 3)
    shift = np.array([[10.0, 20.0], [30.0, 40.0]], dtype="float32")
    moved = to_host(add_location(ops.convert_to_tensor(values[..., :2]), ops.convert_to_tensor(shift), "gaussian"))
    assert np.array_equal(moved[..., 0], values[..., 0] + shift) and np.array_equal(moved[..., 1], values[..., 1])
    quantiles = to_host(add_location(ops.convert_to_tensor(values), ops.convert_to_tensor(shift), "quantile"))
    assert np.array_equal(quantiles, values + shift[..., None])
    assert add_location(values, None, "mse") is values
