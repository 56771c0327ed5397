"""Target prefixes: text a translation must start with, read as the target's ids and checked before any search.

A search forces a prefix's ids one step at a time (`SearchStrategy.begin`'s `prefix`), through
the same step it then continues with, so the reported score counts the prefix's log-probability
and equals what `score` gives the whole output. This module turns prefix texts into those ids,
refuses what cannot be forced (a token the target vocabulary lacks, a special token, a prefix
that leaves no room within `max_length`) with one line naming the prefix, and gives the part of
an output after its prefix (what autocomplete shows).
"""

from __future__ import annotations

import numpy as np

from seq2seq.errors import Seq2SeqError

SPECIAL_IDS = 4  # ids below this are padding, unknown, start and end: never forced


class PrefixError(Seq2SeqError, ValueError):
    """A target prefix cannot start a translation: a token the model lacks, or longer than the length limit."""


def prefix_list(prefixes, count: int) -> list[str]:
    """One prefix text per input: `prefixes` is one text for all, or a list with one per input (None for none)."""
    if isinstance(prefixes, str):
        return [prefixes] * count
    prefixes = list(prefixes)
    if len(prefixes) != count:
        raise PrefixError(
            f"prefixes holds {len(prefixes)} entries for {count} texts; give one per text (None or '' for none), "
            "or one string for all."
        )
    for index, prefix in enumerate(prefixes):
        if prefix is not None and not isinstance(prefix, str):
            raise TypeError(f"prefixes[{index}] must be a text or None, got {type(prefix).__name__}.")
    return ["" if prefix is None else prefix for prefix in prefixes]


def encode_prefixes(vocabulary, prefixes, count: int, max_length: int | None = None, names=None) -> list[list[int]]:
    """The target ids of each input's prefix (`[]` for none), checked.

    `names[i]` says where prefix `i` came from in an error (default `prefixes[i]`); a prefix is
    refused when it holds a token outside `vocabulary` or a special token, or when `max_length`
    is given and the prefix takes all of it (the prefix counts towards the limit, and the search
    must have room for at least the end).
    """
    texts = prefix_list(prefixes, count)
    names = list(names) if names is not None else [f"prefixes[{index}]" for index in range(count)]
    encoded = []
    for text, name in zip(texts, names):
        ids = vocabulary.encode(text)
        if vocabulary.unk_id in ids:
            raise PrefixError(
                f"{name}: the prefix has token(s) the model's target vocabulary lacks: "
                f"{listed(vocabulary.unknown_tokens(text))}; a prefix is forced token by token, so write it in "
                "tokens the model knows."
            )
        special = [vocabulary.tokens[i] for i in ids if i < SPECIAL_IDS]
        if special:
            raise PrefixError(f"{name}: the prefix holds special token(s) {listed(special)}, which cannot be forced.")
        if max_length is not None and len(ids) >= max_length:
            raise PrefixError(
                f"{name}: the prefix has {len(ids)} target tokens, but max_length is {max_length} and counts the "
                f"prefix; raise max_length above {len(ids)} or shorten the prefix."
            )
        encoded.append(ids)
    return encoded


def listed(tokens: list[str]) -> str:
    """At most five tokens, quoted, for an error message."""
    return ", ".join(repr(token) for token in tokens[:5]) + (", ..." if len(tokens) > 5 else "")


def forced_ids(prefix_ids: list[list[int]], rows: int, width: int) -> np.ndarray:
    """`(rows, width)` int32: each prefix's ids from the left, then zeros (a zero forces nothing); filler rows zero."""
    forced = np.zeros((rows, width), dtype=np.int32)
    for row, ids in enumerate(prefix_ids):
        forced[row, : len(ids)] = ids
    return forced


def continuation(vocabulary, prefix: str, output: str) -> str:
    """The part of `output` after its prefix, as the target tokenizer writes the prefix (may start with a space).

    An output searched from a prefix starts with the prefix's ids, whose text is
    `vocabulary.decode(ids)`; where the tokenizer writes the whole output otherwise at the seam
    (a joined piece), the whole output is returned.
    """
    written = vocabulary.decode(vocabulary.encode(prefix))
    return output[len(written) :] if output.startswith(written) else output


def split_prefix_column(lines: list[str], names: list[str]) -> tuple[list[str], list[str]]:
    """`source<TAB>prefix` lines as their sources and prefixes; a line without a tab has no prefix.

    A line with more than one tab is refused (naming it by `names`): its source would be split
    somewhere the writer may not have meant.
    """
    sources, prefixes = [], []
    for line, name in zip(lines, names):
        tabs = line.count("\t")
        if tabs > 1:
            raise PrefixError(
                f"{name}: {tabs} tabs, but a line is source<TAB>prefix with one tab; remove the tabs from the source."
            )
        source, _, prefix = line.partition("\t")
        sources.append(source)
        prefixes.append(prefix)
    return sources, prefixes
