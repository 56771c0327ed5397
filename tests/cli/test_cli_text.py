"""Text at the command line's edges: arguments, standard input and typed lines are decoded once, under one policy.

The model tokenizes with SentencePiece, which raised a 40-line pybind11 traceback for the
surrogates that Python makes of bytes that are not UTF-8; now such text is one line and exit 2.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2seq.cli import main
from seq2seq.config import ModelConfig
from seq2seq.data.tokenizers import SubwordTokenizer
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.models.seq2seq import Seq2Seq

SOURCES = ["Go.", "Hi.", "Run!", "Who are you?", "I am cold."]
TARGETS = ["Va !", "Salut !", "Cours !", "Qui êtes-vous ?", "J'ai froid."]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A tiny subword model, saved once for the module."""
    keras.utils.set_random_seed(3)
    vocabularies = [
        Vocabulary.build(texts, SubwordTokenizer.train(texts * 3, vocab_size=40)) for texts in (SOURCES, TARGETS)
    ]
    model = Seq2Seq(ModelConfig(units=5, embedding_dim=3, tokenizer="subword", vocab_size=40), *vocabularies)
    path = tmp_path_factory.mktemp("text") / "model.keras"
    model.save(path)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def standard_input(monkeypatch, data: bytes, errors: str = "surrogateescape") -> None:
    """Standard input holding `data`, decoded as Python decodes it under a POSIX locale (surrogateescape)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors))


def assert_one_error_line(status: int, err: str, *expected: str) -> None:
    assert status == 2, err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(min_size=1, max_size=24))
def test_any_bytes_as_a_text_argument_translate_or_give_one_line(model_path, capsys, raw):
    argument = os.fsdecode(raw.replace(b"\0", b"")) or "x"  # how Python hands bad argument bytes to a program
    status, out, err = run(capsys, "translate", model_path, "Go.", argument)
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        assert_one_error_line(status, err, "argument 2", "not UTF-8 text", "--replace-invalid")
    else:
        assert status == 0 and len(out.splitlines()) == 2, err


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=16).map(lambda raw: raw.replace(b"\n", b"")), min_size=1, max_size=4))
def test_any_bytes_on_standard_input_translate_or_give_one_line_naming_it(model_path, capsys, monkeypatch, lines):
    data = b"\n".join(lines) + b"\n"
    standard_input(monkeypatch, data)
    status, out, err = run(capsys, "translate", model_path)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert_one_error_line(status, err, "standard input, line", "not UTF-8 text")
    else:
        assert status == 0 and len(out.splitlines()) == len(lines), err


def test_bad_bytes_on_standard_input_name_the_line_and_the_byte(model_path, capsys, monkeypatch):
    standard_input(monkeypatch, b"Go.\nI am \xe9\xff cold.\n")
    status, _, err = run(capsys, "translate", model_path)
    assert_one_error_line(status, err, "standard input, line 2: not UTF-8 text (byte 0xe9 at byte offset 5)")


def test_replace_invalid_reads_bad_bytes_as_the_replacement_character(model_path, capsys, monkeypatch):
    standard_input(monkeypatch, b"I am \xe9 cold.\n")
    status, out, err = run(capsys, "encode", model_path, "--replace-invalid")
    assert status == 0, err
    assert json.loads(out)["text"] == "I am \ufffd cold."
    status, out, err = run(capsys, "translate", model_path, os.fsdecode(b"Go\xe9."), "--replace-invalid")
    assert status == 0 and len(out.splitlines()) == 1, err


def test_a_byte_order_mark_on_standard_input_is_dropped(model_path, capsys, monkeypatch):
    standard_input(monkeypatch, "\ufeffI am cold.\nGo.\n".encode("utf-8"), errors="strict")
    status, out, _ = run(capsys, "encode", model_path)
    assert status == 0
    assert [json.loads(line)["text"] for line in out.splitlines()] == ["I am cold.", "Go."]
    standard_input(monkeypatch, "\ufeffI am cold.\n".encode("utf-8"), errors="strict")
    with_mark = run(capsys, "translate", model_path)[1]
    assert with_mark == run(capsys, "translate", model_path, "I am cold.")[1]


def test_a_bad_typed_line_is_named_and_the_next_one_translated(model_path, capsys, monkeypatch):
    standard_input(monkeypatch, b"Go\xff.\nHi.\n\n")
    status, out, err = run(capsys, "translate", model_path, "--interactive")
    assert status == 0
    assert "standard input, line 1: not UTF-8 text (byte 0xff" in err and "Type it again." in err
    translated = [line.removeprefix("> ") for line in out.split("> ") if line.strip()]
    assert [line.strip() for line in translated] == run(capsys, "translate", model_path, "Hi.")[1].splitlines()


def test_min_length_without_a_beam_is_refused(model_path, capsys):
    status, _, err = run(capsys, "translate", model_path, "Go.", "--min-length", "3")
    assert_one_error_line(status, err, "min_length (3) holds back the end in beam search only", "--beam 2")


def test_outputs_left_empty_by_min_length_are_reported(model_path, capsys):
    status, out, err = run(capsys, "translate", model_path, "Go.", "Hi.", "--beam", "3", "--min-length", "100")
    assert status == 0 and out.splitlines() == ["", ""]
    assert (
        err.startswith("seq2seq: warning: 2 of 2 outputs are empty: --min-length 100") and "raise --max-length" in err
    )


@pytest.mark.slow
def test_a_real_process_refuses_bad_argument_bytes_in_one_line(model_path):
    result = subprocess.run(
        [sys.executable, "-m", "seq2seq.cli", "translate", os.fsencode(str(model_path)), b"Go\xe9\xff."],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("seq2seq: error: argument 1: not UTF-8 text") and result.stderr.count("\n") == 1
