"""`checksums.sha256`: the SHA-256 of every file an export holds, written at export and checked at load.

The file has `sha256sum`'s format (`HEX  PATH`, paths relative to the export, `/`-separated),
so `sha256sum -c checksums.sha256` checks a copy by hand too. Loading refuses, in one line
naming the file: a symbolic link or anything but a regular file or folder anywhere in the
export, a listed path that is absolute or climbs out (`..`), a file missing or not listed, and
a file whose digest differs. The digests find damage (a truncated copy, an edited manifest);
they are no signature: whoever can write the folder can rewrite them, which is why the runner
also checks what the graphs contain (`saved_model_ops.py`, `onnx_ops.py`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path, PurePosixPath

from seq2seq.export.manifest import ExportedModelError

CHECKSUMS = "checksums.sha256"
MOST_CHECKSUM_BYTES = 1 << 20  # an export lists a few dozen files; a longer list is not ours
_LINE = re.compile(r"(?P<digest>[0-9a-f]{64})  (?P<path>[^\r\n]+)")
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (graphs can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def export_files(directory: Path) -> list[str]:
    """Every file under `directory` as a relative `/` path, sorted; a link or special file is refused."""
    found = []
    for folder, folders, files in os.walk(directory, followlinks=False):
        for name in sorted(folders + files):
            path = Path(folder, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise ExportedModelError(f"{path}: is a symbolic link; an export holds only regular files and folders.")
            if stat.S_ISREG(mode):
                found.append(path.relative_to(directory).as_posix())
            elif not stat.S_ISDIR(mode):
                raise ExportedModelError(
                    f"{path}: is not a regular file; an export holds only regular files and folders."
                )
    return sorted(found)


def write_checksums(directory: Path) -> None:
    """List the digest of every file in `directory` (the export being written) in its `checksums.sha256`."""
    lines = [f"{file_digest(directory / name)}  {name}\n" for name in export_files(directory) if name != CHECKSUMS]
    (directory / CHECKSUMS).write_text("".join(lines), encoding="utf-8")


def read_checksums(directory: Path) -> dict[str, str]:
    """The listed digests by relative path, each path checked to stay inside `directory`."""
    path = directory / CHECKSUMS
    if not path.is_file():
        raise ExportedModelError(
            f"{path}: missing; the export was damaged or written by an older keras-seq2seq "
            "(whose exports are not checked): export the model again."
        )
    if path.stat().st_size > MOST_CHECKSUM_BYTES:
        raise ExportedModelError(
            f"{path}: is larger than {MOST_CHECKSUM_BYTES:,} bytes; it is not an export's checksum list."
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ExportedModelError(f"{path}: is not UTF-8 text; it is not an export's checksum list.") from None
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = _LINE.fullmatch(line)
        if found is None:
            raise ExportedModelError(
                f"{path}, line {number}: expected a SHA-256 in hex, two spaces and a relative path."
            )
        name = found["path"]
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or ".." in parts or "." in name.split("/") or name in listed:
            raise ExportedModelError(
                f"{path}, line {number}: {name!r} is not a path inside the export (absolute, with .., or listed twice)."
            )
        listed[name] = found["digest"]
    return listed


def verify_checksums(directory: Path) -> None:
    """Refuse `directory` unless its files are exactly those listed, each with its listed digest."""
    listed = read_checksums(directory)
    present = [name for name in export_files(directory) if name != CHECKSUMS]
    for name in present:
        if name not in listed:
            raise ExportedModelError(
                f"{directory / name}: not written by seq2seq export (it is not in {CHECKSUMS}); "
                "remove it or export the model again."
            )
    for name, digest in listed.items():
        if name not in present:
            raise ExportedModelError(f"{directory / name}: missing (listed in {CHECKSUMS}); export the model again.")
        if file_digest(directory / name) != digest:
            raise ExportedModelError(
                f"{directory / name}: damaged or changed since the export (its SHA-256 "
                f"differs from the one in {CHECKSUMS}); export the model again."
            )
