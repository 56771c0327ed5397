"""Error sentences: paths cut to file names, one line per error, FastAPI's answers in our shape."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from seq2seq.errors import TextError  # noqa: E402
from seq2seq.serving.limits import RequestError  # noqa: E402
from seq2seq.serving.refusals import LONGEST_MESSAGE, failure, one_line, without_paths  # noqa: E402


@pytest.mark.parametrize(
    "text, expected",
    [
        ("data: /home/someone/fra-eng.txt: 72 pairs", "data: fra-eng.txt: 72 pairs"),
        ("C:\\Users\\me\\model.keras and ~/runs/best.keras", "model.keras and best.keras"),
        ("(../secret/notes.txt)", "(notes.txt)"),
        ("/tmp/checkpoints/", "checkpoints"),
        ("Content-Type: application/json", "Content-Type: application/json"),
        ("see http://127.0.0.1:8000/docs", "see http://127.0.0.1:8000/docs"),
        ("luong-general, 3/4 done", "luong-general, 3/4 done"),
    ],
)
def test_paths_are_cut_to_their_file_names_and_nothing_else_changes(text, expected):
    assert without_paths(text) == expected


def test_paths_are_cut_inside_lists_and_dicts():
    assert without_paths({"a": ["/x/y.txt", 3], "b": {"c": "/q/r"}}) == {"a": ["y.txt", 3], "b": {"c": "r"}}


def test_an_error_message_becomes_its_first_line_without_paths_and_bounded():
    assert one_line(RuntimeError("failed at /src/x.cc\nline two")) == "failed at x.cc"
    assert one_line(RuntimeError("")) == "RuntimeError"
    assert len(one_line(ValueError("v" * 1000))) == LONGEST_MESSAGE


def test_a_failure_is_a_4xx_when_the_input_is_at_fault_and_a_500_otherwise():
    assert failure(TextError("texts[0]: not UTF-8 text"), "translating").status == 422
    assert failure(RuntimeError("boom\nmore"), "translating").status == 500
    message = str(failure(RuntimeError("boom\nmore"), "translating"))
    assert message == "translating failed on the server (RuntimeError: boom)."
    refused = RequestError("too many texts", 413)
    assert failure(refused, "translating") is refused
