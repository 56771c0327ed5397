"""Loading a model file in Keras safe mode, after checking that it names no code to run; several as an ensemble."""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import keras

from seq2seq.errors import ModelFileError
from seq2seq.models.format import MODEL_CLASS
from seq2seq.models.precision import check_precision
from seq2seq.models.seq2seq import Seq2Seq
from seq2seq.models.weight_names import current_weight_names
from seq2seq.translation.ensemble import Ensemble

_TRUSTED_PACKAGES = ("keras", "seq2seq")
# config.json holds the model's settings and both vocabularies with their subword models: a few
# MB for the largest vocabularies in use (two 100,000-token lists and SentencePiece models come
# to about 10 MB). Anything larger is not a keras-seq2seq model file and is refused before it is
# read, so a small archive cannot make loading allocate gigabytes.
MOST_CONFIG_BYTES = 64 << 20
# Keras stores members uncompressed (about 1:1); a member far larger than it is stored is a
# decompression bomb. Keras refuses those only above 4 GiB; here, above MOST_CONFIG_BYTES.
MOST_EXPANSION = 100


def load(path, precision: str | None = None):
    """Load a model saved with `Seq2Seq.save`, in Keras safe mode (no code runs from the file).

    `precision` (`float32`, the default, or `bfloat16`) sets what the model computes in; a file
    stores no precision.

    Before Keras reads the file, its config.json is checked: the model must be a keras-seq2seq
    model, and no object in it may be a Python lambda or come from a module outside Keras and
    keras-seq2seq (unless registered with Keras in this process). That holds whatever Keras
    version is installed.
    """
    if precision is not None:
        check_precision(precision)
    path = check_model_file(path)
    check_config_is_safe(path, read_config(path))
    model = load_checked(path, "a keras-seq2seq model", compile=True)
    if not isinstance(model, Seq2Seq):
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq model.")
    if precision is not None:
        model.set_precision(precision)
    return model


def load_ensemble(paths, precision: str | None = None) -> Ensemble:
    """An `Ensemble` of the model files at `paths` (each computing in `precision`, if given), named by their paths."""
    paths = [str(path) for path in paths]
    return Ensemble([load(path, precision) for path in paths], names=paths)


def read_config(path) -> dict:
    """The parsed config.json of a .keras archive, or ModelFileError if it is missing, damaged or too large.

    Sizes are checked from the archive's directory before anything is decompressed, and the
    member is read through a bounded reader, so a header that lies about its size cannot make
    this read more than `MOST_CONFIG_BYTES`.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            check_member_sizes(path, archive)
            with archive.open("config.json") as member:
                config = json.loads(read_bounded(path, member))
    except KeyError:
        raise ModelFileError(f"{path} is not a keras-seq2seq model file (its archive holds no config.json).") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError, ValueError) as error:
        raise ModelFileError(f"{path} is truncated or damaged and cannot be loaded ({error}).") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{path} is damaged: its config.json is not a mapping.")
    return config


def read_bounded(path, member) -> bytes:
    """A member's bytes, read in small pieces (each inflated alone) and refused past `MOST_CONFIG_BYTES`."""
    pieces, size = [], 0
    while piece := member.read(1 << 16):
        size += len(piece)
        if size > MOST_CONFIG_BYTES:
            raise ModelFileError(
                f"{path}: its config.json is larger than {MOST_CONFIG_BYTES:,} bytes; "
                "it is not a keras-seq2seq model file."
            )
        pieces.append(piece)
    return b"".join(pieces)


def check_member_sizes(path, archive: zipfile.ZipFile) -> None:
    """Refuse a config.json over `MOST_CONFIG_BYTES`, and any large member that expands over `MOST_EXPANSION` times."""
    config = archive.getinfo("config.json")
    if config.file_size > MOST_CONFIG_BYTES:
        raise ModelFileError(
            f"{path}: its config.json declares {config.file_size:,} bytes, more than the "
            f"{MOST_CONFIG_BYTES:,} a model's settings and vocabularies need; it is refused unread."
        )
    for member in archive.infolist():
        if member.file_size > MOST_CONFIG_BYTES and member.file_size > MOST_EXPANSION * member.compress_size:
            raise ModelFileError(
                f"{path}: its member {member.filename} declares {member.file_size:,} bytes stored in "
                f"{member.compress_size:,}, a decompression bomb; it is refused unread."
            )


def check_model_file(path) -> Path:
    """`path` as a `Path`, once it names an existing `.keras` archive."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file." if not path.exists() else f"{path}: is not a file.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a keras-seq2seq model file (it is not a .keras archive).")
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file name must end with .keras; rename it.")
    return path


def load_checked(path: Path, what: str, compile: bool):
    """Keras' safe-mode load of a file whose config passed `check_config_is_safe`; its failures as one line."""
    try:
        with current_weight_names(path) as readable:  # a file written before a layer attribute was renamed
            return keras.saving.load_model(readable, safe_mode=True, compile=compile)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, KeyError, OSError) as error:
        raise ModelFileError(f"{path} is truncated or damaged and cannot be loaded ({error}).") from error
    except Exception as error:  # Keras reports unknown classes and unsafe content as several types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path} cannot be loaded as {what}: {first_line}") from error


def check_config_is_safe(path, config: dict, model_class: str = MODEL_CLASS) -> None:
    """Refuse a config that is not of a `model_class` model or that names code to run."""
    if config.get("registered_name") != model_class:
        raise ModelFileError(f"{path} is a Keras model but not a keras-seq2seq model.")
    registered = None
    for node in _objects(config):
        if node.get("class_name") == "__lambda__":
            raise ModelFileError(
                f"{path} holds a Python lambda function; it is refused because loading would run its code."
            )
        module = node.get("module")
        if isinstance(module, str) and module.split(".")[0] not in _TRUSTED_PACKAGES:
            if registered is None:
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
