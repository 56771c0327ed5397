"""Vocabulary: a tokenizer plus a fixed table of tokens and their integer ids.

Ids 0-3 are the special tokens: padding (0), unknown, start and end of sequence. The other
tokens follow in order of falling frequency, ties broken by the token itself, so the same
corpus always gives the same ids.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Sequence

from seq2seq.data.tokenizers import SubwordTokenizer, Tokenizer, tokenizer_from_config
from seq2seq.errors import EmptyVocabularyWarning, UnknownTokensError, UnknownTokensWarning

PAD, UNK, START, END = "<pad>", "<unk>", "<s>", "</s>"
SPECIAL_TOKENS = (PAD, UNK, START, END)


class Vocabulary:
    """Maps text to ids (`encode`) and ids back to text (`decode`)."""

    pad_id, unk_id, start_id, end_id = 0, 1, 2, 3

    def __init__(self, tokens: Sequence[str], tokenizer: Tokenizer):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            tokens = list(SPECIAL_TOKENS) + [t for t in tokens if t not in SPECIAL_TOKENS]
        self.tokens = tokens
        self.tokenizer = tokenizer
        self.token_to_id = {token: index for index, token in enumerate(tokens)}
        if len(self.token_to_id) != len(tokens):
            raise ValueError("a vocabulary cannot hold the same token twice.")

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        tokenizer: Tokenizer,
        max_size: int | None = None,
        min_frequency: int = 1,
    ) -> "Vocabulary":
        """Count the tokens of `texts`; keep the `max_size` most frequent seen `min_frequency` times.

        A `min_frequency` that keeps none of the tokens the texts have warns (`EmptyVocabularyWarning`):
        a model over the special tokens alone reads every token as unknown and can learn nothing.
        """
        counts = Counter(token for text in texts for token in tokenizer.tokenize(text))
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = [token for token, count in ranked if count >= min_frequency]
        if ranked and not kept:
            warnings.warn(
                f"min_frequency {min_frequency:,} keeps none of the {len(ranked):,} tokens of the texts (the most "
                "frequent, "
                f"{ranked[0][0]!r}, is seen {ranked[0][1]:,} times), so every token reads as unknown; "
                f"pass a min_frequency of at most {ranked[0][1]:,}.",
                EmptyVocabularyWarning,
                stacklevel=2,
            )
        return cls(kept if max_size is None else kept[:max_size], tokenizer)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, unknown tokens mapped to `unk_id`; no start or end id."""
        return [self.token_to_id.get(token, self.unk_id) for token in self.tokenizer.tokenize(text)]

    def unknown_tokens(self, text: str) -> list[str]:
        """The tokens of `text` that are not in the vocabulary, in order of appearance."""
        seen: dict[str, None] = {}
        for token in self.tokenizer.tokenize(text):
            if token not in self.token_to_id:
                seen.setdefault(token)
        return list(seen)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`, stopping at the first end id and skipping padding and start ids."""
        tokens = []
        for index in ids:
            index = int(index)
            if index == self.end_id:
                break
            if index in (self.pad_id, self.start_id):
                continue
            tokens.append(self.tokens[index] if 0 <= index < len(self.tokens) else UNK)
        return self.tokenizer.detokenize(tokens)

    def get_config(self) -> dict:
        return {"tokens": list(self.tokens), "tokenizer": self.tokenizer.get_config()}

    @classmethod
    def from_config(cls, config: dict) -> "Vocabulary":
        return cls(config["tokens"], tokenizer_from_config(config["tokenizer"]))

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)}, tokenizer={self.tokenizer.name!r})"


def build_vocabularies(
    source_texts: Sequence[str],
    target_texts: Sequence[str],
    tokenizer: str,
    lowercase: bool = False,
    size: int | None = None,
    min_frequency: int = 1,
    joint: bool = False,
) -> tuple[Vocabulary, Vocabulary]:
    """The source and target vocabularies of a training corpus: each side its own, or one for both (`joint`).

    `tokenizer` is a tokenizer's name. A subword tokenizer (SentencePiece) is first trained on
    the texts it will read, with `size` pieces: each side's own texts, or with `joint` both
    sides' together, so that one table numbers source and target tokens alike (the same
    `Vocabulary` is returned twice). For the other tokenizers `size` keeps the most frequent tokens.
    """
    sides = [[*source_texts, *target_texts]] if joint else [list(source_texts), list(target_texts)]
    vocabularies = [_vocabulary_of(texts, tokenizer, lowercase, size, min_frequency) for texts in sides]
    return (vocabularies[0], vocabularies[0]) if joint else (vocabularies[0], vocabularies[1])


def _vocabulary_of(texts: list[str], tokenizer: str, lowercase: bool, size: int | None, min_frequency: int):
    if tokenizer == SubwordTokenizer.name:
        trained = SubwordTokenizer.train(texts, lowercase=lowercase, **({} if size is None else {"vocab_size": size}))
        return Vocabulary.build(texts, trained, min_frequency=min_frequency)  # SentencePiece kept `size` pieces
    chosen = tokenizer_from_config({"name": tokenizer, "lowercase": lowercase})
    return Vocabulary.build(texts, chosen, max_size=size, min_frequency=min_frequency)


def unknown_tokens_in(vocabulary: Vocabulary, texts: Sequence[str], encoded: Sequence[Sequence[int]]) -> list[str]:
    """Tokens of `texts` outside `vocabulary`, in order of first appearance (`encoded`: their ids)."""
    unknown: dict[str, None] = {}
    for text, ids in zip(texts, encoded):
        if vocabulary.unk_id in ids:
            unknown.update(dict.fromkeys(vocabulary.unknown_tokens(text)))
    return list(unknown)


def listed_tokens(tokens: Sequence[str], most: int = 20) -> str:
    """`'a', 'b', ...`: the first `most` tokens, quoted."""
    return ", ".join(repr(token) for token in tokens[:most]) + (", ..." if len(tokens) > most else "")


def report_unknown(unknown: Sequence[str], strict: bool, side: str = "source", stacklevel: int = 3) -> None:
    """One warning listing the `side`'s tokens read as <unk> (an error when `strict`).

    Shared by the Keras translator, the scorer and the Keras-free exported translator, so that
    each says it in the same words; `stacklevel` points the warning at the caller's caller.
    """
    if not unknown:
        return
    use = "read" if side == "source" else "scored"
    listed = listed_tokens(unknown)
    if strict:
        raise UnknownTokensError(
            f"{len(unknown)} {side} token(s) are not in the model's vocabulary: {listed}; "
            f"without --strict they are {use} as <unk>."
        )
    warnings.warn(
        f"{len(unknown)} {side} token(s) are not in the model's vocabulary and were {use} as <unk>: {listed}.",
        UnknownTokensWarning,
        stacklevel=stacklevel,
    )
