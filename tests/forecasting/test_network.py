"""The forecasting network: shapes for every architecture, teacher forcing against feeding its own forecasts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seq2seq.forecasting.network import ForecastNetwork
from seq2seq.host import to_host

BATCH, LOOKBACK, HORIZON, TARGETS, PAST, FUTURE = 2, 5, 4, 3, 7, 2


def network(**settings):
    keras.utils.set_random_seed(11)
    layer = ForecastNetwork(TARGETS, PAST, FUTURE, **{"units": 6, **settings})
    layer.build()
    return layer


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    past = rng.normal(size=(BATCH, LOOKBACK, PAST)).astype("float32")
    future = rng.normal(size=(BATCH, HORIZON, FUTURE)).astype("float32")
    teacher = rng.normal(size=(BATCH, HORIZON, TARGETS)).astype("float32")
    return past, future, teacher


@pytest.mark.parametrize(
    "settings, outputs",
    [
        ({}, 1),
        ({"cell": "gru", "layers": 2, "bidirectional": True, "outputs_per_target": 2, "head": "gaussian"}, 2),
        ({"attention": "bahdanau", "bidirectional": True, "outputs_per_target": 3, "head": "quantile"}, 3),
        ({"attention": "luong-general", "layers": 2}, 1),
    ],
    ids=["lstm", "bigru-stack", "bahdanau-bi", "luong-stack"],
)
def test_every_architecture_gives_values_per_step_target_and_output(settings, outputs):
    layer = network(**settings)
    past, future, teacher = inputs()
    values = to_host(layer(past, future, teacher, np.ones((BATCH, HORIZON), "float32")))
    assert values.shape == (BATCH, HORIZON, TARGETS, outputs) and np.all(np.isfinite(values))


@pytest.mark.parametrize("attention", ["none", "luong-dot"])
def test_a_teacher_value_reaches_only_the_steps_after_it(attention):
    layer = network(attention=attention)
    past, future, teacher = inputs(1)
    use = np.ones((BATCH, HORIZON), "float32")
    first = to_host(layer(past, future, teacher, use))
    changed = teacher.copy()
    changed[:, 1] += 5.0
    second = to_host(layer(past, future, changed, use))
    assert np.array_equal(first[:, :2], second[:, :2])  # step 1's true value is the input of step 2
    assert not np.allclose(first[:, 2:], second[:, 2:])


def test_without_the_teacher_each_step_reads_the_previous_forecast():
    layer = network(attention="bahdanau")
    past, future, teacher = inputs(2)
    free = to_host(layer(past, future, teacher, np.zeros((BATCH, HORIZON), "float32")))
    assert np.array_equal(free, to_host(layer(past, future, teacher * 0 + 9, np.zeros((BATCH, HORIZON), "float32"))))
    fed = teacher.copy()
    fed[:, :-1] = free[:, :-1, :, 0]  # teacher forcing with the model's own forecasts is the same computation
    forced = to_host(layer(past, future, fed, np.ones((BATCH, HORIZON), "float32")))
    assert np.allclose(free, forced, atol=1e-6)


@pytest.mark.parametrize("attention", ["none", "bahdanau"])
def test_the_linear_skip_adds_a_forecast_from_the_lookback_targets_to_the_decoders(attention):
    settings = {"attention": attention, "horizon": HORIZON, "lookback": LOOKBACK}
    plain, skipped = network(**settings), network(linear_skip=True, **settings)
    past, future, teacher = inputs(3)
    use = np.ones((BATCH, HORIZON), "float32")
    assert np.array_equal(to_host(plain(past, future, teacher, use)), to_host(skipped(past, future, teacher, use)))
    kernel, bias = skipped.skip_layer.get_weights()  # zero at first: the naive forecast in window units
    assert not kernel.any()
    rng = np.random.default_rng(4)
    kernel, bias = rng.normal(size=kernel.shape), rng.normal(size=bias.shape)
    skipped.skip_layer.set_weights([kernel, bias])
    linear = (past[:, :, :TARGETS].reshape(BATCH, -1) @ kernel + bias).reshape(BATCH, HORIZON, TARGETS)
    for use_teacher in (None, use):  # the fused teacher-forced path and the step loop
        moved = to_host(skipped(past, future, teacher, use_teacher))[..., 0]
        assert np.allclose(moved - to_host(plain(past, future, teacher, use_teacher))[..., 0], linear, atol=1e-5)


def test_the_layer_round_trips_through_its_config():
    layer = network(cell="gru", attention="luong-dot", head="gaussian", outputs_per_target=2, linear_skip=True)
    config = layer.get_config()
    assert ForecastNetwork.from_config(config).get_config() == config
