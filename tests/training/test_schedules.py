"""The learning-rate decay to the end of the training: by steps, by the time budget, whichever ends first."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from seq2seq.config import TrainConfig
from seq2seq.errors import ConfigError
from seq2seq.training.schedules import DecayToEnd, decay_factor


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


def _fit_recording_rates(decay: DecayToEnd, epochs: int, pause: float = 0.0):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    rates = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rates.append(float(model.optimizer.learning_rate))
            time.sleep(pause)

    x, y = np.ones((40, 3), "float32"), np.zeros((40, 1), "float32")
    model.fit(x, y, batch_size=10, epochs=epochs, callbacks=[decay, Record()], verbose=0)
    return rates


def test_a_fit_decays_over_its_steps_after_the_full_rate_share():
    rates = _fit_recording_rates(DecayToEnd(0.01, "linear", decay_start=0.5), epochs=2)  # 8 steps
    assert rates[:5] == pytest.approx([0.01] * 5)
    assert rates[5:] == pytest.approx([0.0075, 0.005, 0.0025])


def test_a_time_budget_that_ends_first_sets_the_pace():
    # 20 epochs are 80 steps, but the 0.4 s budget is spent after ~20 steps of at least 0.02 s.
    rates = _fit_recording_rates(DecayToEnd(0.01, "linear", max_seconds=0.4), epochs=20, pause=0.02)
    assert rates[0] == pytest.approx(0.01, rel=0.1)
    assert rates[10] <= 0.005  # half the time spent; by steps alone it would be 0.00875
    assert rates[25:] == [0.0] * (len(rates) - 25)
