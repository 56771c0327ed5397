"""Read sentence-pair corpora (Tatoeba/Anki tab files or two aligned files) and split them."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from typing import BinaryIO
from contextlib import closing
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from seq2seq.errors import ConfigError, CorpusError

PathLike = str | os.PathLike[str]
Pair = tuple[str, str]

_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SKIP_HINT = "use --skip-bad-lines to skip such lines"
_SNIPPET_CHARS = 60
_NO_PAIRS = "no sentence pairs found (the file is empty or has only blank lines)"


@dataclass(frozen=True)
class Corpus:
    """Sentence pairs read from one or two files, with the count of malformed lines skipped."""

    pairs: list[Pair]
    skipped: int
    sources: tuple[str, ...]

    def __len__(self) -> int:
        """Return the number of sentence pairs."""
        return len(self.pairs)


class _BadLine(Exception):
    """A line is malformed; the message says what was expected and what was found."""


# ---------------------------------------------------------------- shared helpers


def _check_limit(limit: int | None) -> None:
    """Raise ConfigError (a ValueError) unless limit is None or a positive integer."""
    if limit is not None and limit <= 0:
        raise ConfigError(f"limit must be a positive number of pairs or None, got {limit!r}.")


def _open_binary(path: PathLike) -> BinaryIO:
    """Open a corpus file for binary reading, turning OS errors into CorpusError."""
    if Path(path).is_dir():
        raise CorpusError(f"{path}: is a directory, expected a corpus file")
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror or error})") from None
    except ValueError:  # a NUL character in the name
        raise CorpusError(f"{path!r}: not a valid file name") from None


def _raw_lines(path: PathLike) -> Iterator[bytes]:
    """Yield each line's bytes without its b"\\n", its trailing b"\\r"s and (line 1) a UTF-8 BOM."""
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.removesuffix(b"\n").rstrip(b"\r")
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            yield raw


def _decode(raw: bytes) -> str:
    """Decode one line as UTF-8, or raise _BadLine naming the first bad byte.

    A NUL byte or a carriage return inside the line is refused too: the first comes from
    UTF-16 text, the second from old Mac (CR) line endings, which would glue lines together.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = raw[error.start]
        hint = "; the file looks like UTF-16, save it as UTF-8" if raw.startswith(_UTF16_BOMS) else ""
        raise _BadLine(f"not valid UTF-8 (byte 0x{byte:02x} at column {error.start + 1}){hint}") from None
    for character, problem in (("\0", "a NUL byte (is the file UTF-16? save it as UTF-8)"),
                               ("\r", "a carriage return (convert CR line endings to LF)")):
        if character in text:
            raise _BadLine(f"{problem} at column {text.index(character) + 1}")
    return text


def _snippet(text: str) -> str:
    """Return repr() of at most the first 60 characters of text, marking a cut."""
    if len(text) <= _SNIPPET_CHARS:
        return repr(text)
    return repr(text[:_SNIPPET_CHARS]) + "..."


def _line_error(path: PathLike, number: int, problem: str) -> CorpusError:
    """Build the one-line CorpusError for a malformed line."""
    return CorpusError(f"{path}, line {number}: {problem}; {_SKIP_HINT}")


def _no_pairs_error(label: str, skipped: int) -> CorpusError:
    """Build the error for a corpus that yielded no pairs."""
    if skipped:
        return CorpusError(
            f"{label}: no sentence pairs found (all {skipped} non-blank lines were malformed and skipped)"
        )
    return CorpusError(f"{label}: {_NO_PAIRS}")


# ---------------------------------------------------------------- Tatoeba format


def _parse_tatoeba(raw: bytes) -> Pair | None:
    """Parse one Tatoeba line into a pair; None for a blank line; _BadLine if malformed."""
    text = _decode(raw)
    if not text.strip():
        return None
    columns = text.split("\t")
    if len(columns) not in (2, 3):
        raise _BadLine(
            "expected 2 or 3 tab-separated columns (source<TAB>target[<TAB>attribution]), "
            f"found {len(columns)} in {_snippet(text)}"
        )
    source, target = columns[0].strip(), columns[1].strip()
    for name, field in (("source", source), ("target", target)):
        if not field:
            raise _BadLine(f"the {name} column is empty in {_snippet(text)}")
    return source, target


def _collect(items, parse, error, limit: int | None, skip_bad_lines: bool) -> tuple[list[Pair], int]:
    """Parse `items` into pairs until `limit`; skip and count bad ones, or raise `error(item, bad)`."""
    pairs: list[Pair] = []
    skipped = 0
    for item in items:
        try:
            pair = parse(item)
        except _BadLine as bad:
            if not skip_bad_lines:
                raise error(item, bad) from None
            skipped += 1
            continue
        if pair is not None:
            pairs.append(pair)
            if limit is not None and len(pairs) >= limit:
                break
    return pairs, skipped


def read_tatoeba(path: PathLike, *, limit: int | None = None, skip_bad_lines: bool = False) -> Corpus:
    """Read a Tatoeba/Anki `source<TAB>target[<TAB>attribution]` file (UTF-8, LF or CRLF)."""
    _check_limit(limit)
    with closing(_raw_lines(path)) as lines:
        pairs, skipped = _collect(
            enumerate(lines, start=1),
            parse=lambda item: _parse_tatoeba(item[1]),
            error=lambda item, bad: _line_error(path, item[0], str(bad)),
            limit=limit,
            skip_bad_lines=skip_bad_lines,
        )
    if not pairs:
        raise _no_pairs_error(str(path), skipped)
    return Corpus(pairs=pairs, skipped=skipped, sources=(str(path),))


# ---------------------------------------------------------------- two aligned files


def _count_rest(lines: Iterator[bytes]) -> int:
    """Count the lines an iterator still has."""
    return sum(1 for _ in lines)


def _length_error(source_path: PathLike, n_source: int, target_path: PathLike, n_target: int) -> CorpusError:
    """Build the error for two parallel files of different lengths."""
    return CorpusError(
        f"{source_path} has {n_source} lines but {target_path} has {n_target}; "
        "parallel files must have the same number of lines"
    )


def _parse_parallel(
    source_path: PathLike, source_raw: bytes, target_path: PathLike, target_raw: bytes, number: int
) -> Pair | None:
    """Parse line `number` of both files; None if both are blank; _BadLine naming the file if malformed."""
    sides = []
    for path, raw in ((source_path, source_raw), (target_path, target_raw)):
        try:
            sides.append(_decode(raw).strip())
        except _BadLine as bad:
            raise _BadLine(f"{path}, line {number}: {bad}") from None
    source, target = sides
    if not source and not target:
        return None
    if not source or not target:
        blank, other = (source_path, target_path) if not source else (target_path, source_path)
        raise _BadLine(f"{blank}, line {number}: the line is blank but line {number} of {other} is not")
    return source, target


def _aligned(source_path: PathLike, target_path: PathLike) -> Iterator[tuple[int, bytes, bytes]]:
    """Yield (line number, source bytes, target bytes); raise CorpusError on unequal lengths."""
    with closing(_raw_lines(source_path)) as sources, closing(_raw_lines(target_path)) as targets:
        number = 0
        for number, (source_raw, target_raw) in enumerate(zip_longest(sources, targets), start=1):
            if source_raw is None:
                raise _length_error(source_path, number - 1, target_path, number + _count_rest(targets))
            if target_raw is None:
                raise _length_error(source_path, number + _count_rest(sources), target_path, number - 1)
            yield number, source_raw, target_raw


def read_parallel(
    source_path: PathLike,
    target_path: PathLike,
    *,
    limit: int | None = None,
    skip_bad_lines: bool = False,
) -> Corpus:
    """Read two line-aligned files: line i of the target file translates line i of the source file.

    With `limit`, reading stops after that many pairs, so a length mismatch past it goes unnoticed.
    """
    _check_limit(limit)
    with closing(_aligned(source_path, target_path)) as lines:
        pairs, skipped = _collect(
            lines,
            parse=lambda item: _parse_parallel(source_path, item[1], target_path, item[2], item[0]),
            error=lambda item, bad: CorpusError(f"{bad}; {_SKIP_HINT}"),
            limit=limit,
            skip_bad_lines=skip_bad_lines,
        )
    if not pairs:
        raise _no_pairs_error(f"{source_path} and {target_path}", skipped)
    return Corpus(pairs=pairs, skipped=skipped, sources=(str(source_path), str(target_path)))


# ---------------------------------------------------------------- dispatch and split


def read_corpus(
    path: PathLike | None = None,
    *,
    source_file: PathLike | None = None,
    target_file: PathLike | None = None,
    limit: int | None = None,
    skip_bad_lines: bool = False,
) -> Corpus:
    """Read a Tatoeba file (`path`) or two aligned files (`source_file` and `target_file`)."""
    given_files = (source_file is not None, target_file is not None)
    if path is not None and any(given_files):
        raise ConfigError(
            "Pass either path (one Tatoeba file) or source_file and target_file "
            "(two line-aligned files), not both."
        )
    if path is not None:
        return read_tatoeba(path, limit=limit, skip_bad_lines=skip_bad_lines)
    if not all(given_files):
        raise ConfigError(
            "Pass path (one Tatoeba file) or both source_file and target_file (two line-aligned files)."
        )
    return read_parallel(source_file, target_file, limit=limit, skip_bad_lines=skip_bad_lines)


def _held_out_count(fraction: float, n_sources: int, most: int | None = None) -> int:
    """Return how many unique sources go to the held-out side (never all of them, at most `most`)."""
    if fraction == 0 or n_sources < 2:
        return 0
    count = min(max(1, round(fraction * n_sources)), n_sources - 1)
    return count if most is None else min(count, most)


def split_pairs(
    pairs: Sequence[Pair], fraction: float, *, seed: int, most_sources: int | None = None
) -> tuple[list[Pair], list[Pair]]:
    """Split pairs into (train, held_out) by source sentence, seeded; pair order is kept per side.

    All pairs with the same source text land on the same side; `fraction` of the unique
    sources (rounded, at least one when fraction > 0, never all, and at most `most_sources`)
    are held out.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be at least 0 and below 1, got {fraction!r}.")
    sources = list(dict.fromkeys(source for source, _ in pairs))
    random.Random(seed).shuffle(sources)
    held = set(sources[: _held_out_count(fraction, len(sources), most_sources)])
    train = [pair for pair in pairs if pair[0] not in held]
    held_out = [pair for pair in pairs if pair[0] in held]
    return train, held_out
