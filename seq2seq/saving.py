"""One `.keras` file per model: written atomically, loaded in Keras safe mode, checked."""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Callable

from seq2seq.errors import ModelFileError, Seq2SeqError

FORMAT_VERSION = 1  # raised when the layout of the model's config changes
MODEL_CLASS = "seq2seq>Seq2Seq"  # the registered name of the saved model class
_TRUSTED_PACKAGES = ("keras", "seq2seq")


def write_atomically_with(path, write: Callable[[str], None], error_class=Seq2SeqError) -> None:
    """Call `write(temporary_path)` beside `path`, flush it to disk, then rename it to `path`.

    A crash leaves either the old file or the new one, never half of one; a failed write
    (a full disk, a read-only folder) raises `error_class` naming `path` and leaves no
    temporary file behind.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(str(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _sync_directory(path.parent)
    except OSError as error:
        raise error_class(f"{path}: cannot be written ({error.strerror or error}).") from error
    finally:
        temporary.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    """Flush a rename to disk where the system allows it (not on Windows, nor on every file system)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself is done
    finally:
        os.close(descriptor)


def write_atomically(path, write: Callable[[str], None], overwrite: bool = True) -> None:
    """Write a model file atomically (see `write_atomically_with`); its name must end with .keras."""
    path = Path(path)
    check_model_file_name(path)
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path} already exists; pass overwrite=True to replace it.")
    write_atomically_with(path, write, ModelFileError)


def write_text_atomically(path, text: str) -> None:
    """Write `text` (UTF-8) atomically."""
    write_atomically_with(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def prepare_destination(path, error_class=Seq2SeqError) -> None:
    """Fail at once, not after hours of work, where `path` cannot be written: create its folder."""
    path = Path(path)
    if path.is_dir():
        raise error_class(f"{path}: is a directory; give a file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        blocking = next((folder for folder in reversed(path.parents) if folder.exists() and not folder.is_dir()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else error.strerror or error
        raise error_class(f"{path}: cannot be written ({reason}).") from None


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


def load(path):
    """Load a model saved with `Seq2Seq.save`, in Keras safe mode (no code runs from the file).

    Before Keras reads the file, its config.json is checked: the model must be a keras-seq2seq
    model, and no object in it may be a Python lambda or come from a module outside Keras and
    keras-seq2seq (unless registered with Keras in this process). That holds whatever Keras
    version is installed.
    """
    import keras

    from seq2seq.models.seq2seq import Seq2Seq

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file." if not path.exists() else f"{path}: is not a file.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a keras-seq2seq model file (it is not a .keras archive).")
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file name must end with .keras; rename it.")
    check_config_is_safe(path, read_config(path))
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


def read_config(path) -> dict:
    """The parsed config.json of a .keras archive, or ModelFileError if it is missing or damaged."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except KeyError:
        raise ModelFileError(f"{path} is not a keras-seq2seq model file (its archive holds no config.json).") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError, ValueError) as error:
        raise ModelFileError(f"{path} is truncated or damaged and cannot be loaded ({error}).") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{path} is damaged: its config.json is not a mapping.")
    return config


def check_config_is_safe(path, config: dict) -> None:
    """Refuse a config that is not a keras-seq2seq model's or that names code to run."""
    if config.get("registered_name") != MODEL_CLASS:
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq model.")
    registered = None
    for node in _objects(config):
        if node.get("class_name") == "__lambda__":
            raise ModelFileError(f"{path} holds a Python lambda function; it is refused because loading would run its code.")
        module = node.get("module")
        if isinstance(module, str) and module.split(".")[0] not in _TRUSTED_PACKAGES:
            if registered is None:
                import keras

                registered = set(keras.saving.get_custom_objects())
            if node.get("registered_name") not in registered:
                raise ModelFileError(
                    f"{path} names the Python module {module!r}, which is neither Keras nor keras-seq2seq; "
                    "it is refused because loading could run its code."
                )


def _objects(value):
    """Every mapping with a "class_name" in a parsed config, depth first."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "class_name" in value:
                yield value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
