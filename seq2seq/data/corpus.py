"""Read sentence-pair corpora (Tatoeba/Anki tab files or two aligned files) and split them.

Lines are read and decoded by `seq2seq.data.lines` (UTF-8, a BOM dropped, each bad line named
by file, line and column). Optional length caps in characters skip and count overlong pairs, or
refuse them (`overlong="refuse"`); a line far over its cap is never held in memory whole.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from itertools import zip_longest

from seq2seq.data.lines import BadLine, LengthLimits, Overlong, PathLike, TooLongToRead, decode_line, raw_lines, snippet
from seq2seq.errors import ConfigError, CorpusError

Pair = tuple[str, str]

_SKIP_HINT = "use --skip-bad-lines to skip such lines"
_OVERLONG_HINT = "raise the cap, or leave out --overlong refuse to skip and count such pairs"
_NO_PAIRS = "no sentence pairs found (the file is empty or has only blank lines)"


@dataclass(frozen=True)
class Corpus:
    """Sentence pairs read from one or two files, with the counts of malformed lines and overlong pairs skipped."""

    pairs: list[Pair]
    skipped: int
    sources: tuple[str, ...]
    overlong: int = 0  # pairs left out because a side was longer than its cap

    def __len__(self) -> int:
        """Return the number of sentence pairs."""
        return len(self.pairs)


# ---------------------------------------------------------------- shared helpers


def _check_limit(limit: int | None) -> None:
    """Raise ConfigError (a ValueError) unless limit is None or a positive integer."""
    if limit is not None and limit <= 0:
        raise ConfigError(f"limit must be a positive number of pairs or None, got {limit!r}.")


def _hint(bad: BadLine) -> str:
    return _OVERLONG_HINT if isinstance(bad, Overlong) else _SKIP_HINT


def _line_error(path: PathLike, number: int, bad: BadLine) -> CorpusError:
    """Build the one-line CorpusError for a malformed or overlong line."""
    return CorpusError(f"{path}, line {number}: {bad}; {_hint(bad)}")


def _no_pairs_error(label: str, skipped: int, overlong: int = 0) -> CorpusError:
    """Build the error for a corpus that yielded no pairs."""
    if overlong:
        return CorpusError(
            f"{label}: no sentence pairs found ({overlong} pairs were over the length caps and "
            f"{skipped} lines malformed); raise --max-source-length and --max-target-length"
        )
    if skipped:
        return CorpusError(
            f"{label}: no sentence pairs found (all {skipped} non-blank lines were malformed and skipped)"
        )
    return CorpusError(f"{label}: {_NO_PAIRS}")


# ---------------------------------------------------------------- Tatoeba format


def _parse_tatoeba(raw: bytes, limits: LengthLimits, replace: bool) -> Pair | None:
    """Parse one Tatoeba line into a pair; None for a blank line; BadLine if malformed, Overlong if too long."""
    if isinstance(raw, TooLongToRead):
        raise limits.too_long_to_read()
    text = decode_line(raw, replace)
    if not text.strip():
        return None
    columns = text.split("\t")
    if len(columns) not in (2, 3):
        raise BadLine(
            "expected 2 or 3 tab-separated columns (source<TAB>target[<TAB>attribution]), "
            f"found {len(columns)} in {snippet(text)}"
        )
    source, target = columns[0].strip(), columns[1].strip()
    for name, field in (("source", source), ("target", target)):
        if not field:
            raise BadLine(f"the {name} column is empty in {snippet(text)}")
    return limits.check(source, target)


def _collect(
    items, parse, error, limit: int | None, skip_bad_lines: bool, limits: LengthLimits
) -> tuple[list[Pair], int, int]:
    """Parse `items` into pairs until `limit`; skip and count bad and overlong ones, or raise `error(item, bad)`.

    Returns the pairs, the number of malformed lines skipped and the number of overlong pairs skipped.
    """
    pairs: list[Pair] = []
    skipped = overlong = 0
    for item in items:
        try:
            pair = parse(item)
        except Overlong as bad:
            if limits.overlong == "refuse":
                raise error(item, bad) from None
            overlong += 1
            continue
        except BadLine as bad:
            if not skip_bad_lines:
                raise error(item, bad) from None
            skipped += 1
            continue
        if pair is not None:
            pairs.append(pair)
            if limit is not None and len(pairs) >= limit:
                break
    return pairs, skipped, overlong


def read_tatoeba(
    path: PathLike,
    *,
    limit: int | None = None,
    skip_bad_lines: bool = False,
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    overlong: str = "skip",
    replace_invalid: bool = False,
) -> Corpus:
    """Read a Tatoeba/Anki `source<TAB>target[<TAB>attribution]` file (UTF-8, LF or CRLF).

    A pair with a side over its cap (in characters; None: no cap) is skipped and counted in
    `Corpus.overlong`, or with `overlong="refuse"` refused naming the line. `replace_invalid`
    reads bytes that are not UTF-8 as U+FFFD instead of refusing the line.
    """
    _check_limit(limit)
    limits = LengthLimits(max_source_length, max_target_length, overlong)
    with closing(raw_lines(path, limits.byte_cap())) as lines:
        pairs, skipped, too_long = _collect(
            enumerate(lines, start=1),
            parse=lambda item: _parse_tatoeba(item[1], limits, replace_invalid),
            error=lambda item, bad: _line_error(path, item[0], bad),
            limit=limit,
            skip_bad_lines=skip_bad_lines,
            limits=limits,
        )
    if not pairs:
        raise _no_pairs_error(str(path), skipped, too_long)
    return Corpus(pairs=pairs, skipped=skipped, sources=(str(path),), overlong=too_long)


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
    paths: tuple[PathLike, PathLike], raws: tuple[bytes, bytes], number: int, limits: LengthLimits, replace: bool
) -> Pair | None:
    """Parse line `number` of both files; None if both are blank; BadLine naming the file if malformed or too long."""
    sides = []
    for side, (path, raw) in enumerate(zip(paths, raws)):
        try:
            if isinstance(raw, TooLongToRead):
                raise limits.too_long_to_read(side)
            sides.append(decode_line(raw, replace).strip())
        except BadLine as bad:
            raise type(bad)(f"{path}, line {number}: {bad}") from None
    source, target = sides
    if not source and not target:
        return None
    if not source or not target:
        blank, other = paths if not source else paths[::-1]
        raise BadLine(f"{blank}, line {number}: the line is blank but line {number} of {other} is not")
    try:
        return limits.check(source, target)
    except Overlong as bad:
        raise Overlong(f"{paths[0]} and {paths[1]}, line {number}: {bad}") from None


def _aligned(source_path: PathLike, target_path: PathLike, limits: LengthLimits) -> Iterator[tuple[int, bytes, bytes]]:
    """Yield (line number, source bytes, target bytes); raise CorpusError on unequal lengths."""
    with (
        closing(raw_lines(source_path, limits.byte_cap(0))) as sources,
        closing(raw_lines(target_path, limits.byte_cap(1))) as targets,
    ):
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
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    overlong: str = "skip",
    replace_invalid: bool = False,
) -> Corpus:
    """Read two line-aligned files: line i of the target file translates line i of the source file.

    With `limit`, reading stops after that many pairs, so a length mismatch past it goes unnoticed.
    The length caps and `replace_invalid` work as in `read_tatoeba`.
    """
    _check_limit(limit)
    limits = LengthLimits(max_source_length, max_target_length, overlong)
    paths = (source_path, target_path)
    with closing(_aligned(source_path, target_path, limits)) as lines:
        pairs, skipped, too_long = _collect(
            lines,
            parse=lambda item: _parse_parallel(paths, item[1:], item[0], limits, replace_invalid),
            error=lambda item, bad: CorpusError(f"{bad}; {_hint(bad)}"),
            limit=limit,
            skip_bad_lines=skip_bad_lines,
            limits=limits,
        )
    if not pairs:
        raise _no_pairs_error(f"{source_path} and {target_path}", skipped, too_long)
    return Corpus(pairs=pairs, skipped=skipped, sources=(str(source_path), str(target_path)), overlong=too_long)


# ---------------------------------------------------------------- dispatch and split


def read_corpus(
    path: PathLike | None = None,
    *,
    source_file: PathLike | None = None,
    target_file: PathLike | None = None,
    **options,
) -> Corpus:
    """Read a Tatoeba file (`path`) or two aligned files (`source_file` and `target_file`).

    `options` are those of `read_tatoeba`: limit, skip_bad_lines, the length caps, overlong, replace_invalid.
    """
    given_files = (source_file is not None, target_file is not None)
    if path is not None and any(given_files):
        raise ConfigError(
            "Pass either path (one Tatoeba file) or source_file and target_file (two line-aligned files), not both."
        )
    if path is not None:
        return read_tatoeba(path, **options)
    if not all(given_files):
        raise ConfigError("Pass path (one Tatoeba file) or both source_file and target_file (two line-aligned files).")
    return read_parallel(source_file, target_file, **options)


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
