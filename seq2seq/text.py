"""Text at the edges: every string from outside is decoded and checked here, under one policy.

Arguments, standard input, files and service requests all arrive as bytes or as strings that
may still hide bytes. The policy: UTF-8; a leading byte-order mark is dropped; anything that is
not Unicode text (bytes that are not UTF-8, lone surrogates such as Python's escapes of bad
command-line bytes or a JSON `"\\udce9"`) is refused with one line naming the source, the line
and the offset, or, with `replace=True`, each bad byte or surrogate becomes U+FFFD. Nothing
undecodable reaches a tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from seq2seq.errors import TextError

BOM = "\ufeff"
REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTES = range(0xDC80, 0xDD00)  # how Python's surrogateescape keeps an undecodable byte
COMMAND_HINT = "save or send it as UTF-8, or pass --replace-invalid to read bad bytes as U+FFFD"


def _where(source: str, line: int | None) -> str:
    return f"{source}, line {line}" if line is not None else source


def decode(raw: bytes, source: str, line: int | None = None, replace: bool = False, hint: str = COMMAND_HINT) -> str:
    """`raw` as text under the policy; a bad byte is a `TextError` naming where it is, then `hint`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        if not replace:
            raise TextError(
                f"{_where(source, line)}: not UTF-8 text (byte 0x{raw[error.start]:02x} at byte offset "
                f"{error.start}); {hint}."
            ) from None
        text = raw.decode("utf-8", errors="replace")
    return text.removeprefix(BOM)


def check(text: str, source: str, line: int | None = None, replace: bool = False, hint: str = COMMAND_HINT) -> str:
    """`text` under the policy: a leading BOM dropped, a lone surrogate refused (or replaced)."""
    if not isinstance(text, str):
        raise TextError(f"{_where(source, line)}: expected text, got {type(text).__name__}.")
    found = _SURROGATE.search(text)
    if found is not None:
        if replace:
            return _SURROGATE.sub(REPLACEMENT, text).removeprefix(BOM)
        code = ord(found.group())
        what = f"byte 0x{code - 0xDC00:02x}" if code in _ESCAPED_BYTES else f"a lone surrogate U+{code:04X}"
        raise TextError(f"{_where(source, line)}: not UTF-8 text ({what} at character {found.start()}); {hint}.")
    return text.removeprefix(BOM)


def decode_lines(lines: Iterable[bytes], source: str, replace: bool = False) -> list[str]:
    """Each line of a byte stream (standard input, a file) as text, without its line ending."""
    return [
        decode(raw.removesuffix(b"\n").removesuffix(b"\r"), source, number, replace)
        for number, raw in enumerate(lines, start=1)
    ]
