"""`seq2seq translate` shows a progress bar on a terminal, and nothing extra when its output is piped."""

from __future__ import annotations

import io
import sys

from seq2seq.cli import main
from tests.conftest import tiny_model

TEXTS = ["Go.", "Hi.", "Run!", "Who are you?", "Go!", "Hi!", "Run."]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_long_translation_shows_sentences_done_and_speed_on_a_terminal_only(capsys, tmp_path, monkeypatch):
    model = tiny_model(seed=9)
    path = tmp_path / "model.keras"
    model.save(path)
    expected = model.translate(TEXTS)

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["translate", str(path), *TEXTS, "--batch-size", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == expected  # the translations alone on standard output
    shown = terminal.getvalue()
    assert "translating" in shown and f"{len(TEXTS)}/{len(TEXTS)}" in shown and "sentences/s" in shown

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    assert main(["translate", str(path), *TEXTS, "--batch-size", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == expected
    assert piped.getvalue() == ""

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["translate", str(path), *TEXTS[:2], "--batch-size", "2"]) == 0  # one batch: no bar
    assert terminal.getvalue() == ""
