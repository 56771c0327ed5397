"""Files written so that nothing is lost: atomically (a crash leaves the old file or the new one), destinations checked first."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from seq2seq.errors import Seq2SeqError


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
