"""Destinations checked before work starts, stale temporaries removed, and a lock that keeps two writers apart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from seq2seq.atomic_files import (
    exclusive_use,
    prepare_destination,
    prepare_folder,
    process_alive,
    remove_stale_temporaries,
    remove_stale_temporaries_in,
    temporary_name,
    write_text_atomically,
)
from seq2seq.errors import OutputError
from tests.conftest import one_line_error

HOLD_LOCK = (
    "import sys, time; from seq2seq.atomic_files import exclusive_use\n"
    "with exclusive_use(sys.argv[1]):\n print('held', flush=True); time.sleep(60)"
)


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder where no file can be created, even by root (where /sys refuses new files)."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    if not Path("/sys").is_dir() or os.access("/sys", os.W_OK) and _can_create(Path("/sys")):
        pytest.skip("no folder here refuses new files to root")
    return Path("/sys")


def _can_create(folder: Path) -> bool:
    try:
        (folder / ".seq2seq-probe").touch()
    except OSError:
        return False
    (folder / ".seq2seq-probe").unlink()
    return True


def test_a_dead_process_temporary_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "m.keras"
    stale, live, own = temporary_name(target, dead_pid()), temporary_name(target, os.getppid()), temporary_name(target)
    other = tmp_path / f".other.tmp-{dead_pid()}.keras"
    for path in (stale, live, own, other):
        path.write_bytes(b"half a model")
    assert not process_alive(int(stale.name.split("tmp-")[1].split(".")[0]))
    assert remove_stale_temporaries(target) == [stale]
    assert not stale.exists() and live.exists() and own.exists() and other.exists()


def test_writing_a_file_removes_the_temporary_a_killed_writer_left(tmp_path):
    target = tmp_path / "rows.tsv"
    stale = temporary_name(target, dead_pid())
    stale.write_text("half")
    write_text_atomically(target, "a\tb\n")
    assert target.read_text() == "a\tb\n" and not stale.exists()


def test_an_unwritable_folder_is_found_before_any_work(tmp_path):
    folder = unwritable_folder(tmp_path)
    message = one_line_error(OutputError, prepare_destination, folder / "m.keras")
    assert message.startswith(f"{folder / 'm.keras'}: cannot be written (")
    assert "cannot make the folder (" in one_line_error(OutputError, prepare_folder, folder / "m.keras.checkpoints")
    assert "cannot be written (" in one_line_error(OutputError, prepare_folder, folder)


def test_a_folder_made_only_to_try_it_is_removed_again(tmp_path):
    prepare_folder(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []


def test_a_command_never_writes_over_its_own_input(tmp_path):
    data = tmp_path / "pairs.txt"
    data.write_text("Go.\tVa !\n")
    (tmp_path / "link.txt").symlink_to(data)
    for output in (data, tmp_path / "link.txt", tmp_path / "sub" / ".." / "pairs.txt"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        message = one_line_error(OutputError, prepare_destination, output, kind="text", inputs=[data], force=True)
        assert "is also an input of this command" in message
    assert data.read_text() == "Go.\tVa !\n"


def test_a_file_of_another_kind_is_replaced_only_with_force(tmp_path):
    notes, model, empty = tmp_path / "notes.keras", tmp_path / "model.tsv", tmp_path / "empty.keras"
    notes.write_text("my notes\n")
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{}")
    empty.touch()
    assert "exists and is not a model file (.keras)" in one_line_error(
        OutputError, prepare_destination, notes, kind="model"
    )
    assert "exists and is not a text file" in one_line_error(OutputError, prepare_destination, model, kind="text")
    assert "--force" in one_line_error(OutputError, prepare_destination, notes, kind="model")
    prepare_destination(notes, kind="model", force=True)
    prepare_destination(model, kind="model")
    prepare_destination(empty, kind="model")
    assert notes.read_text() == "my notes\n"


def test_a_second_holder_of_a_lock_fails_at_once_naming_the_first(tmp_path):
    out = tmp_path / "m.keras"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        message = one_line_error(OutputError, exclusive_use(out).__enter__)
        assert time.monotonic() - started < 1
        assert (
            message
            == f"{out}: in use by another training (process {holder.pid}); wait for it to end, or choose another path."
        )
    finally:
        holder.kill()
        holder.wait()
    with exclusive_use(out):  # the system released the killed holder's lock
        assert (tmp_path / ".m.keras.lock").read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / ".m.keras.lock").exists()


def test_stale_temporaries_in_a_folder_are_removed_whatever_their_destination(tmp_path):
    stale = [tmp_path / f".epoch-004.tmp-{dead_pid()}.keras", tmp_path / f".state.tmp-{dead_pid()}.json"]
    kept = [temporary_name(tmp_path / "epoch-005.keras"), tmp_path / ".notes.tmp-x.txt", tmp_path / "epoch-003.keras"]
    for path in stale + kept:
        path.write_text("x")
    assert sorted(remove_stale_temporaries_in(tmp_path)) == sorted(stale)
    assert all(path.exists() for path in kept)
