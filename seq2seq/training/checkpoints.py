"""Checkpoints after every epoch, so an interrupted training resumes where it stopped.

A checkpoint directory holds `epoch-NNN.keras` files (the whole model: weights, optimizer
state, vocabularies) and `state.json`, which names the newest checkpoint, the training
settings, the best epoch so far and the history. Each file is written to a temporary name
and renamed, and `state.json` is written last: a crash, even `kill -9`, leaves the previous
state pointing at a complete checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import keras

from seq2seq.atomic_files import remove_stale_temporaries_in, write_text_atomically
from seq2seq.errors import Seq2SeqError

STATE_FILE = "state.json"
BEST_BETWEEN_EPOCHS = "best.keras"  # the best weights when they came between two epoch ends
_STATE_KEYS = {"epoch", "checkpoint", "best_epoch", "best_value", "train_config", "history"}


class CheckpointError(Seq2SeqError):
    """A checkpoint directory cannot be resumed from."""


class EpochCheckpoint(keras.callbacks.Callback):
    """Save the model and the training state at the end of every epoch; keep the last few and the best."""

    def __init__(self, directory, train_config, keep_best, history: dict | None = None, keep_last: int = 5):
        super().__init__()
        self.directory = Path(directory)
        self.train_config = train_config
        self.keep_best = keep_best
        self.history = {key: list(values) for key, values in (history or {}).items()}
        self.keep_last = keep_last
        self._best_written = None

    def on_train_begin(self, logs=None):
        try:  # before the first epoch, so a folder that cannot be made costs no training time
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CheckpointError(
                f"{self.directory}: cannot make the checkpoint folder ({error.strerror or error})."
            ) from None
        remove_stale_temporaries_in(self.directory)  # of a run killed mid-write

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        path = self.directory / f"epoch-{epoch + 1:03d}.keras"
        self.model.save(path)
        self._save_best_between_epochs()
        state = {
            "epoch": epoch + 1,
            "checkpoint": path.name,
            "best_epoch": self.keep_best.best_epoch,
            "best_value": None if self.keep_best.best_epoch is None else self.keep_best.best_value,
            "best_step": self.keep_best.best_step,
            "train_config": dataclasses.asdict(self.train_config),
            "history": self.history,
        }
        write_text_atomically(self.directory / STATE_FILE, json.dumps(state, indent=1))
        self._prune(epoch + 1)

    def _save_best_between_epochs(self) -> None:
        """Write `best.keras` when the best weights came between epoch ends (no epoch file holds them)."""
        best = (self.keep_best.best_epoch, self.keep_best.best_step)
        if self.keep_best.best_step is None or best == self._best_written or self.keep_best.best_weights is None:
            return
        current = self.model.get_weights()
        self.model.set_weights(self.keep_best.best_weights)
        try:
            self.model.save(self.directory / BEST_BETWEEN_EPOCHS)
        finally:
            self.model.set_weights(current)
        self._best_written = best

    def _prune(self, newest: int) -> None:
        keep = {f"epoch-{n:03d}.keras" for n in range(newest - self.keep_last + 1, newest + 1)}
        if self.keep_best.best_epoch is not None:
            keep.add(f"epoch-{self.keep_best.best_epoch:03d}.keras")
        for path in self.directory.glob("epoch-*.keras"):
            if path.name not in keep:
                path.unlink(missing_ok=True)


def read_state(directory) -> dict:
    """The state of the newest complete checkpoint in `directory`."""
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{directory} holds no checkpoint to resume from (no {STATE_FILE}); train without --resume."
        )
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # not JSON, or not UTF-8
        reason = getattr(error, "msg", None) or getattr(error, "reason", None) or error
        raise CheckpointError(f"{path} is damaged ({reason}); remove the directory to start again.") from error
    if not (isinstance(state, dict) and _STATE_KEYS <= set(state) and isinstance(state["checkpoint"], str)):
        raise CheckpointError(f"{path} is damaged (not a training state); remove the directory to start again.")
    if not (Path(directory) / state["checkpoint"]).is_file():
        raise CheckpointError(f"{directory}: {state['checkpoint']} named by {STATE_FILE} is missing.")
    return state


def remove_leftovers(directory) -> None:
    """Delete temporary files that a killed process left half-written."""
    for path in Path(directory).glob(".*.tmp-*"):
        path.unlink(missing_ok=True)


def best_checkpoint(directory, state: dict) -> Path | None:
    """The checkpoint file of the best epoch so far, if there was one."""
    if state.get("best_epoch") is None:
        return None
    if state.get("best_step") is not None and (Path(directory) / BEST_BETWEEN_EPOCHS).is_file():
        return Path(directory) / BEST_BETWEEN_EPOCHS
    path = Path(directory) / f"epoch-{state['best_epoch']:03d}.keras"
    return path if path.is_file() else None
