"""An export appears whole or not at all: a failed or killed export never blocks the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from seq2seq.cli import main
from seq2seq.export import exporter
from seq2seq.export.exporter import MANIFEST, ExportError, export_model
from seq2seq.export.staging import process_is_alive, remove_stale_folders, staged_directory
from seq2seq.export.translator import ExportedTranslator
from tests.conftest import tiny_model

pytestmark = pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(process.stdout)
    assert not process_is_alive(pid)
    return pid


def test_a_failed_export_leaves_neither_the_directory_nor_its_temporary_folder(tmp_path, monkeypatch):
    def fail_halfway(model, out, format):
        (out / "encoder").mkdir()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exporter, "write_graphs", fail_halfway)
    with pytest.raises(OSError):
        export_model(tiny_model(seed=2), tmp_path / "out")
    assert os.listdir(tmp_path) == []


def test_stale_folders_of_ended_processes_are_removed_and_live_ones_kept(tmp_path):
    pid = dead_pid()
    stale = [tmp_path / f".out.tmp-{pid}", tmp_path / f".out.old-{pid}"]
    kept = [tmp_path / f".out.tmp-{os.getppid()}", tmp_path / f".other.tmp-{pid}", tmp_path / "out"]
    for folder in stale + kept:
        (folder / "encoder").mkdir(parents=True)
    remove_stale_folders(tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == sorted(folder.name for folder in kept)


def test_an_existing_export_is_replaced_only_with_overwrite_and_only_if_it_is_one(tmp_path):
    out = tmp_path / "out"
    (out / "nested").mkdir(parents=True)
    (out / MANIFEST).write_text("{}", encoding="utf-8")
    with pytest.raises(ExportError, match="already exists and is not an empty directory; .*pass --force"):
        with staged_directory(out, MANIFEST, error_class=ExportError):
            pass
    with staged_directory(out, MANIFEST, overwrite=True) as staging:
        (staging / "new").write_text("new", encoding="utf-8")
    assert os.listdir(out) == ["new"] and sorted(os.listdir(tmp_path)) == ["out"]

    mine = tmp_path / "mine"
    (mine / "thesis.tex").parent.mkdir()
    (mine / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(ExportError, match="not a directory written by seq2seq export .*--force replaces only"):
        with staged_directory(mine, MANIFEST, overwrite=True, error_class=ExportError):
            pass
    assert (mine / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_export_force_replaces_an_earlier_export_and_refuses_without_it(tmp_path, capsys):
    path = tmp_path / "model.keras"
    tiny_model(seed=4).save(path)
    first = tiny_model(seed=9)
    export_model(first, tmp_path / "out")
    assert main(["export", str(path), str(tmp_path / "out")]) == 2
    assert "pass --force to replace an export" in capsys.readouterr().err
    assert main(["export", str(path), str(tmp_path / "out"), "--force"]) == 0
    assert ExportedTranslator(tmp_path / "out").translate(["Go."]) == tiny_model(seed=4).translate(["Go."])
    assert sorted(os.listdir(tmp_path)) == ["model.keras", "out"]


EXPORT_FOREVER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from tests.conftest import tiny_model
from seq2seq.export import exporter

real = exporter.write_graphs
def slow(model, out, format):
    real(model, out, format)
    print("written", flush=True)
    time.sleep(600)  # killed here: graphs written, the directory not yet in place
exporter.write_graphs = slow
exporter.export_model(tiny_model(seed=1), sys.argv[1])
"""


@pytest.mark.slow
def test_an_export_killed_halfway_leaves_nothing_in_the_way_of_the_next(tmp_path):
    out = tmp_path / "out"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = subprocess.Popen(
        [sys.executable, "-c", EXPORT_FOREVER, str(out), root],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        assert process.stdout.readline().strip() == "written"
        assert os.listdir(tmp_path) == [f".out.tmp-{process.pid}"]
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert not out.exists()
    time.sleep(0.1)
    export_model(tiny_model(seed=1), out)
    assert os.listdir(tmp_path) == ["out"]
    assert ExportedTranslator(out).translate(["Go."]) == tiny_model(seed=1).translate(["Go."])
