"""Which weights a training keeps: the best by validation loss, or by greedy BLEU or chrF.

The validation runs at the end of every epoch and, with `validate_every`, every N steps as
well, so a long epoch does not hide its best moment. `average_last` then tries the mean of
the last epochs' weights and keeps it if it validates better than the best single point.
"""

from __future__ import annotations

from collections import deque

import keras
import numpy as np

from seq2seq.evaluation.scores import group_references, score_translations
from seq2seq.models.loading import load
from seq2seq.training.schedules import sync_model_state

MONITORS = {"loss": "val_loss", "bleu": "val_bleu", "chrf": "val_chrf"}


class Validator:
    """Measures a model on the validation pairs: the teacher-forced loss and greedy BLEU/chrF."""

    def __init__(self, batches, pairs):
        self.batches = batches
        self.sources, self.references = group_references(pairs)

    def loss(self, model) -> float:
        """The compiled loss over the validation batches, weighted by batch size as `fit` reports it."""
        batches = self.batches.as_numpy_iterator() if hasattr(self.batches, "as_numpy_iterator") else self.batches
        total, count = 0.0, 0
        for inputs, targets in batches:
            size = int(np.shape(targets)[0])
            total += float(model.loss(targets, model(inputs, training=False))) * size
            count += size
        return total / max(count, 1)

    def scores(self, model) -> dict:
        """Greedy BLEU and chrF of the validation sources against all their references."""
        scores = score_translations(model.translate(self.sources), self.references)
        return {"val_bleu": scores["bleu"], "val_chrf": scores["chrf"]}

    def measure(self, model, select_by: str) -> float:
        """The figure that `select_by` ("loss", "bleu" or "chrf") ranks weights by."""
        return self.loss(model) if select_by == "loss" else self.scores(model)[MONITORS[select_by]]


class KeepBestWeights(keras.callbacks.Callback):
    """Remember the weights with the best `monitor` value; restore them at the end.

    `mode` "min" keeps the lowest value (losses), "max" the highest (BLEU, chrF). Epoch ends
    are considered here; `consider` takes the points in between. A resumed training starts
    from the best value so far; `best_file` then holds its weights until a better point comes.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        best_value=None,
        best_epoch=None,
        best_file=None,
        mode: str = "min",
        best_step=None,
    ):
        super().__init__()
        self.monitor = monitor
        self.mode = mode
        self.best_value = (float("inf") if mode == "min" else float("-inf")) if best_value is None else best_value
        self.best_epoch = best_epoch
        self.best_step = best_step  # the step within `best_epoch`, where the best came between epoch ends
        self.best_weights = None
        self.best_file = best_file

    def improves(self, value) -> bool:
        return value < self.best_value if self.mode == "min" else value > self.best_value

    def consider(self, value, epoch: int, step: int | None = None) -> bool:
        """Keep the current weights if `value` beats the best; `epoch` counts from 1."""
        if value is None or not self.improves(value):
            return False
        self.best_value, self.best_epoch, self.best_step = float(value), epoch, step
        self.best_weights = self.model.get_weights()
        return True

    def on_epoch_end(self, epoch, logs=None):
        self.consider((logs or {}).get(self.monitor), epoch + 1)

    def on_train_end(self, logs=None):
        if self.best_weights is None and self.best_file is not None:
            self.best_weights = load(self.best_file).get_weights()
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ValidationScores(keras.callbacks.Callback):
    """Add greedy `val_bleu` and `val_chrf` to every epoch's logs (before the best is chosen)."""

    def __init__(self, validator: Validator):
        super().__init__()
        self.validator = validator

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self.validator.scores(self.model))


class StepValidation(keras.callbacks.Callback):
    """Validate every `every` steps between epoch ends and offer the result to `keep_best`."""

    def __init__(self, every: int, validator: Validator, keep_best: KeepBestWeights, select_by: str, verbose=True):
        super().__init__()
        self.every = every
        self.validator = validator
        self.keep_best = keep_best
        self.select_by = select_by
        self.verbose = verbose
        self._epoch = 0
        self.measured: list[tuple[int, int, float]] = []  # (epoch, step, value) of every validation here

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        step, steps = batch + 1, (self.params or {}).get("steps")
        if step % self.every or step == steps or self.model.stop_training:
            return  # the epoch's own validation comes next
        sync_model_state(self.model)
        value = self.validator.measure(self.model, self.select_by)
        self.measured.append((self._epoch + 1, step, value))
        best = self.keep_best.consider(value, self._epoch + 1, step)
        if self.verbose:
            print(
                f" epoch {self._epoch + 1}, step {step}: validation {self.select_by} "
                f"{value:.4f}{' (best)' if best else ''}",
                flush=True,
            )


class RememberLast(keras.callbacks.Callback):
    """Hold the weights of the last `count` epochs, for `average_into_best`."""

    def __init__(self, count: int):
        super().__init__()
        self.snapshots: deque = deque(maxlen=count)
        self.epochs: deque = deque(maxlen=count)

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots.append(self.model.get_weights())
        self.epochs.append(epoch + 1)


def average_into_best(
    model, remembered: RememberLast, validator: Validator, keep_best: KeepBestWeights, select_by: str
):
    """Try the mean of the remembered weights; keep it on `model` if it validates better than the best.

    Returns the averaged epochs when the average was kept, else None (the model keeps its weights).
    """
    if len(remembered.snapshots) < 2:
        return None
    kept = model.get_weights()
    model.set_weights([np.mean(np.stack(values), axis=0) for values in zip(*remembered.snapshots)])
    value = validator.measure(model, select_by)
    if keep_best.improves(value):
        keep_best.best_value = float(value)
        return list(remembered.epochs)
    model.set_weights(kept)
    return None


def describe_best(summary: dict) -> str:
    """`best epoch 7, validation loss 1.3782`, or the step, the average or the score that won."""
    if summary.get("averaged_epochs"):
        epochs = summary["averaged_epochs"]
        where = f"average of epochs {epochs[0]}-{epochs[-1]}"
    else:
        step = f" step {summary['best_step']}" if summary.get("best_step") else ""
        where = f"best epoch {summary.get('best_epoch')}{step}"
    selected = summary.get("selected_by") or "loss"
    value = summary.get("best_validation_loss") if selected == "loss" else summary.get("best_validation_score")
    name = "loss" if selected == "loss" else selected.replace("bleu", "BLEU").replace("chrf", "chrF")
    return f"{where}, validation {name} {value}"
