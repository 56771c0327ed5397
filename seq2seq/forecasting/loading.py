"""Loading a forecasting model file in Keras safe mode, after the same checks a translation model's file gets."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

from seq2seq.errors import ModelFileError
from seq2seq.forecasting.forecaster import FORECASTER_CLASS, Forecaster
from seq2seq.models.format import MODEL_CLASS
from seq2seq.models.loading import check_config_is_safe, read_config


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
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file." if not path.exists() else f"{path}: is not a file.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a keras-seq2seq model file (it is not a .keras archive).")
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file name must end with .keras; rename it.")
    config = read_config(path)
    if config.get("registered_name") == MODEL_CLASS:
        raise ModelFileError(f"{path} is a translation model, not a forecasting one; use seq2seq translate with it.")
    if config.get("registered_name") != FORECASTER_CLASS:
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq forecasting model.")
    # The safety walk names the model class it expects; the rest of it holds for any model.
    check_config_is_safe(path, {**config, "registered_name": MODEL_CLASS})
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=compile)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, KeyError, OSError) as error:
        raise ModelFileError(f"{path} is truncated or damaged and cannot be loaded ({error}).") from error
    except Exception as error:  # Keras reports unknown classes and unsafe content as several types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path} cannot be loaded as a forecasting model: {first_line}") from error
    if not isinstance(model, Forecaster):
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq forecasting model.")
    return model
