"""Checkpoint averaging: the mean of several checkpoints' weights often translates better than any one."""

from __future__ import annotations

import numpy as np

from seq2seq.errors import Seq2SeqError
from seq2seq.models.loading import load


def average_checkpoints(paths) -> "object":
    """A model whose every weight is the mean of that weight over the checkpoints at `paths`.

    The checkpoints must come from one run: the same architecture and vocabularies.
    """
    if not paths:
        raise Seq2SeqError("give at least one checkpoint to average.")
    models = [load(path) for path in paths]
    first = models[0]
    for path, model in zip(paths[1:], models[1:]):
        if model.get_config() | {"training_summary": None} != first.get_config() | {"training_summary": None}:
            raise Seq2SeqError(
                f"{path} is not a checkpoint of the same run as {paths[0]} (its architecture or vocabularies differ)."
            )
    weights = [model.get_weights() for model in models]
    first.set_weights([np.mean(np.stack(values), axis=0) for values in zip(*weights)])
    first.training_summary.update({"averaged_checkpoints": [str(path) for path in paths]})
    return first
