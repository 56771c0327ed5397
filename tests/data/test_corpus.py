"""Tests of seq2seq.data.corpus: Tatoeba and parallel readers, dispatch and grouped split."""

from __future__ import annotations

from pathlib import Path

import pytest

from seq2seq.data.corpus import Corpus, read_corpus, read_parallel, read_tatoeba, split_pairs
from seq2seq.errors import CorpusError, Seq2SeqError
from tests.conftest import one_line_error

REAL_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tatoeba" / "fra-eng.txt"
ATTRIBUTION = "CC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)"


def write(tmp_path: Path, data: str | bytes, name: str = "fra.txt") -> Path:
    """Write text (as UTF-8) or bytes to a file under tmp_path and return its path."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def error_of(call, *args, **kwargs) -> str:
    """Run a call that must raise CorpusError and return its one-line message."""
    return one_line_error(CorpusError, call, *args, **kwargs)


# ---------------------------------------------------------------- Tatoeba: good input


def test_two_column_lines_are_read_as_pairs(tmp_path):
    corpus = read_tatoeba(write(tmp_path, "Go.\tVa !\nRun!\tCours !\n"))
    assert corpus.pairs == [("Go.", "Va !"), ("Run!", "Cours !")]
    assert corpus.skipped == 0
    assert len(corpus) == 2
    assert isinstance(corpus, Corpus)


def test_third_attribution_column_is_ignored(tmp_path):
    corpus = read_tatoeba(write(tmp_path, f"Go.\tVa !\t{ATTRIBUTION}\nHi.\tSalut !\n"))
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !")]


def test_sources_name_the_file_read(tmp_path):
    path = write(tmp_path, "Go.\tVa !\n")
    assert read_tatoeba(path).sources == (str(path),)
    assert read_tatoeba(str(path)).sources == (str(path),)


def test_byte_order_mark_is_removed(tmp_path):
    corpus = read_tatoeba(write(tmp_path, b"\xef\xbb\xbfGo.\tVa !\n"))
    assert corpus.pairs == [("Go.", "Va !")]


def test_crlf_line_endings_are_accepted(tmp_path):
    corpus = read_tatoeba(write(tmp_path, "Go.\tVa !\r\nHi.\tSalut !\r\n"))
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !")]


def test_final_line_without_newline_is_read(tmp_path):
    corpus = read_tatoeba(write(tmp_path, "Go.\tVa !\nHi.\tSalut !"))
    assert corpus.pairs[-1] == ("Hi.", "Salut !")


def test_blank_lines_are_skipped_without_counting(tmp_path):
    corpus = read_tatoeba(write(tmp_path, "\nGo.\tVa !\n   \n\t\nHi.\tSalut !\n\n"))
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !")]
    assert corpus.skipped == 0


def test_fields_are_stripped_but_inner_spaces_kept(tmp_path):
    corpus = read_tatoeba(write(tmp_path, "  Go  on. \t Va\u202f! \n"))
    assert corpus.pairs == [("Go  on.", "Va\u202f!")]


def test_limit_stops_after_that_many_good_pairs(tmp_path):
    path = write(tmp_path, "a\tA\n\nbad line\nb\tB\nc\tC\n")
    corpus = read_tatoeba(path, limit=2, skip_bad_lines=True)
    assert corpus.pairs == [("a", "A"), ("b", "B")]
    assert corpus.skipped == 1


def test_limit_does_not_read_past_the_last_pair_needed(tmp_path):
    path = write(tmp_path, b"a\tA\nb\tB\n\xff broken\n")
    assert read_tatoeba(path, limit=2).pairs == [("a", "A"), ("b", "B")]


@pytest.mark.parametrize("limit", [0, -3])
def test_limit_below_one_is_a_value_error_naming_it(tmp_path, limit):
    with pytest.raises(ValueError, match=str(limit)):
        read_tatoeba(write(tmp_path, "a\tA\n"), limit=limit)


# ---------------------------------------------------------------- Tatoeba: malformed lines


def test_one_column_line_is_reported_with_its_line_number(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, "a\tA\nno tab here\n"))
    path = tmp_path / "fra.txt"
    assert message.startswith(f"{path}, line 2: expected 2 or 3 tab-separated columns")
    assert "found 1" in message
    assert "'no tab here'" in message
    assert "--skip-bad-lines" in message


def test_four_column_line_is_malformed(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, "a\tA\tx\ty\n"))
    assert ", line 1: " in message and "found 4" in message


def test_line_numbers_count_blank_lines(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, "\n\na\tA\n   \r\nbroken\n"))
    assert ", line 5: " in message


def test_line_numbers_count_crlf_and_bom_lines_exactly(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, b"\xef\xbb\xbfa\tA\r\n\r\nb\tB\r\nbroken"))
    assert ", line 4: " in message


def test_empty_target_is_malformed(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, "a\tA\nb\t  \n"))
    assert ", line 2: the target column is empty" in message


def test_empty_source_is_malformed(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, " \tB\t" + ATTRIBUTION + "\n"))
    assert ", line 1: the source column is empty" in message


def test_invalid_utf8_is_reported_with_line_and_byte(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, b"a\tA\n\nabc\xff\tB\n"))
    assert ", line 3: not valid UTF-8 (byte 0xff at column 4)" in message


def test_long_offending_line_is_shortened_in_the_message(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, "x" * 500 + "\n"))
    assert len(message) < 300


def test_skip_bad_lines_counts_malformed_lines(tmp_path):
    text = b"a\tA\nonly one\nb\t\nc\tC\t" + ATTRIBUTION.encode() + b"\n\xfe\t\xff\n1\t2\t3\t4\n\n"
    corpus = read_tatoeba(write(tmp_path, text), skip_bad_lines=True)
    assert corpus.pairs == [("a", "A"), ("c", "C")]
    assert corpus.skipped == 4


def test_errors_are_seq2seq_and_value_errors(tmp_path):
    with pytest.raises(Seq2SeqError):
        read_tatoeba(write(tmp_path, "broken\n"))
    with pytest.raises(ValueError):
        read_tatoeba(write(tmp_path, "broken\n"))


# ---------------------------------------------------------------- Tatoeba: unusable files


def test_missing_file_is_reported(tmp_path):
    path = tmp_path / "absent.txt"
    assert error_of(read_tatoeba, path) == f"{path}: no such file"


def test_directory_is_reported(tmp_path):
    assert error_of(read_tatoeba, tmp_path) == f"{tmp_path}: is a directory, expected a corpus file"


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n\t\n", b"\xef\xbb\xbf"])
def test_empty_or_blank_file_has_no_pairs(tmp_path, content):
    path = write(tmp_path, content)
    message = error_of(read_tatoeba, path)
    assert message == f"{path}: no sentence pairs found (the file is empty or has only blank lines)"


def test_file_with_only_skipped_lines_has_no_pairs(tmp_path):
    message = error_of(read_tatoeba, write(tmp_path, "broken\nalso broken\n"), skip_bad_lines=True)
    assert "no sentence pairs found" in message and "2" in message


# ---------------------------------------------------------------- parallel files


def write_parallel(tmp_path: Path, source: str | bytes, target: str | bytes) -> tuple[Path, Path]:
    """Write a source file and a target file and return both paths."""
    return write(tmp_path, source, "src.en"), write(tmp_path, target, "tgt.fr")


def test_parallel_files_are_paired_line_by_line(tmp_path):
    source, target = write_parallel(tmp_path, "Go.\nHi.\n", "\ufeffVa !\r\nSalut !")
    corpus = read_parallel(source, target)
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !")]
    assert corpus.sources == (str(source), str(target))


def test_parallel_lines_keep_inner_tabs_and_skip_double_blanks(tmp_path):
    source, target = write_parallel(tmp_path, " a\tb \n\nc\n", "A\tB\n  \nC\n")
    corpus = read_parallel(source, target)
    assert corpus.pairs == [("a\tb", "A\tB"), ("c", "C")]
    assert corpus.skipped == 0


def test_parallel_files_of_unequal_length_name_both(tmp_path):
    source, target = write_parallel(tmp_path, "a\nb\nc\n", "A\nB\n")
    message = error_of(read_parallel, source, target)
    assert str(source) in message and str(target) in message
    assert "3" in message and "2" in message


def test_unequal_length_is_not_skippable(tmp_path):
    source, target = write_parallel(tmp_path, "a\n", "A\nB\nC\nD\n")
    message = error_of(read_parallel, source, target, skip_bad_lines=True)
    assert f"{source} has 1 lines but {target} has 4" in message


def test_one_side_blank_names_the_blank_file_and_line(tmp_path):
    source, target = write_parallel(tmp_path, "a\nb\n", "A\n \n")
    message = error_of(read_parallel, source, target)
    assert message.startswith(f"{target}, line 2: the line is blank")


def test_parallel_invalid_utf8_names_its_file(tmp_path):
    source, target = write_parallel(tmp_path, b"a\n\xc3(\n", "A\nB\n")
    message = error_of(read_parallel, source, target)
    assert message.startswith(f"{source}, line 2: not valid UTF-8 (byte 0xc3 at column 1)")


def test_parallel_skip_bad_lines_and_limit(tmp_path):
    source, target = write_parallel(tmp_path, "a\n\nc\nd\ne\n", "A\nB\nC\nD\nE\n")
    corpus = read_parallel(source, target, skip_bad_lines=True, limit=2)
    assert corpus.pairs == [("a", "A"), ("c", "C")]
    assert corpus.skipped == 1


def test_parallel_missing_file_is_reported(tmp_path):
    source = write(tmp_path, "a\n", "src.en")
    assert error_of(read_parallel, source, tmp_path / "nope.fr") == f"{tmp_path / 'nope.fr'}: no such file"


def test_parallel_empty_files_have_no_pairs(tmp_path):
    source, target = write_parallel(tmp_path, "", "\n")
    with pytest.raises(CorpusError):
        read_parallel(source, target)
    source, target = write_parallel(tmp_path, "\n\n", "\n\n")
    assert "no sentence pairs found" in error_of(read_parallel, source, target)


# ---------------------------------------------------------------- read_corpus


def test_read_corpus_dispatches_on_its_arguments(tmp_path):
    tatoeba = write(tmp_path, "Go.\tVa !\n")
    source, target = write_parallel(tmp_path, "Hi.\n", "Salut !\n")
    assert read_corpus(tatoeba).pairs == [("Go.", "Va !")]
    assert read_corpus(source_file=source, target_file=target).pairs == [("Hi.", "Salut !")]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"source_file": "a"}, {"target_file": "b"}, {"path": "x", "source_file": "a", "target_file": "b"}],
)
def test_read_corpus_needs_exactly_one_kind_of_input(kwargs):
    with pytest.raises(ValueError, match="Pass"):
        read_corpus(**kwargs)


# ---------------------------------------------------------------- split_pairs


PAIRS = [(f"s{i % 7}", f"t{i}") for i in range(30)]


def test_split_keeps_every_pair_once_and_in_order():
    train, held = split_pairs(PAIRS, 0.3, seed=1)
    assert sorted(train + held) == sorted(PAIRS)
    assert train == [pair for pair in PAIRS if pair in train]
    assert held == [pair for pair in PAIRS if pair in held]


def test_split_groups_pairs_by_source_sentence():
    train, held = split_pairs(PAIRS, 0.3, seed=5)
    assert not {source for source, _ in train} & {source for source, _ in held}
    assert len({source for source, _ in held}) == round(0.3 * 7)


def test_split_is_deterministic_for_a_seed():
    assert split_pairs(PAIRS, 0.4, seed=3) == split_pairs(PAIRS, 0.4, seed=3)
    outcomes = {tuple(split_pairs(PAIRS, 0.4, seed=seed)[1]) for seed in range(10)}
    assert len(outcomes) > 1


def test_split_with_zero_fraction_holds_nothing_out():
    assert split_pairs(PAIRS, 0.0, seed=0) == (PAIRS, [])


def test_split_holds_out_at_least_one_source():
    train, held = split_pairs(PAIRS, 0.01, seed=0)
    assert len({source for source, _ in held}) == 1 and train


def test_split_never_holds_out_every_source():
    train, held = split_pairs([("a", "A"), ("b", "B")], 0.9, seed=0)
    assert len(train) == 1 and len(held) == 1


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5, float("nan")])
def test_split_rejects_fraction_outside_zero_to_one(fraction):
    with pytest.raises(ValueError, match="fraction"):
        split_pairs(PAIRS, fraction, seed=0)


# ---------------------------------------------------------------- the real corpus


def test_real_tatoeba_corpus_reads_completely():
    if not REAL_CORPUS.is_file():
        pytest.skip(f"the shared Tatoeba corpus is absent (expected at {REAL_CORPUS})")
    head = read_tatoeba(REAL_CORPUS, limit=10000)
    assert len(head) == 10000
    assert head.pairs[0][0] == "Go."
    corpus = read_tatoeba(REAL_CORPUS)
    assert len(corpus) == 72888
    assert corpus.skipped == 0
