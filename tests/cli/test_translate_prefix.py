"""`seq2seq translate --prefix TEXT` and `--prefix-column`: outputs that start with a prefix; one-line refusals."""

from __future__ import annotations

import io
import re
import sys

import pytest

from seq2seq.cli import main
from seq2seq.models.loading import load
from tests.conftest import tiny_model

SOURCES = ["Go.", "Who are you?", "Hi."]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("prefix") / "model.keras"
    tiny_model(seed=5, attention="luong-general", embedding_dim=4).save(path)
    return path


@pytest.fixture(scope="module")
def model(model_path):
    return load(model_path)


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def standard_input(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))


def assert_one_error_line(status: int, err: str, *expected: str) -> None:
    assert status == 2, err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err


def test_one_prefix_starts_every_translation_and_the_scores_are_the_python_apis(capsys, model_path, model):
    status, out, _ = run(capsys, "translate", model_path, *SOURCES, "--prefix", "Qu", "--beam", "3", "--scores")
    assert status == 0
    lines = [line.split("\t") for line in out.splitlines()]
    expected = model.translate_nbest(SOURCES, beam=3, prefixes="Qu")
    assert [text for _, _, text in lines] == [found[0].text for found in expected]
    assert all(text.startswith("Qu") for _, _, text in lines)
    assert [float(score) for _, score, _ in lines] == pytest.approx([found[0].score for found in expected], abs=1e-4)


def test_with_prefix_column_each_line_is_a_source_and_its_prefix_and_a_line_without_a_tab_has_none(
    capsys, monkeypatch, model_path, model
):
    standard_input(monkeypatch, "Go.\tSa\nWho are you?\nHi.\tC\n")
    status, out, _ = run(capsys, "translate", model_path, "--prefix-column")
    assert status == 0
    assert out.splitlines() == model.translate(SOURCES, prefixes=["Sa", None, "C"])
    assert out.splitlines()[0].startswith("Sa") and out.splitlines()[2].startswith("C")


def test_without_prefix_column_a_tab_stays_part_of_the_source(capsys, monkeypatch, model_path, model):
    standard_input(monkeypatch, "Go.\tSa\n")
    status, out, _ = run(capsys, "translate", model_path)
    assert status == 0 and out.splitlines() == model.translate(["Go.\tSa"])


def test_a_prefix_token_the_model_lacks_is_named_with_its_input_line(capsys, monkeypatch, model_path):
    standard_input(monkeypatch, "Go.\tSa\nHi.\tzut\n")
    status, _, err = run(capsys, "translate", model_path, "--prefix-column")
    assert_one_error_line(status, err, "standard input, line 2: the prefix has token(s)", "'z'")
    status, _, err = run(capsys, "translate", model_path, "Go.", "--prefix", "Va z")
    assert_one_error_line(status, err, "--prefix: the prefix has token(s)", "'z'")


def test_a_prefix_as_long_as_max_length_and_a_line_with_two_tabs_are_refused(capsys, monkeypatch, model_path):
    status, _, err = run(capsys, "translate", model_path, "Go.", "--prefix", "Salut", "--max-length", "5")
    assert_one_error_line(status, err, "--prefix: the prefix has 5 target tokens, but max_length is 5")
    standard_input(monkeypatch, "Go.\tSa\nHi.\tC\tx\n")
    status, _, err = run(capsys, "translate", model_path, "--prefix-column")
    assert_one_error_line(status, err, "standard input, line 2: 2 tabs")


def test_prefix_options_refuse_each_other_and_the_attention_picture(capsys, model_path, tmp_path):
    status, _, err = run(capsys, "translate", model_path, "Go.", "--prefix", "Sa", "--prefix-column")
    assert_one_error_line(status, err, "not allowed with argument")
    status, _, err = run(
        capsys, "translate", model_path, "Go.", "--prefix", "Sa", "--plot-attention", tmp_path / "a.png"
    )
    assert_one_error_line(status, err, "--plot-attention draws a greedy translation without a prefix")


def test_the_interactive_prompt_continues_the_prefix_and_skips_a_line_it_cannot_force(
    capsys, monkeypatch, model_path, model
):
    standard_input(monkeypatch, "Go.\tSa\nHi.\tzz\nHi.\tC\n\n")
    status, out, err = run(capsys, "translate", model_path, "--interactive", "--prefix-column")
    assert status == 0
    translations = [re.sub(r"^(> )+", "", line) for line in out.split("\n") if re.sub(r"^(> )+", "", line)]
    assert translations == model.translate(["Go.", "Hi."], prefixes=["Sa", "C"])
    assert "standard input, line 2: the prefix has token(s)" in err and "Type it again." in err


def test_an_ensemble_translates_with_a_prefix_too(capsys, model_path, tmp_path):
    other = tmp_path / "other.keras"
    tiny_model(seed=6, attention="luong-general", embedding_dim=4).save(other)
    status, out, _ = run(capsys, "translate", model_path, other, "Go.", "Hi.", "--prefix", "Qui")
    assert status == 0 and all(line.startswith("Qui") for line in out.splitlines())


def test_an_exported_model_refuses_a_prefix_and_names_the_keras_file_instead(capsys, tmp_path):
    from seq2seq.export.exporter import MANIFEST

    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / MANIFEST).write_text("{}")
    status, _, err = run(capsys, "translate", exported, "Go.", "--prefix", "Sa")
    assert_one_error_line(status, err, "is an exported model", "give the .keras file for", "--prefix")


def test_a_bad_prefix_for_every_typed_line_is_refused_before_the_prompt(capsys, monkeypatch, model_path):
    standard_input(monkeypatch, "Go.\n\n")
    status, out, err = run(capsys, "translate", model_path, "--interactive", "--prefix", "zut")
    assert_one_error_line(status, err, "--prefix: the prefix has token(s)", "'z'")
    assert out == ""
