"""Property tests of the corpus readers: any bytes give pairs or one CorpusError naming file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2seq.data.corpus import read_corpus, read_parallel, read_tatoeba
from seq2seq.errors import CorpusError

# Fixtures such as tmp_path are shared by all examples: each example writes its own files.
pytestmark = pytest.mark.filterwarnings("ignore")
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

# Sentence text: any encodable character but the line and column separators (and NUL / CR,
# which the readers refuse inside a line), with at least one non-blank character.
SENTENCE_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\t\0")
sentences = st.text(SENTENCE_CHARS, min_size=1, max_size=30).filter(lambda text: text.strip())
blank_lines = st.text(st.sampled_from(" \t\u00a0\u3000\x0b\x0c"), max_size=3).map(lambda text: text.encode("utf-8"))
endings = st.sampled_from([b"\n", b"\r\n"])

# Arbitrary lines: 1, 2, 3, 4 or 10 columns of any text or any bytes.
column = st.one_of(st.text(max_size=12).map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=12))
junk_lines = st.integers(1, 4).flatmap(lambda n: st.lists(column, min_size=n, max_size=n)) | st.lists(
    column, min_size=10, max_size=10
)
junk_files = st.one_of(
    st.binary(max_size=200),
    st.lists(junk_lines.map(b"\t".join), max_size=8).map(b"\n".join),
    st.lists(st.sampled_from([b"", b"\r", b" ", b"\xef\xbb\xbf", b"\r\n", b"\n", b"\t", b"\0"]), max_size=8).map(
        b"".join
    ),
)


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def assert_names_file_and_line(error: CorpusError, path: Path, n_lines: int) -> None:
    """The message is one line, starts with the file, and any line number it gives exists."""
    message = str(error)
    assert "\n" not in message and str(path) in message
    for number in re.findall(r"line (\d+)", message):
        assert 1 <= int(number) <= max(n_lines, 1)


@st.composite
def tatoeba_files(draw):
    """(bytes of a well-formed file, the pairs it holds): BOM, CRLF, blank lines, attribution optional."""
    pairs = draw(st.lists(st.tuples(sentences, sentences), min_size=1, max_size=6))
    chunks = [b"\xef\xbb\xbf"] if draw(st.booleans()) else []
    for source, target in pairs:
        if draw(st.booleans()):
            chunks += [draw(blank_lines), draw(endings)]
        columns = [source, target] + ([draw(st.text(SENTENCE_CHARS, max_size=10))] if draw(st.booleans()) else [])
        chunks += ["\t".join(columns).encode("utf-8"), draw(endings)]
    if not draw(st.booleans()):
        chunks.pop()  # no newline at the end of the file
    return b"".join(chunks), [(source.strip(), target.strip()) for source, target in pairs]


@PROPERTY
@given(tatoeba_files())
def test_a_well_formed_tatoeba_file_gives_back_its_stripped_pairs(tmp_path, case):
    data, pairs = case
    corpus = read_tatoeba(write(tmp_path, "pairs.txt", data))
    assert corpus.pairs == pairs and corpus.skipped == 0


@PROPERTY
@given(junk_files, st.booleans())
def test_any_bytes_give_pairs_or_a_corpus_error_naming_the_file_and_line(tmp_path, data, skip_bad_lines):
    path = write(tmp_path, "junk.txt", data)
    try:
        corpus = read_tatoeba(path, skip_bad_lines=skip_bad_lines)
    except CorpusError as error:
        assert_names_file_and_line(error, path, data.count(b"\n") + 1)
        return
    assert corpus.pairs and all(source and target for source, target in corpus.pairs)
    assert all("\t" not in source + target and "\0" not in source + target for source, target in corpus.pairs)
    assert len(corpus.pairs) + corpus.skipped <= data.count(b"\n") + 1


@PROPERTY
@given(
    st.lists(st.tuples(sentences, sentences), min_size=1, max_size=5),
    st.integers(0, 5),
    st.sampled_from(
        [
            [b"a"],
            [b"a", b""],
            [b"", b"b"],
            [b"a", b"b", b"c", b"d"],
            [b"x"] * 10,
            [b"\xff", b"b"],
            [b"a\0", b"b"],
            [b"a\rb", b"c"],
        ]
    ),
)
def test_the_first_malformed_line_is_named_by_its_number(tmp_path, pairs, position, bad_columns):
    lines = ["\t".join(pair).encode("utf-8") for pair in pairs]
    position = min(position, len(lines))
    lines.insert(position, b"\t".join(bad_columns))
    path = write(tmp_path, "bad.txt", b"\n".join(lines) + b"\n")
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(path))}, line {position + 1}: .*--skip-bad-lines"):
        read_tatoeba(path)
    corpus = read_tatoeba(path, skip_bad_lines=True)
    assert corpus.skipped == 1 and corpus.pairs == [(s.strip(), t.strip()) for s, t in pairs]


@PROPERTY
@given(st.lists(st.tuples(sentences, sentences), min_size=1, max_size=6), endings, st.booleans())
def test_parallel_files_give_back_their_stripped_pairs(tmp_path, pairs, ending, bom):
    start = b"\xef\xbb\xbf" if bom else b""
    source = write(tmp_path, "src.txt", start + ending.join(s.encode("utf-8") for s, _ in pairs) + ending)
    target = write(tmp_path, "tgt.txt", start + ending.join(t.encode("utf-8") for _, t in pairs))
    corpus = read_parallel(source, target)
    assert corpus.pairs == [(s.strip(), t.strip()) for s, t in pairs]


@PROPERTY
@given(junk_files, junk_files, st.booleans())
def test_any_two_files_give_pairs_or_a_corpus_error_naming_a_file(tmp_path, source_data, target_data, skip_bad_lines):
    source, target = write(tmp_path, "src.txt", source_data), write(tmp_path, "tgt.txt", target_data)
    try:
        corpus = read_parallel(source, target, skip_bad_lines=skip_bad_lines)
    except CorpusError as error:
        message = str(error)
        assert "\n" not in message and (str(source) in message or str(target) in message)
        return
    assert corpus.pairs and all(s and t and "\0" not in s + t for s, t in corpus.pairs)


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "no sentence pairs found"),
        (b"\n\n  \r\n\t\n", "no sentence pairs found"),
        (b"\xef\xbb\xbf", "no sentence pairs found"),
        ("Go.\tVa !\n".encode("utf-16"), "line 1: not valid UTF-8 (byte 0xff at column 1); the file looks like UTF-16"),
        ("Go.\tVa !\n".encode("utf-16-le"), "line 1: a NUL byte (is the file UTF-16? save it as UTF-8) at column 2"),
        (b"Go.\tVa !\rHi.\tSalut !\r", "line 1: a carriage return (convert CR line endings to LF) at column 9"),
    ],
)
def test_empty_utf16_and_old_mac_files_are_refused_with_a_reason(tmp_path, data, expected):
    path = write(tmp_path, "odd.txt", data)
    with pytest.raises(CorpusError, match=re.escape(f"{path}") + ".*" + re.escape(expected)):
        read_tatoeba(path)


def test_a_very_long_line_is_read_whole(tmp_path):
    source, target = "a" * 1_000_000, "é" * 300_000
    assert read_tatoeba(write(tmp_path, "long.txt", f"{source}\t{target}\n".encode())).pairs == [(source, target)]


def test_trailing_carriage_returns_are_line_endings_not_text(tmp_path):
    assert read_tatoeba(write(tmp_path, "crcrlf.txt", b"Go.\tVa !\r\r\nHi.\tSalut !\r")).pairs == [
        ("Go.", "Va !"),
        ("Hi.", "Salut !"),
    ]


@pytest.mark.parametrize("name", ["a\0b.txt", "."])
def test_an_unopenable_path_is_a_corpus_error(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CorpusError, match="not a valid file name|is a directory"):
        read_corpus(name)
