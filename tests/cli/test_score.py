"""`seq2seq score`: pairs of a real corpus slice scored as the library scores them, n-best lists rescored, bad lines."""

from __future__ import annotations

import io

import pytest

from seq2seq.cli import main
from seq2seq.translation.scoring import score_pairs
from tests.conftest import tiny_model

pytestmark = pytest.mark.filterwarnings("ignore::seq2seq.errors.UnknownTokensWarning")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    model = tiny_model(seed=9, tokenizer="word", attention="bahdanau", embedding_dim=5)
    path = tmp_path_factory.mktemp("score") / "tiny.keras"
    model.save(path)
    return model, path


@pytest.fixture
def corpus_pairs(tatoeba_path):
    """Twelve real pairs, every third one a tiny model's own vocabulary, so some targets are likely."""
    lines = tatoeba_path.read_text(encoding="utf-8").splitlines()[200:209]
    pairs = [tuple(line.split("\t")[:2]) for line in lines]
    return pairs + [("Go.", "Va !"), ("Who are you?", "Qui êtes-vous ?"), ("Hi.", "")]


def run_cli(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def written(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_each_pair_gets_its_total_and_per_token_log_probability(model_file, corpus_pairs, tmp_path, capsys):
    model, path = model_file
    pairs_file = written(tmp_path, "pairs.tsv", "".join(f"{s}\t{t}\n" for s, t in corpus_pairs))
    status, out, _ = run_cli(capsys, "score", path, pairs_file)
    assert status == 0
    rows = [[float(value) for value in line.split("\t")] for line in out.splitlines()]
    expected = score_pairs(model, corpus_pairs)
    assert [row[0] for row in rows] == pytest.approx([s.total for s in expected], abs=1e-4)
    assert [row[1] for row in rows] == pytest.approx([s.per_token for s in expected], abs=1e-4)
    assert len({row[0] for row in rows}) > len(rows) // 2  # real numbers, not one repeated value


def test_a_length_penalty_adds_the_score_beam_search_would_report(model_file, corpus_pairs, monkeypatch, capsys):
    model, path = model_file
    text = "".join(f"{s}\t{t}\n" for s, t in corpus_pairs)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))
    status, out, _ = run_cli(capsys, "score", path, "--length-penalty", "0.6", "--coverage-penalty", "0.2")
    assert status == 0
    normalised = [float(line.split("\t")[2]) for line in out.splitlines()]
    expected = score_pairs(model, corpus_pairs, beam=2, length_penalty=0.6, coverage_penalty=0.2)
    assert normalised == pytest.approx([s.normalised for s in expected], abs=1e-4)


def test_rescoring_an_nbest_list_with_its_own_model_gives_back_the_searchs_scores(model_file, tmp_path, capsys):
    model, path = model_file
    sources = ["Go.", "Who are you?", "Hi.", "Run! Go."]
    search = ["--beam", "4", "--nbest", "4", "--length-penalty", "0.6"]
    status, nbest, _ = run_cli(capsys, "translate", "--no-cache", path, *sources, *search, "--scores")
    assert status == 0
    lines = nbest.splitlines()
    shuffled = written(tmp_path, "nbest.txt", "".join(line + "\n" for line in lines[::-1]))
    sources_file = written(tmp_path, "sources.txt", "".join(source + "\n" for source in sources))
    status, out, _ = run_cli(capsys, "score", path, "--nbest", shuffled, "--sources", sources_file, *search[4:])
    assert status == 0
    rescored = [line.split("\t", 2) for line in out.splitlines()]
    assert sorted((i, t) for i, _, t in rescored) == sorted(tuple(line.split("\t", 2)[::2]) for line in lines)
    assert [int(index) for index, _, _ in rescored] == sorted(int(index) for index, _, _ in rescored)[::-1]
    for index in {index for index, _, _ in rescored}:
        scores = [float(score) for at, score, _ in rescored if at == index]
        assert scores == sorted(scores, reverse=True)
    texts = [(sources[int(index)], text) for index, _, text in rescored]
    library = score_pairs(model, texts, beam=2, length_penalty=0.6)
    assert [float(score) for _, score, _ in rescored] == pytest.approx([s.normalised for s in library], abs=1e-4)
    # An untrained model's outputs often hold "<unk>", whose text reads back as other tokens.
    vocab = model.target_vocab
    searched = {(index, text): float(score) for index, score, text in (line.split("\t", 2) for line in lines)}
    readable = [(i, s, t) for i, s, t in rescored if "<unk>" not in t and vocab.decode(vocab.encode(t)) == t]
    assert len(readable) >= 3
    assert [float(score) for _, score, _ in readable] == pytest.approx(
        [searched[(index, text)] for index, _, text in readable], abs=2e-4
    )


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("pairs.tsv", "Go.\tVa !\nno tab here\n", "pairs.tsv, line 2: expected source<TAB>target, 2 tab-separated "),
        ("pairs.tsv", "Go.\tVa !\na\tb\tc\n", "line 2: expected source<TAB>target, 2 tab-separated columns, not 3"),
        ("pairs.tsv", b"Go.\tVa !\nHi.\t\xff!\n", "pairs.tsv, line 2: not valid UTF-8 (byte 0xff at column 5)"),
    ],
)
def test_a_bad_pairs_line_is_one_line_naming_the_file_and_line(model_file, tmp_path, capsys, name, content, expected):
    status, out, err = run_cli(capsys, "score", model_file[1], written(tmp_path, name, content))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and expected in err


@pytest.mark.parametrize(
    "nbest, expected",
    [
        ("0\t-1.5\tVa !\n0\tlow\tSalut !\n", "nbest.txt, line 2: expected index<TAB>score<TAB>text (as seq2seq"),
        ("0\t-1.5\tVa !\nVa !\n", "nbest.txt, line 2: expected index<TAB>score<TAB>text"),
        ("1\t-1.5\tVa !\n2\t-1.0\tSalut !\n", "line 2: expected an index below 2, the number of lines of"),
    ],
)
def test_a_bad_nbest_line_is_one_line_naming_the_file_and_line(model_file, tmp_path, capsys, nbest, expected):
    sources = written(tmp_path, "sources.txt", "Go.\nHi.\n")
    argv = ["score", model_file[1], "--nbest", written(tmp_path, "nbest.txt", nbest), "--sources", sources]
    status, out, err = run_cli(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and expected in err


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--nbest", "n.txt"], "--nbest FILE goes with --sources FILE"),
        (["--sources", "s.txt"], "--sources names the sources of an --nbest list"),
        (["a.tsv", "b.tsv"], "give one pairs file, got 2"),
        (["absent.tsv"], "absent.tsv: no such file"),
    ],
)
def test_misused_options_are_one_line(model_file, tmp_path, monkeypatch, capsys, extra, expected):
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(capsys, "score", model_file[1], *extra)
    assert status == 2 and err.count("\n") == 1 and expected in err
