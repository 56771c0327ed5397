"""Overlong pairs: skipped and counted, or refused with their line; a huge line is never held in memory whole."""

from __future__ import annotations

import tracemalloc

import pytest

from seq2seq.data.corpus import read_corpus, read_parallel, read_tatoeba
from seq2seq.errors import ConfigError, CorpusError
from tests.conftest import one_line_error

GOOD = "Go.\tVa !\nHi.\tSalut !\n"


def test_a_pair_over_a_cap_is_skipped_and_counted(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(GOOD + "Run!\t" + "x" * 31 + "\nWho?\tQui ?\n" + "y" * 12 + "\tz\n", encoding="utf-8")
    corpus = read_tatoeba(path, max_source_length=11, max_target_length=30)
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("Who?", "Qui ?")]
    assert (corpus.overlong, corpus.skipped) == (2, 0)
    assert len(read_tatoeba(path).pairs) == 5 and read_tatoeba(path).overlong == 0


def test_a_pair_over_a_cap_is_refused_with_its_line_when_asked(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(GOOD + "Run!\t" + "x" * 31 + "\n", encoding="utf-8")
    message = one_line_error(CorpusError, read_tatoeba, path, max_target_length=30, overlong="refuse")
    assert message.startswith(
        f"{path}, line 3: the target is 31 characters long, over the cap of 30 (--max-target-length)"
    )


def test_a_megabyte_line_is_skipped_without_being_held_whole(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_bytes(GOOD.encode() + b"a" * 2_000_000 + b"\tb\n" + b"Run!\tCours !\n")
    tracemalloc.start()
    corpus = read_tatoeba(path, max_source_length=1000, max_target_length=1000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert corpus.pairs[-1] == ("Run!", "Cours !") and corpus.overlong == 1
    assert peak < 500_000  # pieces of the line, never its 2 MB
    message = one_line_error(
        CorpusError, read_tatoeba, path, max_source_length=1000, max_target_length=1000, overlong="refuse"
    )
    assert message.startswith(
        f"{path}, line 3: the line is over 12104 bytes long, past the cap of 1000 characters (--max-source-length)"
    )


def test_parallel_files_skip_and_name_overlong_pairs(tmp_path):
    source, target = tmp_path / "a.en", tmp_path / "a.fr"
    source.write_text("Go.\n" + "w " * 50 + "\nHi.\n", encoding="utf-8")
    target.write_text("Va !\nLong.\nSalut !\n", encoding="utf-8")
    corpus = read_parallel(source, target, max_source_length=20)
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !")] and corpus.overlong == 1
    message = one_line_error(
        CorpusError,
        read_corpus,
        source_file=source,
        target_file=target,
        max_source_length=20,
        max_target_length=20,
        overlong="refuse",
    )
    assert message.startswith(f"{source}, line 2: the line is over 88 bytes long")
    message = one_line_error(CorpusError, read_parallel, source, target, max_source_length=60, overlong="refuse")
    assert message.startswith(f"{source} and {target}, line 2: the source is 99 characters long, over the cap of 60")


def test_a_corpus_of_only_overlong_pairs_says_to_raise_the_caps(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(GOOD, encoding="utf-8")
    assert "2 pairs were over the length caps" in one_line_error(CorpusError, read_tatoeba, path, max_target_length=3)


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"max_source_length": 0}, "max_source_length must be a positive number of characters or None, got 0"),
        ({"overlong": "truncate"}, "overlong must be one of skip, refuse; got 'truncate'"),
    ],
)
def test_bad_caps_are_refused(tmp_path, options, expected):
    path = tmp_path / "pairs.txt"
    path.write_text(GOOD, encoding="utf-8")
    assert expected in one_line_error(ConfigError, read_tatoeba, path, **options)


def test_replace_invalid_reads_bad_bytes_as_the_replacement_character(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"Go\xe9.\tVa !\n")
    assert "not valid UTF-8 (byte 0xe9 at column 3)" in one_line_error(CorpusError, read_tatoeba, path)
    assert read_tatoeba(path, replace_invalid=True).pairs == [("Go\ufffd.", "Va !")]
