"""`seq2seq translate MODEL.keras` through the cached export beside the model: the Keras output, a fast start."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from seq2seq.cli import main
from seq2seq.export import cache
from seq2seq.export.manifest import MANIFEST
from tests.conftest import tiny_model

pytestmark = [
    pytest.mark.slow,  # each exports a model once (about 10 s)
    pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning"),
    pytest.mark.skipif(
        not all(importlib.util.find_spec(name) for name in ("tf2onnx", "onnxruntime")),
        reason="the cache needs the export extra (tf2onnx, onnxruntime)",
    ),
]


@pytest.fixture(autouse=True)
def cache_on(monkeypatch):
    monkeypatch.setenv(cache.CACHE_VARIABLE, "on")  # the suite's conftest turns it off elsewhere


TEXTS = ["Go.", "Who are you?", "Hi.", "Run! Run!", "Who?"]
BEAM = ["--beam", "3", "--nbest", "2", "--scores"]


def translate(capsys, *argv) -> tuple[str, str]:
    assert main(["translate", *argv]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def scored(out: str) -> list[tuple[str, str, float]]:
    """`index<TAB>score<TAB>text` lines as (index, text, score)."""
    rows = [line.split("\t") for line in out.splitlines()]
    return [(index, text, float(score)) for index, score, text in rows]


def same_hypotheses(out: str, expected: str) -> bool:
    """The same texts in the same order, scores equal to the printed 4 decimals (one unit of rounding)."""
    found, wanted = scored(out), scored(expected)
    return [row[:2] for row in found] == [row[:2] for row in wanted] and all(
        abs(a[2] - b[2]) <= 1.5e-4 for a, b in zip(found, wanted)
    )


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "fra.keras"
    tiny_model(seed=6, attention="luong-general", embedding_dim=3).save(path)
    return path


def test_the_first_run_exports_once_and_later_runs_give_the_keras_output(capsys, model_file):
    keras_greedy, _ = translate(capsys, str(model_file), *TEXTS, "--no-cache")
    keras_beam, _ = translate(capsys, str(model_file), *TEXTS, *BEAM, "--no-cache")
    assert not cache.cache_directory(model_file).exists()  # --no-cache writes nothing

    first, err = translate(capsys, str(model_file), *TEXTS)
    assert first == keras_greedy
    assert err.count("exporting") == 1 and str(cache.cache_directory(model_file)) in err
    assert (cache.cache_directory(model_file) / MANIFEST).is_file()

    beam, err = translate(capsys, str(model_file), *TEXTS, *BEAM)
    assert "exporting" not in err
    assert same_hypotheses(beam, keras_beam)
    assert (
        translate(capsys, str(model_file), *TEXTS, "--beam", "3")[0]
        == translate(capsys, str(model_file), *TEXTS, "--beam", "3", "--no-cache")[0]
    )


def test_a_changed_model_file_is_exported_again(capsys, tmp_path):
    path = tmp_path / "changing.keras"
    tiny_model(seed=7).save(path)
    translate(capsys, str(path), *TEXTS)
    first = json.loads((cache.cache_directory(path) / MANIFEST).read_text())["source_model"]

    tiny_model(seed=8, cell="gru").save(path)  # a new model in the same file
    out, err = translate(capsys, str(path), *TEXTS, *BEAM)
    assert "exporting" in err
    assert json.loads((cache.cache_directory(path) / MANIFEST).read_text())["source_model"]["sha256"] != first["sha256"]
    assert same_hypotheses(out, translate(capsys, str(path), *TEXTS, *BEAM, "--no-cache")[0])

    os.utime(path, ns=(1, 1))  # touched, not changed: the digest still matches, nothing is exported
    assert "exporting" not in translate(capsys, str(path), *TEXTS)[1]


def test_a_cache_that_cannot_be_written_costs_one_warning_line_and_keras_translates(capsys, tmp_path, monkeypatch):
    path = tmp_path / "readonly.keras"
    tiny_model(seed=9).save(path)
    expected, _ = translate(capsys, str(path), *TEXTS, "--no-cache")

    access = os.access
    # as in a folder the user cannot write (root, who runs these tests in CI, may write any)
    monkeypatch.setattr(os, "access", lambda where, *args: str(where) != str(tmp_path) and access(where, *args))
    out, err = translate(capsys, str(path), *TEXTS)
    assert out == expected and err.count("\n") == 1 and "is not writable" in err
    monkeypatch.undo()
    monkeypatch.setenv(cache.CACHE_VARIABLE, "on")  # undo() took the fixture's setting too

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("seq2seq.export.exporter.export_model", fail)
    out, err = translate(capsys, str(path), *TEXTS)
    assert out == expected and "No space left on device" in err and "translating with Keras" in err
    assert not cache.cache_directory(path).exists()


def test_options_the_export_cannot_honour_go_through_keras_without_a_cache(capsys, tmp_path):
    path = tmp_path / "options.keras"
    tiny_model(seed=10).save(path)
    for options in (["--sample", "--seed", "1"], ["--beam", "3", "--no-repeat-ngram", "2"]):
        translate(capsys, str(path), *TEXTS, *options)
        assert not cache.cache_directory(path).exists()


CACHED_RUN_WITHOUT_KERAS = """
import sys

for name in ("keras", "tensorflow"):
    sys.modules[name] = None  # importing any of them now fails
from seq2seq.cli import main

sys.exit(main(["translate", *sys.argv[1:], "--beam", "3"]))
"""


def test_a_run_with_a_current_cache_imports_neither_keras_nor_tensorflow(capsys, model_file):
    expected, _ = translate(capsys, str(model_file), *TEXTS, "--beam", "3")  # makes the cache if needed
    result = subprocess.run(
        [sys.executable, "-c", CACHED_RUN_WITHOUT_KERAS, str(model_file), *TEXTS],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == expected
