"""The model file's format: its name, its version, and how it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from seq2seq.atomic_files import prepare_destination, write_atomically_with
from seq2seq.errors import ModelFileError

FORMAT_VERSION = 2  # raised when the layout of the model file changes (2: the decoder's `attention_layer` weights)
MODEL_CLASS = "seq2seq>Seq2Seq"  # the registered name of the saved model class


def write_atomically(path, write: Callable[[str], None], overwrite: bool = True) -> None:
    """Write a model file atomically (see `write_atomically_with`); its name must end with .keras."""
    path = Path(path)
    check_model_file_name(path)
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path} already exists; pass overwrite=True to replace it.")
    write_atomically_with(path, write, ModelFileError)


def check_model_file_name(path) -> None:
    """A model file name must end with .keras, the archive format Keras loads safely."""
    if Path(path).suffix != ".keras":
        raise ModelFileError(f"{path}: a model file name must end with .keras.")


def prepare_model_destination(path) -> None:
    """`prepare_destination` for a model file."""
    check_model_file_name(path)
    prepare_destination(path, ModelFileError)


def check_format_version(version) -> None:
    """Refuse a model written by a newer release of this package."""
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"this model file has format version {version}, newer than the {FORMAT_VERSION} "
            "this keras-seq2seq reads; upgrade keras-seq2seq to load it."
        )
