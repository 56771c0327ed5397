"""The command line: one-line errors with exit status 2, and the commands on tiny models."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seq2seq.cli import main
from tests.conftest import tiny_model


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], "choose a command"),
        (["train", "--out", "m.keras"], "give a corpus file"),
        (["train", "data.txt"], "required: --out"),
        (["train", "absent.txt", "--out", "m.keras"], "absent.txt: no such file"),
        (["train", "x.txt", "--out", "m.keras", "--epochs", "0"], "expected a positive integer, got '0'"),
        (["train", "x.txt", "--out", "m.keras", "--cell", "rnn"], "invalid choice: 'rnn'"),
        (["translate", "absent.keras", "Go."], "absent.keras: no such model file"),
        (["info", "absent.keras"], "no such model file"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_user_errors_print_one_line_and_exit_with_status_2(capsys, tmp_path, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("seq2seq: error: ")
    assert expected in err
    assert "Traceback" not in err


def test_a_malformed_corpus_line_is_named_by_file_and_line(capsys, tmp_path):
    corpus = tmp_path / "pairs.txt"
    corpus.write_text("Go.\tVa !\nno tab here\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "train", str(corpus), "--out", str(tmp_path / "m.keras"))
    assert status == 2
    assert f"{corpus}, line 2" in err and "--skip-bad-lines" in err


def test_an_invalid_model_setting_is_one_line(capsys, tmp_path):
    corpus = tmp_path / "pairs.txt"
    corpus.write_text("Go.\tVa !\nHi.\tSalut !\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "train", str(corpus), "--out", str(tmp_path / "m.keras"), "--dropout", "1.5")
    assert status == 2 and "dropout must be a number in [0, 1), got 1.5" in err


def test_debug_shows_the_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "seq2seq.cli", "--debug", "translate", str(tmp_path / "absent.keras"), "Go."],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ModelFileError" in result.stderr


def test_translate_and_info_work_on_a_saved_model(capsys, tmp_path, monkeypatch):
    model = tiny_model(seed=7, embedding_dim=3)
    path = tmp_path / "model.keras"
    model.save(path)
    status, out, _ = run_cli(capsys, "translate", str(path), "Go.", "Hi.")
    assert status == 0
    assert out.splitlines() == model.translate(["Go.", "Hi."])

    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("Run!\nGo.\n"))
    status, out, _ = run_cli(capsys, "translate", str(path))
    assert status == 0 and out.splitlines() == model.translate(["Run!", "Go."])

    status, out, _ = run_cli(capsys, "translate", str(path), "Go.", "Hi.", "--precision", "bfloat16")
    model.set_precision("bfloat16")
    assert status == 0 and out.splitlines() == model.translate(["Go.", "Hi."])

    status, out, _ = run_cli(capsys, "info", str(path))
    assert status == 0
    assert (
        "preset classic" in out and "encoder: 1 x LSTM 7" in out and f"target {len(model.target_vocab)} tokens" in out
    )


def test_interactive_mode_translates_each_typed_line_until_an_empty_one(capsys, tmp_path, monkeypatch):
    model = tiny_model(seed=8)
    path = tmp_path / "model.keras"
    model.save(path)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("Go.\nHi.\n\nRun!\n"))
    status, out, _ = run_cli(capsys, "translate", str(path), "--interactive")
    assert status == 0
    printed = [line.removeprefix("> ").removeprefix("> ") for line in out.splitlines()]
    assert printed[:2] == model.translate(["Go.", "Hi."])
    assert model.translate(["Run!"])[0] not in printed[2:] or len(printed) == 2


def test_every_setting_is_documented_in_the_example_config():
    import yaml

    from seq2seq.config import read_settings_file, settings_keys

    example = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "train.yaml"
    assert sorted(yaml.safe_load(example.read_text())) == settings_keys()
    assert read_settings_file(example)["preset"] == "attention"


def test_a_settings_file_with_an_unknown_key_fails_and_lists_the_valid_keys(capsys, tmp_path):
    settings = tmp_path / "train.yaml"
    settings.write_text("units: 8\nhidden_size: 8\n")
    status, _, err = run_cli(capsys, "train", "--config", str(settings))
    assert status == 2
    assert "unknown setting(s) hidden_size" in err and "embedding_dim" in err and "vocab_size" in err


def test_flags_override_the_settings_file(capsys, tmp_path):
    corpus = tmp_path / "pairs.txt"
    corpus.write_text("".join(f"w{i} x{i % 3}\tv{i} y\n" for i in range(24)), encoding="utf-8")
    settings = tmp_path / "train.yaml"
    settings.write_text(f"data: {corpus}\nout: {tmp_path / 'from-file.keras'}\nunits: 5\nepochs: 1\ncell: gru\n")
    status, out, err = run_cli(
        capsys, "train", "--config", str(settings), "--units", "6", "--out", str(tmp_path / "flag.keras")
    )
    assert status == 0, err
    assert (tmp_path / "flag.keras").is_file() and not (tmp_path / "from-file.keras").exists()
    from seq2seq.models.loading import load

    config = load(tmp_path / "flag.keras").model_config
    assert (config.units, config.cell) == (6, "gru")
