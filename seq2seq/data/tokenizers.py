"""Tokenizers: text to a list of token strings and back.

Every tokenizer normalises text the same way first (Unicode NFC, runs of white space folded
to one space, optional lower-casing), and `detokenize(tokenize(text))` gives back the
normalised text.
"""

from __future__ import annotations

import re
import unicodedata

from seq2seq.errors import ConfigError


class Tokenizer:
    """Base class: normalisation shared by all tokenizers, and their configuration."""

    name = "base"

    def __init__(self, lowercase: bool = False):
        self.lowercase = bool(lowercase)

    def normalize(self, text: str) -> str:
        text = text.lower() if self.lowercase else text
        return " ".join(unicodedata.normalize("NFC", text).split())

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def detokenize(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "lowercase": self.lowercase}


class CharTokenizer(Tokenizer):
    """One token per Unicode character (after NFC), spaces included: the classic recipe."""

    name = "char"

    def tokenize(self, text: str) -> list[str]:
        return list(self.normalize(text))

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)


class WordTokenizer(Tokenizer):
    """Words and single punctuation marks, reversibly.

    A piece that was glued to the previous one in the text (no space between them) carries
    the marker `JOINER` in front, so "Va-t'en !" becomes ["Va", "￭-", "￭t", "￭'", "￭en", "!"]
    and detokenizes back to the same text. Splitting follows Unicode word characters.
    """

    name = "word"
    JOINER = "\uffed"
    _PIECE = re.compile(r"\w+|[^\w\s]")

    def normalize(self, text: str) -> str:
        return super().normalize(text.replace(self.JOINER, ""))

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for chunk in self.normalize(text).split(" "):
            pieces = self._PIECE.findall(chunk)
            tokens.extend(pieces[:1])
            tokens.extend(self.JOINER + piece for piece in pieces[1:])
        return tokens

    def detokenize(self, tokens: list[str]) -> str:
        text = ""
        for token in tokens:
            if token.startswith(self.JOINER):
                text += token[len(self.JOINER) :]
            else:
                text += (" " if text else "") + token
        return text


TOKENIZER_CLASSES: dict[str, type[Tokenizer]] = {"char": CharTokenizer, "word": WordTokenizer}


def tokenizer_from_config(config: dict) -> Tokenizer:
    """Rebuild a tokenizer from `Tokenizer.get_config()`."""
    config = dict(config)
    name = config.pop("name", None)
    if name not in TOKENIZER_CLASSES:
        raise ConfigError(f"unknown tokenizer {name!r}; choose one of: {', '.join(TOKENIZER_CLASSES)}.")
    return TOKENIZER_CLASSES[name](**config)
