"""The lines of a corpus file: opened, split, decoded and measured, each problem one message.

Lines are decoded under the text policy of `seq2seq.text` (UTF-8, a leading byte-order mark
dropped), with a corpus's own wording: a bad line names the column of the bad byte. Length
caps (`LengthLimits`, in characters) mark overlong pairs, and a line far over its caps is read
in pieces and dropped, so a one-megabyte line is never held in memory whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from seq2seq.errors import ConfigError, CorpusError
from seq2seq.text import BOM

PathLike = str | os.PathLike[str]
OVERLONG_CHOICES = ("skip", "refuse")
_BOM = BOM.encode("utf-8")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SNIPPET_CHARS = 60
_ATTRIBUTION_BYTES = 4096  # room for a Tatoeba line's third column when a line's bytes are capped
_PIECE_BYTES = 1 << 16  # an overlong line is skipped in pieces of this size


class BadLine(Exception):
    """A line is malformed; the message says what was expected and what was found."""


class Overlong(BadLine):
    """A pair has a side longer than its cap."""


class TooLongToRead(bytes):
    """The first bytes of a line longer than any pair within the caps; the rest was read and dropped."""


@dataclass(frozen=True)
class LengthLimits:
    """The length caps in characters per side (None: no cap) and what happens to a pair over one."""

    source: int | None = None
    target: int | None = None
    overlong: str = "skip"  # "skip": leave the pair out and count it; "refuse": stop with its file and line

    def __post_init__(self) -> None:
        for name in ("source", "target"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"max_{name}_length must be a positive number of characters or None, got {value!r}.")
        if self.overlong not in OVERLONG_CHOICES:
            raise ConfigError(f"overlong must be one of {', '.join(OVERLONG_CHOICES)}; got {self.overlong!r}.")

    def byte_cap(self, side: int | None = None) -> int | None:
        """Most bytes a line within the caps can have (4 per UTF-8 character): one side's file, or a whole Tatoeba
        line."""
        caps = (self.source, self.target) if side is None else ((self.source, self.target)[side],)
        if any(cap is None for cap in caps):
            return None
        return 4 * sum(caps) + (_ATTRIBUTION_BYTES if side is None else 0) + 8

    def check(self, source: str, target: str) -> tuple[str, str]:
        """The pair, or `Overlong` naming the side that is too long."""
        for name, text, cap in (("source", source, self.source), ("target", target, self.target)):
            if cap is not None and len(text) > cap:
                raise Overlong(
                    f"the {name} is {len(text)} characters long, over the cap of {cap} (--max-{name}-length)"
                )
        return source, target

    def too_long_to_read(self, side: int | None = None) -> Overlong:
        """The problem of a line that was over `byte_cap` bytes."""
        caps = {"source": self.source, "target": self.target}
        named = caps if side is None else {name: caps[name] for name in list(caps)[side : side + 1]}
        return Overlong(
            f"the line is over {self.byte_cap(side)} bytes long, past the cap of "
            + " and ".join(f"{cap} characters (--max-{name}-length)" for name, cap in named.items())
        )


def open_binary(path: PathLike) -> BinaryIO:
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


def raw_lines(path: PathLike, byte_cap: int | None = None) -> Iterator[bytes]:
    """Yield each line's bytes without its b"\\n", its trailing b"\\r"s and (line 1) a UTF-8 BOM.

    A line of more than `byte_cap` bytes is read in pieces and dropped; a `TooLongToRead` of its start stands for it.
    """
    with open_binary(path) as handle:
        for number, raw in enumerate(_capped_lines(handle, byte_cap), start=1):
            if not isinstance(raw, TooLongToRead):
                raw = raw.removesuffix(b"\n").rstrip(b"\r")
            if number == 1 and raw.startswith(_BOM):
                raw = type(raw)(raw[len(_BOM) :])
            yield raw


def _capped_lines(handle: BinaryIO, byte_cap: int | None) -> Iterator[bytes]:
    """The lines of `handle`; with `byte_cap`, no more than that many bytes of one line are held at once."""
    if byte_cap is None:
        yield from handle
        return
    while raw := handle.readline(byte_cap + 1):
        if len(raw) <= byte_cap or raw.endswith(b"\n"):
            yield raw
            continue
        rest = raw
        while rest and not rest.endswith(b"\n"):
            rest = handle.readline(_PIECE_BYTES)
        yield TooLongToRead(raw[:_SNIPPET_CHARS])


def decode_line(raw: bytes, replace: bool = False) -> str:
    """Decode one line as UTF-8, or raise BadLine naming the first bad byte (with `replace`, it becomes U+FFFD).

    A NUL byte or a carriage return inside the line is refused too: the first comes from
    UTF-16 text, the second from old Mac (CR) line endings, which would glue lines together.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        if replace:
            return decode_line(raw.decode("utf-8", errors="replace").encode("utf-8"))
        byte = raw[error.start]
        hint = "; the file looks like UTF-16, save it as UTF-8" if raw.startswith(_UTF16_BOMS) else ""
        raise BadLine(f"not valid UTF-8 (byte 0x{byte:02x} at column {error.start + 1}){hint}") from None
    for character, problem in (
        ("\0", "a NUL byte (is the file UTF-16? save it as UTF-8)"),
        ("\r", "a carriage return (convert CR line endings to LF)"),
    ):
        if character in text:
            raise BadLine(f"{problem} at column {text.index(character) + 1}")
    return text


def snippet(text: str) -> str:
    """Return repr() of at most the first 60 characters of text, marking a cut."""
    if len(text) <= _SNIPPET_CHARS:
        return repr(text)
    return repr(text[:_SNIPPET_CHARS]) + "..."
