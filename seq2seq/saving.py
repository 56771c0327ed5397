"""One `.keras` file per model: written atomically, loaded in Keras safe mode, checked."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Callable

from seq2seq.errors import ModelFileError, Seq2SeqError

FORMAT_VERSION = 1  # raised when the layout of the model's config changes


def write_atomically_with(path, write: Callable[[str], None], error_class=Seq2SeqError) -> None:
    """Call `write(temporary_path)` beside `path`, flush it to disk, then rename it to `path`.

    A crash leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(str(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise error_class(f"{path}: cannot be written ({error.strerror or error}).") from error
    finally:
        if temporary.exists():
            temporary.unlink()


def write_atomically(path, write: Callable[[str], None], overwrite: bool = True) -> None:
    """Write a model file atomically (see `write_atomically_with`); its name must end with .keras."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file name must end with .keras.")
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path} already exists; pass overwrite=True to replace it.")
    write_atomically_with(path, write, ModelFileError)


def write_text_atomically(path, text: str) -> None:
    """Write `text` (UTF-8) atomically."""
    write_atomically_with(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def check_format_version(version) -> None:
    """Refuse a model written by a newer release of this package."""
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"this model file has format version {version}, newer than the {FORMAT_VERSION} "
            "this keras-seq2seq reads; upgrade keras-seq2seq to load it."
        )


def load(path):
    """Load a model saved with `Seq2Seq.save`, in Keras safe mode (no code runs from the file)."""
    import keras

    from seq2seq.models.seq2seq import Seq2Seq

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file." if not path.exists() else f"{path}: is not a file.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a keras-seq2seq model file (it is not a .keras archive).")
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file name must end with .keras; rename it.")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=True)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, KeyError, OSError) as error:
        raise ModelFileError(f"{path} is truncated or damaged and cannot be loaded ({error}).") from error
    except Exception as error:  # Keras reports unknown classes and unsafe content as several types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path} cannot be loaded as a keras-seq2seq model: {first_line}") from error
    if not isinstance(model, Seq2Seq):
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq model.")
    return model
