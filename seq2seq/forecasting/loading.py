"""Loading a forecasting model file in Keras safe mode, after the same checks a translation model's file gets."""

from __future__ import annotations

import zipfile

from seq2seq.errors import ModelFileError
from seq2seq.forecasting.forecaster import FORECASTER_CLASS, Forecaster
from seq2seq.models.format import MODEL_CLASS
from seq2seq.models.loading import check_config_is_safe, check_model_file, load_checked, read_config


def is_forecaster_file(path) -> bool:
    """Whether `path` is a `.keras` archive whose model is a `Forecaster` (damaged or other files: False)."""
    try:
        return zipfile.is_zipfile(path) and read_config(path).get("registered_name") == FORECASTER_CLASS
    except (ModelFileError, OSError):
        return False


def load_forecaster(path, compile: bool = False) -> Forecaster:
    """Load a model saved with `Forecaster.save`; no code runs from the file.

    Its config.json is checked first (size, no lambda, no class from outside Keras and
    keras-seq2seq), then Keras loads it in safe mode. `compile` restores the optimizer's state
    too (for resuming a training).
    """
    path = check_model_file(path)
    config = read_config(path)
    if config.get("registered_name") == MODEL_CLASS:
        raise ModelFileError(f"{path} is a translation model, not a forecasting one; use seq2seq translate with it.")
    if config.get("registered_name") != FORECASTER_CLASS:
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq forecasting model.")
    check_config_is_safe(path, config, FORECASTER_CLASS)
    model = load_checked(path, "a forecasting model", compile=compile)
    if not isinstance(model, Forecaster):
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq forecasting model.")
    return model
