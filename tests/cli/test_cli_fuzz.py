"""CLI fuzzing: bad files and bad arguments end in one line on standard error and exit status 2."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2seq.cli import main
from tests.conftest import tiny_model

GOOD_PAIRS = "Go.\tVa !\nHi.\tSalut !\nRun!\tCours !\nWho are you?\tQui êtes-vous ?\n" * 3  # tiny_model's words


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder of good and bad inputs, by name."""
    root = tmp_path_factory.mktemp("fuzz")
    model = root / "model.keras"
    tiny_model(tokenizer="word").save(model)
    data = model.read_bytes()
    other = root / "other.keras"
    tiny_model(units=5, tokenizer="word").save(other)
    contents = {
        "good.txt": GOOD_PAIRS.encode(),
        "junk.bin": bytes(range(256)) * 4,
        "one-column.txt": b"just one column\n",
        "ten-columns.txt": b"\t".join([b"x"] * 10) + b"\n",
        "empty.txt": b"",
        "blank.txt": b"\n \r\n\t\n",
        "utf16.txt": GOOD_PAIRS.encode("utf-16"),
        "short.txt": b"Go.\n",
        "text.keras": b"not a model at all\n",
        "junk.keras": bytes(range(256)),
        "truncated.keras": data[: len(data) // 2],
        "tail-cut.keras": data[:-100],
        "list.yaml": b"- 1\n- 2\n",
        "bad.yaml": b"epochs: [\n",
        "unknown.yaml": b"frobnicate: 3\n",
        "binary.yaml": bytes(range(256)),
        "vectors.txt": b"3 4\nGo 0.1 0.2\n",
    }
    for name, content in contents.items():
        (root / name).write_bytes(content)
    with zipfile.ZipFile(root / "empty-zip.keras", "w") as archive:
        archive.writestr("other.txt", "x")
    (root / "folder").mkdir()
    (root / "folder.keras").mkdir()
    (root / "a-file").write_text("x")
    return root


TRAIN = ["train", "good.txt", "--out", "out.keras", "--epochs", "1", "--units", "4", "--tokenizer", "word"]
BAD_DATA = [
    "junk.bin",
    "one-column.txt",
    "ten-columns.txt",
    "empty.txt",
    "blank.txt",
    "utf16.txt",
    "folder",
    "absent.txt",
]
BAD_MODELS = [
    "absent.keras",
    "text.keras",
    "junk.keras",
    "truncated.keras",
    "tail-cut.keras",
    "empty-zip.keras",
    "folder.keras",
    "folder",
    "good.txt",
    "junk.bin",
]
BAD_NUMBERS = {
    "--epochs": ["0", "-1", "abc", "1.5", ""],
    "--units": ["0", "-3", "x"],
    "--batch-size": ["0"],
    "--limit": ["0", "-2"],
    "--dropout": ["-0.1", "1", "nan", "inf", "abc"],
    "--learning-rate": ["0", "-1", "nan", "inf"],
    "--validation-split": ["1", "-0.5", "nan"],
    "--label-smoothing": ["1", "-1"],
    "--clip-norm": ["0", "-1", "nan"],
    "--seed": ["-1", "abc", "1e3", str(2**70)],
    "--vocab-size": ["0", str(10**12)],
    "--embedding-dim": ["0", "-4"],
    "--patience": ["0"],
    "--min-frequency": ["0"],
    "--layers": ["0", "100000"],
    "--decoder-layers": ["-1", "33"],
    "--max-source-length": ["0"],
}
BAD_CHOICES = {
    "--preset": "nope",
    "--cell": "rnn",
    "--bridge": "glue",
    "--attention": "soft",
    "--tokenizer": "byte",
    "--distribute": "everywhere",
    "--overlong": "truncate",
}
BAD_SEARCH = [
    ["--beam", "0"],
    ["--beam", "-2"],
    ["--nbest", "3"],
    ["--temperature", "0"],
    ["--temperature", "nan"],
    ["--sample", "--temperature", "-1"],
    ["--top-p", "0"],
    ["--top-p", "2"],
    ["--top-k", "-1"],
    ["--min-length", "-1"],
    ["--max-length", "0"],
    ["--min-length", "9", "--max-length", "5"],
    ["--sample", "--beam", "3"],
    ["--seed", "x"],
    ["--no-repeat-ngram", "-1"],
    ["--batch-size", "0"],
    ["--length-penalty", "-1"],
    ["--length-penalty", "inf"],
    ["--sample", "--seed", "-1"],
    ["--sample", "--seed", str(2**70)],
    ["--beam", "100000"],
    ["--max-length", "1000000000"],
    ["--min-length", "3"],
    ["--beam", "3", "--min-length", "5000"],
]


def cases():
    for name in BAD_DATA:
        yield ["train", name, "--out", "out.keras"]
        yield ["evaluate", "model.keras", name]
        yield ["evaluate", "model.keras", "--source-file", name, "--target-file", "good.txt"]
    yield ["train", "--source-file", "good.txt", "--target-file", "short.txt", "--out", "out.keras"]
    for flag, values in BAD_NUMBERS.items():
        for value in values:
            yield TRAIN + [flag, value]
    for flag, value in BAD_CHOICES.items():
        yield TRAIN + [flag, value]
    for name in BAD_MODELS:
        yield ["translate", name, "Go."]
        yield ["info", name]
        yield ["evaluate", name, "good.txt"]
        yield ["average", "model.keras", name, "--out", "avg.keras"]
    for options in BAD_SEARCH:
        yield ["translate", "model.keras", "Go."] + options
        yield ["evaluate", "model.keras", "good.txt"] + options
    yield from [
        # conflicting or missing options
        TRAIN + ["--source-file", "good.txt", "--target-file", "good.txt"],
        ["train", "--source-file", "good.txt", "--out", "out.keras"],
        TRAIN + ["--resume"],
        TRAIN + ["--source-embeddings", "vectors.txt"],
        TRAIN + ["--embedding-dim", "3", "--source-embeddings", "absent.txt"],
        TRAIN + ["--embedding-dim", "3", "--source-embeddings", "junk.bin"],
        ["evaluate", "model.keras"],
        ["evaluate", "model.keras", "good.txt", "--source-file", "good.txt", "--target-file", "good.txt"],
        ["evaluate", "model.keras", "good.txt", "--limit", "0"],
        ["translate", "model.keras", "a", "b", "--plot-attention", "x.png"],
        ["translate"],
        ["average", "--out", "avg.keras"],
        ["average", "model.keras"],
        ["average", "model.keras", "other.keras", "--out", "avg.keras"],
        ["--no-such-flag"],
        # configuration files
        *(
            [*TRAIN, "--config", name]
            for name in ["absent.yaml", "list.yaml", "bad.yaml", "unknown.yaml", "binary.yaml", "folder"]
        ),
        # where the output goes
        ["train", "good.txt", "--out", "out.txt", "--epochs", "1"],
        ["train", "good.txt", "--out", "folder", "--epochs", "1"],
        ["train", "good.txt", "--out", "folder.keras", "--epochs", "1"],
        ["train", "good.txt", "--out", "a-file/out.keras", "--epochs", "1"],
        ["average", "model.keras", "--out", "avg.txt"],
        ["average", "model.keras", "--out", "folder.keras"],
        ["average", "model.keras", "--out", "a-file/avg.keras"],
        ["evaluate", "model.keras", "good.txt", "--output", "folder"],
        ["evaluate", "model.keras", "good.txt", "--output", "a-file/rows.tsv"],
        ["translate", "model.keras", "Go.", "--plot-attention", "a-file/plot.png"],
        ["demo", "--out", "demo.txt"],
        ["demo", "--out", "a-file/demo.keras"],
        ["demo", "--epochs", "0"],
        ["demo", "--seed", "-1"],
    ]


CASES = list(cases())


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(argv)[:80] for argv in CASES])
def test_bad_input_ends_with_one_line_and_status_2(files, monkeypatch, capsys, argv):
    monkeypatch.chdir(files)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    status = main(list(argv))
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_translating_undecodable_standard_input_is_one_line(files, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Go.\n\xff\xfe junk\n"), encoding="utf-8"))
    assert main(["translate", str(files / "model.keras")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "standard input" in err and "UTF-8" in err


@pytest.mark.parametrize("argv", [["train", "junk.bin", "--out", "m.keras"], ["translate", "truncated.keras", "Go."]])
def test_a_real_process_prints_no_traceback(files, argv):
    result = subprocess.run([sys.executable, "-m", "seq2seq.cli", *argv], cwd=files, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("seq2seq: error: ") and result.stderr.count("\n") == 1, result.stderr


def assert_one_error_line(status: int, err: str) -> None:
    """Status 0, or status 2 with one error line (after any warnings) and no traceback."""
    lines = err.splitlines()
    assert all(line.startswith(("seq2seq: warning: ", "seq2seq: error: ")) for line in lines), err
    if status != 0:
        assert status == 2 and len(lines) >= 1 and lines[-1].startswith("seq2seq: error: "), err
        assert sum(line.startswith("seq2seq: error: ") for line in lines) == 1, err


def damaged(model: bytes, junk: bytes, start: float, end: float, how: str) -> bytes:
    """Junk instead of the model, the model cut short, or a stretch of it overwritten with junk."""
    first, last = sorted((int(start * (len(model) - 1)), int(end * (len(model) - 1))))
    if how == "junk":
        return junk
    if how == "cut":
        return model[:first]
    stretch = junk[: last - first]
    return model[:first] + stretch + model[first + len(stretch) :]


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.binary(max_size=300),
    start=st.floats(0, 1),
    end=st.floats(0, 1),
    how=st.sampled_from(["junk", "cut", "overwrite"]),
    command=st.sampled_from(["info", "translate", "evaluate"]),
)
def test_any_bytes_or_a_damaged_model_file_are_one_line(files, monkeypatch, capsys, junk, start, end, how, command):
    """Damage may hit zip headers, config.json or the weights."""
    monkeypatch.chdir(files)
    (files / "fuzzed.keras").write_bytes(damaged((files / "model.keras").read_bytes(), junk, start, end, how))
    argv = [command, "fuzzed.keras"] + {"info": [], "translate": ["Go."], "evaluate": ["good.txt"]}[command]
    status = main(argv)
    assert_one_error_line(status, capsys.readouterr().err)
    assert status == 2 or how == "overwrite"  # a change inside the weights, or none, may still load


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.binary(max_size=20) | st.text(max_size=20).map(str.encode), max_size=5).map(b"\t".join))
def test_any_bytes_as_a_test_corpus_score_or_fail_in_one_line(files, monkeypatch, capsys, data):
    monkeypatch.chdir(files)
    (files / "fuzzed.txt").write_bytes(data)
    status = main(["evaluate", "model.keras", "fuzzed.txt", "--json"])
    assert_one_error_line(status, capsys.readouterr().err)


SEARCH_FLAGS = [
    "--beam",
    "--nbest",
    "--length-penalty",
    "--min-length",
    "--max-length",
    "--no-repeat-ngram",
    "--temperature",
    "--top-k",
    "--top-p",
    "--seed",
    "--batch-size",
]
flag_values = st.one_of(
    st.integers(-3, 6).map(str), st.sampled_from(["nan", "inf", "-inf", "1e9", "0.5", "", "x"]), st.text(max_size=4)
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=st.lists(st.tuples(st.sampled_from(SEARCH_FLAGS), flag_values), max_size=3), sample=st.booleans())
def test_any_search_flag_values_translate_or_fail_in_one_line(files, capsys, options, sample):
    argv = ["translate", str(files / "model.keras"), "Go."] + [f"{flag}={value}" for flag, value in options]
    status = main(argv + (["--sample"] if sample else []))
    assert_one_error_line(status, capsys.readouterr().err)
