"""Outputs and sizes checked before work starts: no overwritten input, no second training on one --out, no lost
model."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from seq2seq.atomic_files import temporary_name
from seq2seq.cli import main
from tests.test_atomic_files import HOLD_LOCK, dead_pid, unwritable_folder

PAIRS = "".join(f"w{i} x{i % 3}\tv{i} y{i % 2}\n" for i in range(24))
TINY = [
    "--preset",
    "classic",
    "--units",
    "4",
    "--embedding-dim",
    "3",
    "--tokenizer",
    "word",
    "--epochs",
    "2",
    "--batch-size",
    "8",
]


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def corpus(tmp_path, text: str = PAIRS):
    path = tmp_path / "pairs.txt"
    path.write_text(text, encoding="utf-8")
    return path


def assert_refused(status: int, out: str, err: str, *expected: str) -> None:
    """Exit 2 with one error line, before any pair was read."""
    assert status == 2 and err.startswith("seq2seq: error: ") and err.count("\n") == 1, err
    assert "Read" not in out
    for text in expected:
        assert text in err, err


def test_split_refuses_to_write_over_its_input(tmp_path, capsys):
    data = corpus(tmp_path)
    status, out, err = run(
        capsys, "split", data, "--test-sources", "3", "--train-out", data, "--test-out", tmp_path / "test.txt"
    )
    assert_refused(status, out, err, f"{data}: is also an input of this command")
    assert data.read_text(encoding="utf-8") == PAIRS and not (tmp_path / "test.txt").exists()


def test_split_writes_nothing_when_one_output_cannot_be_written(tmp_path, capsys):
    data, train = corpus(tmp_path), tmp_path / "train.txt"
    test = unwritable_folder(tmp_path) / "test.txt"
    status, out, err = run(capsys, "split", data, "--test-sources", "3", "--train-out", train, "--test-out", test)
    assert_refused(status, out, err, f"{test}: cannot be written")
    assert not train.exists()


def test_train_refuses_to_replace_a_file_that_is_not_a_model(tmp_path, capsys):
    notes = tmp_path / "notes.keras"
    notes.write_text("three weeks of notes\n")
    status, out, err = run(capsys, "train", corpus(tmp_path), "--out", notes, *TINY)
    assert_refused(status, out, err, f"{notes}: exists and is not a model file (.keras)", "--force")
    assert notes.read_text() == "three weeks of notes\n"


def test_evaluate_and_encode_refuse_to_replace_a_file_of_another_kind(tmp_path, capsys):
    model = tmp_path / "model.tsv"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{}")
    status, out, err = run(capsys, "evaluate", tmp_path / "m.keras", corpus(tmp_path), "--output", model)
    assert_refused(status, out, err, f"{model}: exists and is not a text file")
    vectors = tmp_path / "vectors.npy"
    vectors.write_text("not an array\n")
    status, out, err = run(capsys, "encode", tmp_path / "m.keras", "Go.", "--out", vectors)
    assert_refused(status, out, err, f"{vectors}: exists and is not a NumPy array (.npy)")


def test_an_unwritable_out_is_found_before_the_corpus_is_read(tmp_path, capsys):
    out = unwritable_folder(tmp_path) / "m.keras"
    status, stdout, err = run(capsys, "train", corpus(tmp_path), "--out", out, *TINY)
    assert_refused(status, stdout, err, f"{out}: cannot be written")


def test_a_second_training_on_one_out_fails_at_once_naming_the_first(tmp_path, capsys):
    out = tmp_path / "m.keras"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        status, stdout, err = run(capsys, "train", corpus(tmp_path), "--out", out, *TINY)
    finally:
        holder.kill()
        holder.wait()
    assert_refused(status, stdout, err, f"{out}: in use by another training (process {holder.pid})")
    assert not out.exists() and not (tmp_path / "m.keras.checkpoints").exists()


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--units", "100000"], "parameters"),
        (["--embedding-dim", "100000000"], "parameters"),
        (["--layers", "100000"], "layers must be at most 32"),
        (["--vocab-size", "1000000000000"], "vocab_size must be at most 1,000,000"),
    ],
)
def test_a_model_too_big_to_train_is_refused_before_it_is_built(tmp_path, capsys, monkeypatch, flags, expected):
    monkeypatch.setenv("SEQ2SEQ_MEMORY_LIMIT", "8G")
    status, _, err = run(capsys, "train", corpus(tmp_path), "--out", tmp_path / "m.keras", *TINY, *flags)
    assert status == 2 and err.count("\n") == 1 and expected in err, err
    if expected == "parameters":
        assert "but the limit is 8 GB (SEQ2SEQ_MEMORY_LIMIT=8G)" in err


def test_a_failed_final_save_names_the_checkpoint_that_keeps_the_training(tmp_path, capsys, monkeypatch):
    from seq2seq.errors import ModelFileError
    from seq2seq.models.seq2seq import Seq2Seq

    out = tmp_path / "m.keras"
    real_save = Seq2Seq.save

    def full_disk_for_the_model(self, filepath, *args, **kwargs):
        if str(filepath) == str(out):
            raise ModelFileError(f"{out}: cannot be written (No space left on device).")
        real_save(self, filepath, *args, **kwargs)

    monkeypatch.setattr(Seq2Seq, "save", full_disk_for_the_model)
    data = corpus(tmp_path, PAIRS + "w1 " + "long " * 300 + "\tv1\n")
    status, stdout, err = run(capsys, "train", data, "--out", out, *TINY)
    assert status == 2 and err.count("\n") == 1
    assert "Read 24 pairs" in stdout and "1 pair over 1,000 source or 1,000 target characters skipped" in stdout
    best = tmp_path / "m.keras.checkpoints" / "epoch-00"
    assert f"No space left on device); the training is not lost: its best checkpoint is {best}" in err


def test_training_without_validation_says_its_figure_is_the_training_loss(tmp_path, capsys):
    out = tmp_path / "m.keras"
    stale = temporary_name(out, dead_pid())
    stale.write_bytes(b"half a model from a killed save")
    status, stdout, err = run(
        capsys, "train", corpus(tmp_path), "--out", out, *TINY, "--validation-split", "0", "--min-frequency", "100000"
    )
    assert status == 0, err
    assert "training loss" in stdout and "nothing was held out for validation: --validation-split 0" in stdout
    assert "validation loss" not in stdout
    assert "seq2seq: warning: min_frequency 100,000 keeps none of the" in err
    assert not stale.exists()
