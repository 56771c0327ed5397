"""The built-in demo reaches its accuracy bar on numbers it never saw."""

from __future__ import annotations

import pytest

from seq2seq.demo import run_demo
from seq2seq.saving import load

pytestmark = pytest.mark.slow


def test_demo_reaches_98_percent_exact_match_on_held_out_numbers_and_saves_its_model(tmp_path, capsys):
    out = tmp_path / "demo.keras"
    result = run_demo(out=str(out))
    printed = capsys.readouterr().out
    assert result["accuracy"] >= 0.98  # 99.7 % measured at seed 0; 10 epochs gave 87.8-99.5 % across seeds
    assert result["held_out"] == 1000
    assert "Held-out exact-match accuracy" in printed
    assert load(out).translate(["two hundred and six"]) == ["deux cent six"]
