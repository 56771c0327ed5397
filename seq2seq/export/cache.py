"""A cached ONNX export beside a model file, so `seq2seq translate MODEL.keras` starts without Keras.

`seq2seq translate fra.keras` looks for `.fra.keras.export/` beside the model: an ordinary ONNX
export (`exporter.py`, checked by `translator.py` as any export is) whose manifest records which
model file it was made from (`source_model`: size, modification time in nanoseconds, SHA-256).
It is used when the size and time match, or else when the SHA-256 does (a copy or a touch);
otherwise the model is loaded with Keras, exported there (written into a temporary sibling and
renamed into place, `staging.py`) and the export translates.

Why beside the model rather than in a per-user cache keyed by the SHA-256: the cache lives and
dies with the model (removing or replacing the folder takes it along, nothing grows without
bound elsewhere), finding it needs no hash of the model on every run (a `.keras` file is tens of
megabytes), and whoever may write the model may write its cache, while a model in a folder the
user cannot write is translated by Keras as before, with one warning line.

Nothing here may fail a translation: a cache that cannot be written or read is reported in one
warning line, and the caller translates with Keras. `SEQ2SEQ_EXPORT_CACHE=off` turns the cache off
for a whole environment (the test suite does, except where it tests the cache).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from seq2seq.errors import Seq2SeqError
from seq2seq.export.checksums import file_digest
from seq2seq.export.manifest import MANIFEST, MOST_MANIFEST_BYTES

CACHE_VARIABLE = "SEQ2SEQ_EXPORT_CACHE"  # "off": translate with Keras, as --no-cache does (the test suite's default)


def cache_enabled() -> bool:
    """Whether the environment allows the cached export (`SEQ2SEQ_EXPORT_CACHE=off` turns it off)."""
    return os.environ.get(CACHE_VARIABLE, "").strip().lower() not in ("off", "0", "no", "false")


class CacheWarning(UserWarning):
    """A cached export could not be used or written; the model is translated with Keras."""


def cache_directory(model_path) -> Path:
    """Where the export of `model_path` is cached: `.NAME.export` beside it."""
    model_path = Path(model_path)
    return model_path.with_name(f".{model_path.name}.export")


def model_stamp(model_path: Path, digest: bool = True) -> dict:
    """What identifies the model file's content: size, modification time and (where asked) SHA-256."""
    status = model_path.stat()
    stamp = {"size": status.st_size, "mtime_ns": status.st_mtime_ns}
    return {**stamp, "sha256": file_digest(model_path)} if digest else stamp


def cached_source(directory: Path) -> dict | None:
    """The `source_model` stamp recorded in the cached export's manifest, or None."""
    path = directory / MANIFEST
    try:
        if not path.is_file() or path.stat().st_size > MOST_MANIFEST_BYTES:
            return None
        source = json.loads(path.read_bytes()).get("source_model")
    except (OSError, ValueError, AttributeError):
        return None
    return source if isinstance(source, dict) else None


def is_current(model_path: Path, directory: Path) -> bool:
    """Whether the cache at `directory` was made from the model file as it is now."""
    source = cached_source(directory)
    if source is None:
        return False
    now = model_stamp(model_path, digest=False)
    if all(source.get(key) == value for key, value in now.items()):
        return True
    return source.get("size") == now["size"] and source.get("sha256") == file_digest(model_path)


def open_cached(model_path):
    """The `ExportedTranslator` of the cached export of `model_path` if it is current, else None."""
    from seq2seq.export.translator import ExportedTranslator

    model_path, directory = Path(model_path), cache_directory(model_path)
    if not model_path.is_file():
        return None  # loading the model says what is wrong with its path
    try:
        if is_current(model_path, directory):
            return ExportedTranslator(directory)
    except (Seq2SeqError, OSError) as error:
        warnings.warn(
            f"the cached export {directory} cannot be used ({error}); it will be made again.",
            CacheWarning,
            stacklevel=2,
        )
    return None


def can_write(model_path) -> bool:
    """Whether the cache of `model_path` can be written (its folder is writable); else one warning line."""
    folder = Path(model_path).parent
    if os.access(folder, os.W_OK | os.X_OK):
        return True
    warnings.warn(
        f"{folder} is not writable, so no export of {Path(model_path).name} is cached for a fast start; "
        "translating with Keras.",
        CacheWarning,
        stacklevel=2,
    )
    return False


def write_cache(model, model_path, stamp: dict):
    """Export `model`, loaded from `model_path` when it had `stamp`, to its cache and open it.

    None, with one warning line, where that fails for any reason: a cache is never worth a
    failed translation.
    """
    from seq2seq.export.exporter import export_model
    from seq2seq.export.translator import ExportedTranslator

    directory = cache_directory(model_path)
    try:
        export_model(model, directory, "onnx", overwrite=True, source=stamp)
        return ExportedTranslator(directory)
    except Exception as error:  # noqa: BLE001 - the converter and runtimes fail in many types; Keras still translates
        text = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        warnings.warn(
            f"no export of {Path(model_path).name} could be cached ({text}); translating with Keras.",
            CacheWarning,
            stacklevel=2,
        )
        return None
