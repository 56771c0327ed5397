"""The built-in demo reaches its accuracy bar on numbers it never saw."""

from __future__ import annotations

import pytest

from seq2seq.models.loading import load
from seq2seq.training.demo import run_demo

pytestmark = pytest.mark.slow


def test_demo_reaches_98_percent_exact_match_on_held_out_numbers_and_saves_its_model(tmp_path, capsys):
    out = tmp_path / "demo.keras"
    result = run_demo(out=str(out))
    printed = capsys.readouterr().out
    assert result["accuracy"] >= 0.98  # 99.7 % measured at seed 0; 10 epochs gave 87.8-99.5 % across seeds
    assert result["held_out"] == 1000
    assert "Held-out exact-match accuracy" in printed
    assert load(out).translate(["two hundred and six"]) == ["deux cent six"]


def test_the_reverse_task_learns_digit_sequences_with_the_space_tokenizer(tmp_path, capsys):
    out = tmp_path / "reverse.keras"
    result = run_demo(out=str(out), task="reverse")
    assert result["accuracy"] >= 0.98  # 99.9 % measured at seed 0 (8 epochs, 22 s)
    model = load(out)
    assert model.model_config.tokenizer == "space"
    assert model.translate(["1 2 3 4 5 6 7"]) == ["7 6 5 4 3 2 1"]


def test_seq2seq_demo_task_sort_runs_from_the_command_line(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "sort.keras"
    command = [sys.executable, "-m", "seq2seq.cli", "demo", "--task", "sort", "--epochs", "2", "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "digit sequences -> the same digits, sorted" in completed.stdout
    accuracy = float(completed.stdout.split("Held-out exact-match accuracy: ")[1].split("%")[0])
    assert 0.0 <= accuracy <= 100.0  # two epochs: the wiring, not the learning (the reverse test checks that)
    model = load(out)
    assert model.model_config.tokenizer == "space" and model.training_summary["epochs"] == 2
