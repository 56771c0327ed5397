"""Writing an export directory all at once: into a temporary sibling, renamed into place at the end.

A killed `seq2seq export` therefore never leaves half a directory where the export goes; it
leaves `.NAME.tmp-PID` beside it, which the next export to NAME removes once process PID has
ended. An existing export is replaced only when the caller allows it, and only if it is an
export (or empty): `--force` never deletes a folder this package did not write.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seq2seq.errors import Seq2SeqError

_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)")


def process_is_alive(pid: int) -> bool:
    """Whether process `pid` still runs (one of another user counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists but is not ours, or cannot be asked: leave its folder alone
    return True


def remove_stale_folders(out: Path) -> None:
    """Remove `.OUT.tmp-PID` and `.OUT.old-PID` folders beside `out` whose process has ended."""
    if not out.parent.is_dir():
        return
    for entry in out.parent.iterdir():
        found = _LEFTOVER.fullmatch(entry.name)
        if found and found["name"] == out.name and entry.is_dir() and not entry.is_symlink():
            if not process_is_alive(int(found["pid"])):
                shutil.rmtree(entry, ignore_errors=True)


def check_destination(out: Path, marker: str, overwrite: bool, error_class=Seq2SeqError) -> None:
    """Refuse `out` unless it is absent, an empty directory, or (with `overwrite`) an export holding `marker`."""
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise error_class(f"{out} already exists and is not a directory; remove it or choose another.")
    if not any(out.iterdir()):
        return
    if not overwrite:
        raise error_class(
            f"{out} already exists and is not an empty directory; remove it, choose another, "
            "or pass --force to replace an export."
        )
    if not (out / marker).is_file():
        raise error_class(
            f"{out} is not a directory written by seq2seq export (it has no {marker}); "
            "--force replaces only an export: remove it yourself or choose another."
        )


@contextmanager
def staged_directory(out, marker: str, overwrite: bool = False, error_class=Seq2SeqError) -> Iterator[Path]:
    """A fresh temporary folder beside `out` to write into; on success it becomes `out`.

    On any error the temporary folder is removed and `out` is as it was. `out` is checked before
    the work (so a refusal costs nothing) and again at the end.
    """
    out = Path(out)
    check_destination(out, marker, overwrite, error_class)
    remove_stale_folders(out)
    staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    except OSError as error:
        raise error_class(f"{out}: cannot be written ({error.strerror or error}).") from None
    try:
        yield staging
        check_destination(out, marker, overwrite, error_class)
        _replace(staging, out, error_class)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace(staging: Path, out: Path, error_class) -> None:
    """Rename `staging` to `out`; an existing `out` is first renamed aside, and put back if the rename fails."""
    aside = out.with_name(f".{out.name}.old-{os.getpid()}")
    moved = False
    try:
        if out.exists():
            if any(out.iterdir()):
                os.replace(out, aside)
                moved = True
            else:
                out.rmdir()
        os.replace(staging, out)
    except OSError as error:
        if moved:
            os.replace(aside, out)
        raise error_class(f"{out}: cannot be written ({error.strerror or error}).") from None
    if moved:
        shutil.rmtree(aside, ignore_errors=True)
