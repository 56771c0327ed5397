"""Tokenizers: text to a list of token strings and back.

Every tokenizer but `space` normalises text the same way first (Unicode NFC, runs of white
space folded to one space, optional lower-casing), and `detokenize(tokenize(text))` gives back
the normalised text; `space` keeps the text as it is and gives it back exactly.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import unicodedata
from collections.abc import Iterable

import sentencepiece

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


class SpaceTokenizer(Tokenizer):
    """The items between single spaces, exactly as written: for symbols, codes or numbers rather than prose.

    No normalisation (unless `lowercase`), so `detokenize(tokenize(text)) == text` for every
    text: "3 1 4" is ["3", "1", "4"], and two spaces in a row make an empty item.
    """

    name = "space"

    def normalize(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def tokenize(self, text: str) -> list[str]:
        text = self.normalize(text)
        return text.split(" ") if text else []

    def detokenize(self, tokens: list[str]) -> str:
        return " ".join(tokens)


class SubwordTokenizer(Tokenizer):
    """Subword pieces of a SentencePiece unigram model kept inside the tokenizer's configuration.

    A piece that starts a word carries `SPACE` ("\u2581") in front, so "Hello there" may become
    ["\u2581Hel", "lo", "\u2581there"]. The model's own ids are not used: a `Vocabulary`
    counts the pieces and numbers them itself, special tokens included.
    """

    name = "subword"
    SPACE = "\u2581"

    def __init__(self, model_proto: str | bytes, lowercase: bool = False):
        super().__init__(lowercase)
        self.model_proto = _proto_bytes(model_proto)
        self.processor = _load_processor(self.model_proto)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8000, lowercase: bool = False) -> "SubwordTokenizer":
        """Train a unigram model of about `vocab_size` pieces on `texts`, in memory."""
        _check_vocab_size(vocab_size)
        if isinstance(texts, str):
            raise ConfigError("texts must be a list of sentences, not one string; pass [text] to train on one.")
        normalized = [text for text in (_normalize_for_subwords(t, lowercase) for t in texts) if text]
        if not normalized:
            raise ConfigError("cannot train a subword tokenizer on no text; give at least one non-empty sentence.")
        _check_vocab_size_covers_characters(vocab_size, normalized)
        return cls(_train_proto(normalized, vocab_size), lowercase)

    def normalize(self, text: str) -> str:
        # SentencePiece reads a literal SPACE as a space; fold it into one so the round trip holds.
        return _normalize_for_subwords(text, self.lowercase)

    def tokenize(self, text: str) -> list[str]:
        return self.processor.encode(self.normalize(text), out_type=str)

    def detokenize(self, tokens: list[str]) -> str:
        # The same text as SentencePiece's decode_pieces for pieces of the model, but pieces the
        # model lacks (such as the vocabulary's "<unk>") stay as written instead of becoming " ⁇ ".
        return " ".join("".join(tokens).replace(self.SPACE, " ").split())

    def get_config(self) -> dict:
        return {**super().get_config(), "model_proto": base64.b64encode(self.model_proto).decode("ascii")}


def _normalize_for_subwords(text: str, lowercase: bool) -> str:
    """The shared normalisation, with a literal SentencePiece word-start mark read as a space."""
    return Tokenizer(lowercase).normalize(text.replace(SubwordTokenizer.SPACE, " "))


def _proto_bytes(model_proto: str | bytes) -> bytes:
    """The serialized model: bytes as given, or a str decoded from base64."""
    if isinstance(model_proto, (bytes, bytearray, memoryview)):
        return bytes(model_proto)
    try:
        return base64.b64decode(model_proto, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ConfigError(
            "the subword tokenizer's model_proto is not base64 text; save the model again or retrain the tokenizer."
        ) from None


def _load_processor(model_proto: bytes) -> sentencepiece.SentencePieceProcessor:
    """A SentencePiece processor for `model_proto`, or ConfigError if it is not a model."""
    if model_proto:
        try:
            return sentencepiece.SentencePieceProcessor(model_proto=model_proto)
        except RuntimeError:
            pass
    raise ConfigError("the subword tokenizer's model_proto is not a SentencePiece model; retrain the tokenizer.")


# SentencePiece reads the size as a 32-bit integer; far fewer pieces than this already cover any corpus.
MAX_PIECES = 1_000_000


def _check_vocab_size(vocab_size: int) -> None:
    """Raise ConfigError unless `vocab_size` is a positive integer SentencePiece can take."""
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size <= 0:
        raise ConfigError(f"vocab_size must be a positive integer, got {vocab_size!r}; pass for example 8000.")
    if vocab_size > MAX_PIECES:
        raise ConfigError(
            f"vocab_size must be at most {MAX_PIECES:,} pieces, got {vocab_size:,}; pass for example 8000."
        )


def _check_vocab_size_covers_characters(vocab_size: int, texts: list[str]) -> None:
    """SentencePiece needs a piece per character, plus the word-start mark and the unknown piece."""
    needed = len(set("".join(texts)) - {" "}) + 2
    if vocab_size < needed:
        raise ConfigError(
            f"vocab_size {vocab_size} is too small for the {needed - 2} distinct characters of the texts; "
            f"pass a vocab_size of at least {needed}."
        )


# SentencePiece silently leaves out longer sentences unless told a larger limit.
_SENTENCEPIECE_MAX_SENTENCE_BYTES = 4192


def _train_proto(texts: list[str], vocab_size: int) -> bytes:
    """Train a unigram SentencePiece model on normalized `texts`; return it serialized."""
    writer = io.BytesIO()
    longest = max(len(text.encode("utf-8")) for text in texts)
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=writer,
            model_type="unigram",
            vocab_size=vocab_size,
            hard_vocab_limit=False,
            character_coverage=1.0,
            normalization_rule_name="identity",
            max_sentence_length=max(longest + 1, _SENTENCEPIECE_MAX_SENTENCE_BYTES),
            unk_id=0,
            bos_id=-1,
            eos_id=-1,
            pad_id=-1,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"SentencePiece could not train on these texts ({reason}); give more text.") from None
    return writer.getvalue()


TOKENIZER_CLASSES: dict[str, type[Tokenizer]] = {
    "char": CharTokenizer,
    "word": WordTokenizer,
    "subword": SubwordTokenizer,
    "space": SpaceTokenizer,
}


def tokenizer_from_config(config: dict) -> Tokenizer:
    """Rebuild a tokenizer from `Tokenizer.get_config()`."""
    config = dict(config)
    name = config.pop("name", None)
    if name not in TOKENIZER_CLASSES:
        raise ConfigError(f"unknown tokenizer {name!r}; choose one of: {', '.join(TOKENIZER_CLASSES)}.")
    if name == SubwordTokenizer.name and "model_proto" not in config:
        raise ConfigError(
            "a subword tokenizer's configuration needs its model_proto; build one with SubwordTokenizer.train(texts)."
        )
    return TOKENIZER_CLASSES[name](**config)
