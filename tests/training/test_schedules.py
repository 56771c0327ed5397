"""The learning-rate decay to the end of the training: by steps, by the time budget, whichever ends first."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seq2seq.config import TrainConfig
from seq2seq.errors import ConfigError
from seq2seq.training.schedules import DecayToEnd, decay_factor, sync_model_state


def test_the_rate_stays_full_until_the_decay_starts_then_falls_to_zero():
    assert [decay_factor("linear", p, 0.5) for p in (0.0, 0.5, 0.75, 1.0, 1.5)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    assert decay_factor("cosine", 0.5) == pytest.approx(0.5)
    assert decay_factor("cosine", 0.75, 0.5) == pytest.approx(0.5)
    assert decay_factor("constant", 0.9) == 1.0


def test_the_default_schedule_is_linear_unless_the_plateau_halving_is_asked_for():
    assert TrainConfig().schedule == "linear"
    assert TrainConfig(reduce_lr_patience=2).schedule == "constant"
    assert TrainConfig(lr_schedule="cosine").schedule == "cosine"
    with pytest.raises(ConfigError, match="choose one"):
        TrainConfig(lr_schedule="linear", reduce_lr_patience=2)
    with pytest.raises(ConfigError, match="lr_decay_start"):
        TrainConfig(lr_decay_start=1.0)


def _fit_recording_rates(decay: DecayToEnd, epochs: int):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            sync_model_state(model)  # on JAX the variables hold no values during fit until synced
            rates.append(float(model.optimizer.learning_rate))

    x, y = np.ones((40, 3), "float32"), np.zeros((40, 1), "float32")
    model.fit(x, y, batch_size=10, epochs=epochs, callbacks=[decay, Record()], verbose=0)
    return rates


def test_a_fit_decays_over_its_steps_after_the_full_rate_share():
    rates = _fit_recording_rates(DecayToEnd(0.01, "linear", decay_start=0.5), epochs=2)  # 8 steps
    assert rates[:5] == pytest.approx([0.01] * 5)
    assert rates[5:] == pytest.approx([0.0075, 0.005, 0.0025])


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _drive(decay: DecayToEnd, clock: FakeClock, durations, steps_per_epoch=4, epochs=1000):
    """Take `decay` through steps that last `durations` seconds of `clock`; the rate before each step."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    decay.set_model(model)
    decay.set_params({"epochs": epochs, "steps": steps_per_epoch})
    decay.on_train_begin()
    rates = []
    for index, seconds in enumerate(durations):
        epoch, batch = divmod(index, steps_per_epoch)
        if batch == 0:
            decay.on_epoch_begin(epoch)
        decay.on_train_batch_begin(batch)
        rates.append(float(model.optimizer.learning_rate))
        clock.now += seconds
    return rates


def test_a_time_budget_that_ends_first_sets_the_pace():
    clock = FakeClock()
    # 1000 epochs of 4 steps would take 2000 s; the budget of 100 s ends after 200 steps.
    rates = _drive(DecayToEnd(0.01, "linear", max_seconds=100, warmup_steps=3, clock=clock), clock, [0.5] * 201)
    assert rates[:3] == pytest.approx([0.01] * 3)  # the warm-up: steps alone set the rate
    assert rates[100] == pytest.approx(0.005, abs=1e-4)  # half the budget; by steps alone it would be 0.0099
    assert rates[200] == 0.0


def test_compiling_spends_the_budget_but_the_rate_follows_the_steps_trained():
    """Compiling two shapes takes 70 s of a 100 s budget: 62 steps are trained, and the rate falls over those 62."""
    clock = FakeClock()
    durations = [50.0, 0.5, 0.5, 20.0] + [0.5] * 58  # steps 0 and 3 compile a new shape
    rates = _drive(DecayToEnd(0.01, "linear", max_seconds=100, warmup_steps=5, clock=clock), clock, durations + [0.5])
    assert rates[:5] == pytest.approx([0.01] * 5)  # by the clock alone: 0.005, then 0.0029 from the fourth
    trained = np.arange(5, len(durations) + 1)
    np.testing.assert_allclose(rates[5:], 0.01 * (1 - trained / len(durations)), atol=2e-5)
    assert rates[-1] == 0.0


def test_the_rate_is_set_only_when_it_moved_enough(monkeypatch):
    """Setting the rate makes JAX hand its training state back to the variables: not on every step of a long run."""
    clock, synced = FakeClock(), []
    monkeypatch.setattr("seq2seq.training.schedules.sync_model_state", lambda model: synced.append(model))
    decay = DecayToEnd(0.01, "linear", decay_start=0.5, clock=clock)
    rates = np.array(_drive(decay, clock, [0.1] * 8000, steps_per_epoch=8000, epochs=1))
    exact = 0.01 * np.minimum(1.0, 2 * (1 - np.arange(8000) / 8000))
    np.testing.assert_allclose(rates, exact, atol=0.01 * DecayToEnd.RATE_STEP)
    assert np.all(np.diff(rates) <= 0)
    assert 100 < len(synced) <= 2 + 1 / DecayToEnd.RATE_STEP  # once per thousandth of the base rate, not 8000 times
