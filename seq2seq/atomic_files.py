"""Files written so that nothing is lost: atomically (a crash leaves the old file or the new), destinations checked
first.

A destination is checked before any work starts: its folder is made, a file is actually
created beside it (so a read-only folder is found now, not after hours of training), it is
not one of the command's own inputs, and an existing file there is of the kind about to be
written (a model over a model, text over text) unless the user passes `--force`. Temporary
files are named `.NAME.tmp-PID.SUFFIX`; those of a process that is no longer alive (one killed
with `kill -9` mid-write) are removed by the next write to the same destination. A training
holds an advisory lock beside its output (`exclusive_use`), so two runs cannot write one file.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from seq2seq.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a second training there is not detected
    fcntl = None

FORCE_HINT = "pass --force to replace it anyway"
_TEMPORARY = re.compile(r"^\.(?P<stem>.*)\.tmp-(?P<pid>\d+)(?P<suffix>(\.[^.]*)?)$")  # `.NAME.tmp-PID.SUFFIX`
_HEAD_BYTES = 4096  # how much of an existing file is read to tell its kind
_MAGIC = {"zip": b"PK\x03\x04", "npy": b"\x93NUMPY", "png": b"\x89PNG", "pdf": b"%PDF"}
# What an existing file at a destination may be for it to be replaced without --force.
KINDS = {
    "model": ("a model file (.keras)", lambda head: head.startswith(_MAGIC["zip"])),
    "text": ("a text file", lambda head: b"\0" not in head and not any(head.startswith(m) for m in _MAGIC.values())),
    "array": ("a NumPy array (.npy)", lambda head: head.startswith(_MAGIC["npy"])),
    "image": (
        "a picture (.png, .svg, .pdf)",
        lambda head: head.startswith((_MAGIC["png"], _MAGIC["pdf"])) or head.lstrip().startswith(b"<"),
    ),
}


def temporary_name(path, pid: int | None = None) -> Path:
    """The temporary file beside `path` that process `pid` (this one by default) writes before the rename."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp-{os.getpid() if pid is None else pid}{path.suffix}")


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def remove_stale_temporaries(path) -> list[Path]:
    """Delete the temporary files of `path` left by processes that died mid-write; return them."""
    path = Path(path)
    return remove_stale_temporaries_in(path.parent, lambda stem, suffix: (stem, suffix) == (path.stem, path.suffix))


def remove_stale_temporaries_in(folder, wanted: Callable[[str, str], bool] = lambda stem, suffix: True) -> list[Path]:
    """Delete the temporary files in `folder` (of destinations `wanted(stem, suffix)`) whose writer no longer runs."""
    removed = []
    for candidate in Path(folder).glob(".*.tmp-*"):
        match = _TEMPORARY.match(candidate.name)
        if not match or not wanted(match["stem"], match["suffix"]):
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or process_alive(pid):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def write_atomically_with(path, write: Callable[[str], None], error_class=OutputError) -> None:
    """Call `write(temporary_path)` beside `path`, flush it to disk, then rename it to `path`.

    A crash leaves either the old file or the new one, never half of one; a failed write
    (a full disk, a read-only folder) raises `error_class` naming `path` and leaves no
    temporary file behind. Temporary files of dead processes for `path` are removed first.
    """
    path = Path(path)
    remove_stale_temporaries(path)
    temporary = temporary_name(path)
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


def prepare_destination(
    path, error_class=OutputError, kind: str | None = None, inputs: Iterable = (), force: bool = False
) -> None:
    """Fail at once, not after hours of work, where `path` cannot or should not be written.

    Makes its folder, refuses a folder in its place, one of `inputs` (the command's own input
    files), an existing file that is not of `kind` (see `KINDS`) unless `force`, and a place
    where a file cannot be created (tried for real, beside it). Stale temporaries are removed.
    """
    path = Path(path)
    if path.is_dir():
        raise error_class(f"{path}: is a directory; give a file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        blocking = next((folder for folder in reversed(path.parents) if folder.exists() and not folder.is_dir()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else error.strerror or error
        raise error_class(f"{path}: cannot be written ({reason}).") from None
    refuse_inputs(path, inputs, error_class)
    if kind is not None and not force:
        refuse_other_kind(path, kind, error_class)
    _try_creating_beside(path, error_class)
    remove_stale_temporaries(path)


def prepare_folder(path, what: str = "folder", error_class=OutputError) -> None:
    """Fail at once where files cannot be created in folder `path`; a folder made only to find out is removed again."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise error_class(f"{path}: cannot make the {what}: a file of that name is in the way.")
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            blocking = next(
                (folder for folder in reversed(path.parents) if folder.exists() and not folder.is_dir()), None
            )
            reason = f"{blocking} is a file, not a folder" if blocking else error.strerror or error
            raise error_class(f"{path}: cannot make the {what} ({reason}).") from None
        _try_creating_beside(path / what.replace(" ", "-"), error_class)
    finally:
        for folder in missing:  # innermost first
            with contextlib.suppress(OSError):
                folder.rmdir()


def same_file(first, second) -> bool:
    """Whether two paths name one file (the same inode, through links or `..`), or one path that does not exist yet."""
    first, second = Path(first), Path(second)
    try:
        return os.path.samefile(first, second)
    except OSError:
        return first.resolve() == second.resolve()


def refuse_inputs(path, inputs: Iterable, error_class=OutputError) -> None:
    """A command never writes over one of its own input files."""
    for given in inputs:
        if given is not None and same_file(path, given):
            raise error_class(f"{path}: is also an input of this command ({given}); write the output to another file.")


def refuse_other_kind(path, kind: str, error_class=OutputError) -> None:
    """An existing non-empty file at `path` must be of `kind`: a text file is not replaced by a model, nor a model by
    text."""
    description, accepts = KINDS[kind]
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        return
    except OSError as error:
        raise error_class(f"{path}: cannot be read to check what it holds ({error.strerror or error}).") from None
    if head and not accepts(head):
        raise error_class(
            f"{path}: exists and is not {description}, so it is not replaced; {FORCE_HINT}, or choose another name."
        )


def _try_creating_beside(path: Path, error_class) -> None:
    """Create and remove the temporary file the final write will use: a read-only folder shows now."""
    probe = temporary_name(path)
    try:
        with open(probe, "xb"):
            pass
    except FileExistsError:
        return  # this process is writing it already
    except OSError as error:
        raise error_class(f"{path}: cannot be written ({error.strerror or error}).") from None
    probe.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive_use(path, what: str = "training", error_class=OutputError) -> Iterator[None]:
    """Hold an advisory lock on `path` (`.NAME.lock` beside it) for the block; a second holder fails at once.

    The operating system releases the lock when the process ends, however it ends, so a killed
    run never blocks the next one. The refusal names the other process's id.
    """
    path = Path(path)
    if fcntl is None:
        yield
        return
    lock = path.with_name(f".{path.name}.lock")
    descriptor = _acquire(lock, path, what, error_class)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # still holding it: a process waiting on this file sees it replaced and retries
        os.close(descriptor)


def _acquire(lock: Path, path: Path, what: str, error_class) -> int:
    """Lock `lock`, retrying where the previous holder removed the file between our open and our lock."""
    while True:
        try:
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise error_class(f"{path}: cannot be locked ({error.strerror or error}).") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            os.close(descriptor)
            other = f"process {holder}" if holder.isdigit() else "another process"
            raise error_class(
                f"{path}: in use by another {what} ({other}); wait for it to end, or choose another path."
            ) from None
        try:
            if os.fstat(descriptor).st_ino == os.stat(lock).st_ino:
                os.ftruncate(descriptor, 0)
                os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)
