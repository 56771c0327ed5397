"""Learning-rate schedules that end with the training: full rate, then linear or cosine decay to zero.

The training ends at its last step or when its time budget is spent, whichever comes
first; `DecayToEnd` knows both and decays towards the nearer one. The rate stays at its
base for the first `decay_start` share of the training, where a large rate learns fastest,
then decays to zero, so the last steps take small, averaging moves instead of jumping about
the minimum (budget-aware decay: Li, Yumer & Ramanan 2020, "Budgeted Training").
"""

from __future__ import annotations

import math
import time

import keras

from seq2seq.config import LR_SCHEDULES as SCHEDULES


def decay_factor(kind: str, progress: float, decay_start: float = 0.0) -> float:
    """The share of the base rate at `progress` (0 at the start, 1 at the end) of the training."""
    progress = min(max((progress - decay_start) / (1.0 - decay_start), 0.0), 1.0)
    if kind == "linear":
        return 1.0 - progress
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def sync_model_state(model) -> None:
    """Write the state that JAX's `fit` holds between steps back into the variables, so a callback may read or set them."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


class DecayToEnd(keras.callbacks.Callback):
    """Set the optimizer's rate before every step to `base_rate * decay_factor(kind, progress, decay_start)`.

    `progress` is the larger of the share of steps done (over `epochs` epochs of
    `params["steps"]` steps, counting resumed epochs as done) and the share of `max_seconds`
    spent since the training began.
    """

    def __init__(self, base_rate: float, kind: str, max_seconds: float | None = None, decay_start: float = 0.0):
        super().__init__()
        if kind not in SCHEDULES:
            raise ValueError(f"Received an invalid value for argument `kind`, expected one of {SCHEDULES}, got {kind!r}.")
        self.base_rate = float(base_rate)
        self.kind = kind
        self.max_seconds = max_seconds
        self.decay_start = decay_start
        self._started = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self._started = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def progress(self, batch: int) -> float:
        """How far the training is, from 0 to 1, before step `batch` of the current epoch."""
        shares = []
        steps, epochs = (self.params or {}).get("steps"), (self.params or {}).get("epochs")
        if steps and epochs:
            shares.append((self._epoch * steps + batch) / (epochs * steps))
        if self.max_seconds:
            shares.append((time.monotonic() - self._started) / self.max_seconds)
        return max(shares, default=0.0)

    def on_train_batch_begin(self, batch, logs=None):
        if self.kind != "constant":
            sync_model_state(self.model)
            self.model.optimizer.learning_rate.assign(self.base_rate * decay_factor(self.kind, self.progress(batch), self.decay_start))
