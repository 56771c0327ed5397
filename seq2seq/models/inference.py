"""The classic inference models, with inputs checked before Keras sees them.

Keras answers a wrong input list with errors such as "expects 3 input(s), but it received 1
input tensors"; these models say instead which inputs they take, by name and shape, in order,
and what they were given.
"""

from __future__ import annotations

import keras
import numpy as np

from seq2seq.errors import Seq2SeqError


class InferenceInputError(Seq2SeqError, ValueError):
    """An inference model was called with inputs of the wrong number, order or shape."""


class InferenceModel(keras.Model):
    """A functional `keras.Model` whose `predict`, `predict_on_batch` and calls check their inputs."""

    def expected_inputs(self) -> str:
        return ", ".join(f"{t.name} {_shape_text(t.shape)} {t.dtype}" for t in self.inputs)

    def check_inputs(self, inputs) -> None:
        given = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        problem = None
        if len(given) != len(self.inputs):
            problem = f"received {len(given)}"
        else:
            for position, (value, expected) in enumerate(zip(given, self.inputs), start=1):
                shape = tuple(np.shape(value))
                if len(shape) != len(expected.shape) or any(
                    want is not None and have != want for have, want in zip(shape[1:], expected.shape[1:])
                ):
                    expected_shape = _shape_text(expected.shape)
                    problem = f"input {position} should be {expected.name} {expected_shape}, but its shape is {shape}"
                    break
        if problem:
            shapes = ", ".join(str(tuple(np.shape(value))) for value in given)
            raise InferenceInputError(
                f"{self.name} expects {len(self.inputs)} inputs in this order: {self.expected_inputs()}; "
                f"{problem} (shapes given: {shapes})."
            )

    def predict(self, x, *args, **kwargs):
        self.check_inputs(x)
        return super().predict(x, *args, **kwargs)

    def predict_on_batch(self, x):
        self.check_inputs(x)
        return super().predict_on_batch(x)

    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, keras.KerasTensor) and not (
            isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], keras.KerasTensor)
        ):
            self.check_inputs(inputs)
        return super().__call__(inputs, *args, **kwargs)


def _shape_text(shape) -> str:
    return "(" + ", ".join("batch" if i == 0 else ("time" if d is None else str(d)) for i, d in enumerate(shape)) + ")"
