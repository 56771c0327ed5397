"""Learning-rate schedules that end with the training: full rate, then linear or cosine decay to zero.

The training ends at its last step or when its time budget is spent, whichever comes
first; `DecayToEnd` knows both and decays towards the nearer one, counting the steps trained
(compiling spends the budget but is no training). The rate stays at its
base for the first `decay_start` share of the training, where a large rate learns fastest,
then decays to zero, so the last steps take small, averaging moves instead of jumping about
the minimum (budget-aware decay: Li, Yumer & Ramanan 2020, "Budgeted Training").
"""

from __future__ import annotations

import math
import time
from collections import deque

import keras
import numpy as np

from seq2seq.config import LR_SCHEDULES as SCHEDULES
from seq2seq.data.pipeline import MAX_BUCKETS


def decay_factor(kind: str, progress: float, decay_start: float = 0.0) -> float:
    """The share of the base rate at `progress` (0 at the start, 1 at the end) of the training."""
    progress = min(max((progress - decay_start) / (1.0 - decay_start), 0.0), 1.0)
    if kind == "linear":
        return 1.0 - progress
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def sync_model_state(model) -> None:
    """Write the state that JAX's `fit` holds between steps back into the variables, so a callback may read or set
    them."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


class DecayToEnd(keras.callbacks.Callback):
    """Set the optimizer's rate before every step to `base_rate * decay_factor(kind, progress, decay_start)`.

    `progress` is the larger of the share of steps done (over `epochs` epochs of
    `params["steps"]` steps, counting resumed epochs as done) and, with a time budget of
    `max_seconds`, the share of the steps it allows that are done:
    `trained / (trained + seconds left / seconds per step)`. The seconds per step are the median
    of the last `WINDOW` steps' durations, counted once `warmup_steps` steps have run. Compiling
    a step for a new batch shape takes seconds where a step takes milliseconds: it spends the
    budget, so fewer steps are left, but it is not taken for the pace of training, so the rate
    follows the steps actually trained and reaches zero as the budget runs out. Among the first
    steps, those of a new shape could be the most, so the budget drives the rate only after
    `warmup_steps`: with B batch shapes, `2 * B + 1` steps hold more other steps than compiling
    ones, and the median is an ordinary step's. Progress never goes back, so the rate only falls.

    The rate is set only when it moved by at least `RATE_STEP` of the base rate: setting it
    makes JAX hand the training state back to the variables, a cost on every step otherwise.
    """

    WINDOW = 255  # the recent step durations whose median is the pace
    WARMUP_STEPS = 2 * MAX_BUCKETS + 1  # enough for every batch shape of an epoch (one per bucket)
    RATE_STEP = 1e-3  # the smallest change of the rate worth setting, as a share of the base rate

    def __init__(
        self,
        base_rate: float,
        kind: str,
        max_seconds: float | None = None,
        decay_start: float = 0.0,
        warmup_steps: int = WARMUP_STEPS,
        clock=time.monotonic,
    ):
        super().__init__()
        if kind not in SCHEDULES:
            raise ValueError(
                f"Received an invalid value for argument `kind`, expected one of {SCHEDULES}, got {kind!r}."
            )
        self.base_rate = float(base_rate)
        self.kind = kind
        self.max_seconds = max_seconds
        self.decay_start = decay_start
        self.warmup_steps = warmup_steps
        self.clock = clock
        self._started = None
        self._epoch = 0
        self._trained = 0  # steps begun in this run
        self._last_begin = None  # when the previous step of this epoch began
        self._durations: deque = deque(maxlen=self.WINDOW)
        self._rate = None  # the rate last set
        self._progress = 0.0

    def on_train_begin(self, logs=None):
        self._started = self.clock()
        self._trained, self._rate, self._progress = 0, None, 0.0
        self._durations.clear()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._last_begin = None  # the pause between epochs (validation) is no step

    def seconds_per_step(self) -> float | None:
        """The pace of training: the median recent step duration, or None during the warm-up."""
        if self._trained < self.warmup_steps or not self._durations:
            return None
        return float(np.median(self._durations))

    def progress(self, batch: int) -> float:
        """How far the training is, from 0 to 1, before step `batch` of the current epoch."""
        shares = [0.0]
        steps, epochs = (self.params or {}).get("steps"), (self.params or {}).get("epochs")
        if steps and epochs:
            shares.append((self._epoch * steps + batch) / (epochs * steps))
        pace = self.seconds_per_step() if self.max_seconds else None
        if pace:
            left = max(self.max_seconds - (self.clock() - self._started), 0.0)
            shares.append(self._trained / (self._trained + left / pace))
        self._progress = max(self._progress, *shares)
        return self._progress

    def on_train_batch_begin(self, batch, logs=None):
        now = self.clock()
        if self._last_begin is not None:
            self._durations.append(now - self._last_begin)
        self._last_begin = now
        if self.kind != "constant":
            rate = self.base_rate * decay_factor(self.kind, self.progress(batch), self.decay_start)
            if (
                self._rate is None
                or abs(rate - self._rate) >= self.RATE_STEP * self.base_rate
                or (rate == 0 and self._rate)
            ):
                sync_model_state(self.model)
                self.model.optimizer.learning_rate.assign(rate)
                self._rate = rate
        self._trained += 1
