"""Ending a training early without losing it: a time budget, and Ctrl-C or SIGTERM.

`StopTraining` ends `fit` after the current step once the budget is spent or a stop was
asked for. Keras then validates the partial epoch, so the best model so far is what the
training returns. `stop_on_signals` turns the first SIGINT or SIGTERM into such a request;
a second one aborts at once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time

import keras


class StopTraining(keras.callbacks.Callback):
    """Stop `fit` after the current step when `max_seconds` have passed or `request()` was called."""

    def __init__(self, max_seconds: float | None = None):
        super().__init__()
        self.max_seconds = max_seconds
        self.reason: str | None = None
        self._started = None

    def request(self, reason: str) -> None:
        """Ask for a stop after the current step (safe to call from a signal handler)."""
        self.reason = self.reason or reason

    def on_train_begin(self, logs=None):
        self._started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if (
            self.reason is None
            and self.max_seconds is not None
            and time.monotonic() - self._started >= self.max_seconds
        ):
            self.reason = f"the time budget of {format_seconds(self.max_seconds)} was spent"
        if self.reason is not None:
            self.model.stop_training = True


def format_seconds(seconds: float) -> str:
    """`1200` as `20m`, `90` as `90s`, `5400` as `1.5h`: the largest unit that shows it exactly."""
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


@contextlib.contextmanager
def stop_on_signals(stopper: StopTraining, stream=None):
    """Within this block the first SIGINT/SIGTERM asks `stopper` to stop; a second raises KeyboardInterrupt."""
    names = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}
    previous = {number: signal.getsignal(number) for number in names}
    received = []

    def handle(number, frame):
        if received:  # the second signal, whatever ended the training first
            for each, handler in previous.items():
                signal.signal(each, handler)
            raise KeyboardInterrupt
        received.append(number)
        stopper.request(f"stopped by {names[number]}")
        print(
            f"\n{names[number]}: stopping after this step and writing the best model so far "
            "(send it again to abort without saving).",
            file=stream or sys.stderr,
            flush=True,
        )

    for number in names:
        signal.signal(number, handle)
    try:
        yield stopper
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
