"""No work lost: every file is written to a temporary name and renamed; failed writes leave the old file.

A training killed with SIGKILL at random moments leaves loadable checkpoints and resumes.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from seq2seq.atomic_files import write_text_atomically
from seq2seq.cli import main
from seq2seq.errors import Seq2SeqError
from seq2seq.models.loading import load
from seq2seq.training.checkpoints import CheckpointError, read_state
from tests.conftest import tiny_model

PAIRS = [(f"w{i} x{i % 3}", f"v{i} y{i % 2}") for i in range(40)]
TRAIN = [
    "--preset",
    "classic",
    "--attention",
    "luong-dot",
    "--units",
    "6",
    "--embedding-dim",
    "4",
    "--tokenizer",
    "word",
    "--batch-size",
    "8",
]


def write_corpus(directory: Path, copies: int = 1) -> Path:
    path = directory / "pairs.txt"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS * copies), encoding="utf-8")
    return path


def run(capsys, *argv) -> tuple[int, str]:
    status = main([str(arg) for arg in argv])
    return status, capsys.readouterr().err


def leftovers(directory: Path) -> list[Path]:
    return sorted(directory.rglob(".*.tmp-*"))


@pytest.mark.slow
def test_every_file_the_commands_write_is_renamed_into_place(tmp_path, monkeypatch, capsys):
    corpus = write_corpus(tmp_path)
    renamed = []
    real_replace = os.replace

    def recording_replace(source, destination):
        renamed.append((Path(source), Path(destination)))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", recording_replace)
    out, checkpoints = tmp_path / "model.keras", tmp_path / "model.keras.checkpoints"
    assert run(capsys, "train", corpus, "--out", out, "--epochs", "2", *TRAIN)[0] == 0
    assert run(capsys, "evaluate", out, corpus, "--output", tmp_path / "rows.tsv")[0] == 0
    assert (
        run(
            capsys,
            "average",
            checkpoints / "epoch-001.keras",
            checkpoints / "epoch-002.keras",
            "--out",
            tmp_path / "avg.keras",
        )[0]
        == 0
    )
    assert (
        run(capsys, "translate", out, "w1 x1", "--plot-attention", tmp_path / "attention.png", "--max-length", "3")[0]
        == 0
    )
    written = {path for path in tmp_path.rglob("*") if path.is_file()} - {corpus}
    assert {destination for _, destination in renamed} >= written
    assert {path.name for path in written} >= {
        "model.keras",
        "model.history.json",
        "model.history.png",
        "rows.tsv",
        "avg.keras",
        "attention.png",
        "state.json",
        "epoch-002.keras",
    }
    for source, destination in renamed:
        assert source.parent == destination.parent and source.name.startswith(f".{destination.stem}.tmp-")
    assert leftovers(tmp_path) == []


def fail_with(error_number: int, real=None):
    """A stand-in for `real` that raises the OSError of `error_number`, as a full or read-only disk does.

    Given `real` (a write), it first writes half of its text, as a disk that fills up half-way does.
    """

    def fail(self_or_first, *args, **kwargs):
        if real is not None:
            real(self_or_first, args[0][: len(args[0]) // 2])
        raise OSError(error_number, os.strerror(error_number))

    return fail


FAILURES = {
    "full-during-model-write": (zipfile.ZipFile, "writestr", fail_with(errno.ENOSPC)),
    "full-during-text-write": (Path, "write_text", fail_with(errno.ENOSPC, Path.write_text)),
    "io-error-on-flush": (os, "fsync", fail_with(errno.EIO)),
    "read-only-on-rename": (os, "replace", fail_with(errno.EROFS)),
}
WRITES = {
    "model": ("model.keras", lambda path: tiny_model(seed=1).save(path)),
    "state": ("state.json", lambda path: write_text_atomically(path, '{"epoch": 2}')),
}
CASES = [
    ("model", "full-during-model-write"),
    ("state", "full-during-text-write"),
    ("model", "io-error-on-flush"),
    ("state", "io-error-on-flush"),
    ("model", "read-only-on-rename"),
    ("state", "read-only-on-rename"),
]


@pytest.mark.parametrize("written, failure", CASES, ids=[f"{w}-{f}" for w, f in CASES])
def test_a_failed_write_names_the_file_keeps_the_old_one_and_leaves_no_temporary(
    tmp_path, monkeypatch, written, failure
):
    tiny_model().save(tmp_path / "model.keras")
    write_text_atomically(tmp_path / "state.json", '{"epoch": 1}')
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}
    name, write = WRITES[written]
    target, attribute, replacement = FAILURES[failure]
    monkeypatch.setattr(target, attribute, replacement)
    with pytest.raises(Seq2SeqError) as info:
        write(tmp_path / name)
    monkeypatch.undo()
    error_number = {"full": errno.ENOSPC, "io": errno.EIO, "read": errno.EROFS}[failure.split("-")[0]]
    assert str(info.value) == f"{tmp_path / name}: cannot be written ({os.strerror(error_number)})."
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before
    assert load(tmp_path / "model.keras")


@pytest.mark.slow
def test_a_full_disk_at_a_checkpoint_stops_in_one_line_and_the_run_resumes(tmp_path, monkeypatch, capsys):
    corpus, out = write_corpus(tmp_path), tmp_path / "model.keras"
    checkpoints = tmp_path / "model.keras.checkpoints"
    real_writestr = zipfile.ZipFile.writestr

    def full_at_epoch_two(archive, *args, **kwargs):
        if ".epoch-002.tmp-" in str(archive.filename):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_writestr(archive, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_at_epoch_two)
    status, err = run(capsys, "train", corpus, "--out", out, "--epochs", "2", *TRAIN)
    assert status == 2
    assert err == f"seq2seq: error: {checkpoints / 'epoch-002.keras'}: cannot be written (No space left on device).\n"
    assert read_state(checkpoints)["epoch"] == 1 and load(checkpoints / "epoch-001.keras")
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-001.keras", "state.json"] and not out.exists()
    monkeypatch.undo()
    assert run(capsys, "train", corpus, "--out", out, "--epochs", "2", "--resume", *TRAIN)[0] == 0
    assert load(out).training_summary["epochs"] == 2


def test_a_read_only_location_is_one_line_naming_the_path(tmp_path, capsys):
    """/sys refuses new files even to root, unlike a chmod-ed folder."""
    probe = Path("/sys/seq2seq-probe")
    try:
        probe.write_text("x")
    except OSError:
        pass
    else:  # pragma: no cover - depends on the machine
        probe.unlink()
        pytest.skip("/sys is writable here")
    tiny_model().save(tmp_path / "model.keras")
    status, err = run(capsys, "average", tmp_path / "model.keras", "--out", "/sys/averaged.keras")
    assert (
        status == 2
        and err.startswith("seq2seq: error: /sys/averaged.keras: cannot be written (")
        and err.count("\n") == 1
    )
    assert not list(Path("/sys").glob(".averaged.tmp-*"))


def test_a_checkpoint_folder_that_cannot_be_made_fails_before_training(tmp_path, capsys):
    corpus = write_corpus(tmp_path)
    (tmp_path / "a-file").write_text("x")
    status, err = run(
        capsys, "train", corpus, "--out", tmp_path / "m.keras", "--checkpoint-dir", tmp_path / "a-file" / "c", *TRAIN
    )
    assert status == 2 and "cannot make the checkpoint folder" in err and err.count("\n") == 1
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.parametrize("content", [b"\xff\xfe", b"[1, 2]", b"{}", b'{"epoch": 1}', b'{"epoch": 1, "checkpoint"'])
def test_a_damaged_state_file_is_one_line_on_resume(tmp_path, capsys, content):
    checkpoints = tmp_path / "m.keras.checkpoints"
    checkpoints.mkdir()
    (checkpoints / "state.json").write_bytes(content)
    with pytest.raises(CheckpointError, match="state.json is damaged"):
        read_state(checkpoints)
    status, err = run(capsys, "train", write_corpus(tmp_path), "--out", tmp_path / "m.keras", "--resume")
    assert status == 2 and "is damaged" in err and err.count("\n") == 1


def assert_checkpoints_intact(checkpoints: Path) -> int:
    """Every complete checkpoint loads, the state names one, and only temporary files may be partial."""
    state = read_state(checkpoints)
    for path in checkpoints.iterdir():
        if path.name.startswith("."):
            assert ".tmp-" in path.name
        elif path.name != "state.json":
            assert load(path).training_summary["training_pairs"] > 0, path
    assert (checkpoints / state["checkpoint"]).is_file()
    return state["epoch"]


def wait_for_epoch_beyond(state_file: Path, epoch: int, process, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(state_file.read_text())["epoch"] > epoch:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"training made no progress past epoch {epoch} (exit status {process.poll()})")


@pytest.mark.slow
def test_training_killed_at_random_moments_keeps_its_checkpoints_and_resumes(tmp_path):
    corpus, out = write_corpus(tmp_path, copies=3), tmp_path / "model.keras"
    checkpoints = tmp_path / "model.keras.checkpoints"
    command = [sys.executable, "-m", "seq2seq.cli", "train", str(corpus), "--out", str(out), *TRAIN, "--epochs", "200"]
    moments = random.Random(2026)
    epoch = 0
    for attempt in range(2):
        process = subprocess.Popen(
            command + (["--resume"] if attempt else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_epoch_beyond(checkpoints / "state.json", epoch, process)
            time.sleep(moments.uniform(0.0, 0.6))  # anywhere in an epoch, a checkpoint write or a rename
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        newest = assert_checkpoints_intact(checkpoints)
        assert newest > epoch and not out.exists()
        epoch = newest
    assert main(command[3:-1] + [str(epoch + 1), "--resume"]) == 0  # in this process: no second start-up
    assert load(out).training_summary["epochs"] == epoch + 1
    assert len(json.loads((tmp_path / "model.history.json").read_text())["loss"]) == epoch + 1
    assert (tmp_path / "model.history.png").read_bytes()[:4] == b"\x89PNG"
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_second_training_on_the_same_out_fails_at_once_while_the_first_goes_on(tmp_path, capsys):
    corpus, out = write_corpus(tmp_path, copies=3), tmp_path / "model.keras"
    command = [sys.executable, "-m", "seq2seq.cli", "train", str(corpus), "--out", str(out), *TRAIN, "--epochs", "200"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_epoch_beyond(tmp_path / "model.keras.checkpoints" / "state.json", 0, first)
        started = time.monotonic()
        status, err = run(capsys, "train", corpus, "--out", out, *TRAIN, "--epochs", "1")
        assert time.monotonic() - started < 5
        assert (
            status == 2
            and err
            == f"seq2seq: error: {out}: in use by another training (process {first.pid}); "
            "wait for it to end, or choose another path.\n"
        )
        other_out = tmp_path / "other.keras"
        status, err = run(
            capsys,
            "train",
            corpus,
            "--out",
            other_out,
            "--checkpoint-dir",
            tmp_path / "model.keras.checkpoints",
            *TRAIN,
            "--epochs",
            "1",
        )
        assert status == 2 and "model.keras.checkpoints: in use by another training" in err
        assert first.poll() is None and not out.exists()
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert (
        run(capsys, "train", corpus, "--out", out, *TRAIN, "--epochs", "2", "--resume")[0] == 0
    )  # the lock died with it
    assert leftovers(tmp_path) == []
