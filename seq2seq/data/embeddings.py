"""Pretrained word vectors (GloVe and word2vec text files) and embedding matrices built from them.

The text format has one token per line followed by its numbers, separated by single spaces;
word2vec (and fastText's `.vec`) put a `COUNT DIM` header line first. Files are UTF-8.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from seq2seq.data.tokenizers import SubwordTokenizer, WordTokenizer
from seq2seq.data.vocabulary import SPECIAL_TOKENS, Vocabulary
from seq2seq.errors import ConfigError, CorpusError

PathLike = str | os.PathLike[str]

_HEADER = re.compile(r"[0-9]+ [0-9]+")
_INIT_STDDEV = 0.05
_WORD_MARKS = (WordTokenizer.JOINER, SubwordTokenizer.SPACE)


# ---------------------------------------------------------------- reading vector files


def _lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for each non-blank line, without its line end or trailing spaces."""
    if Path(path).is_dir():
        raise CorpusError(f"{path}: is a directory, expected a word-vector file")
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror or error})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise CorpusError(f"{path}, line {number}: not UTF-8 text; save the file as UTF-8") from None
            line = line.rstrip("\r\n").rstrip(" ")
            if line:
                yield number, line


def _header_dimension(line: str) -> int | None:
    """The DIM of a word2vec `COUNT DIM` header line, or None for any other line."""
    return int(line.split(" ")[1]) if _HEADER.fullmatch(line) else None


def _first_dimension(path: PathLike, number: int, line: str) -> int:
    """The dimension a vector file announces on its first line (a header or a first vector)."""
    dim = _header_dimension(line)
    dim = line.count(" ") if dim is None else dim
    if dim <= 0:
        raise CorpusError(
            f"{path}, line {number}: expected a token followed by its numbers, found {line[:60]!r}; "
            "give a GloVe or word2vec text file"
        )
    return dim


def _split(path: PathLike, number: int, line: str, dim: int) -> tuple[str, str]:
    """(token, its numbers as text), or CorpusError when the line does not hold `dim` numbers."""
    spaces = line.count(" ")
    if spaces == dim:
        token, numbers = line.split(" ", 1)
        return token, numbers
    if spaces > dim:
        # GloVe's largest files hold a few tokens with spaces inside ("a b 0.1 ..."): allowed,
        # unless the part taken as the token ends with a number (then the line has too many).
        token = line.rsplit(" ", dim)[0]
        if not _is_number(token.rsplit(" ", 1)[-1]):
            return token, line[len(token) + 1 :]
    raise CorpusError(
        f"{path}, line {number}: expected a token followed by {dim} numbers, as on the first vector line, "
        f"found {spaces}; fix or remove that line"
    )


def _is_number(text: str) -> bool:
    """Whether `text` reads as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse(path: PathLike, number: int, numbers: str, dim: int) -> np.ndarray:
    """The float32 vector written in `numbers`, or CorpusError naming the first bad value."""
    values = numbers.split(" ")
    try:
        return np.array([float(value) for value in values], dtype=np.float32)
    except ValueError:
        bad = next(value for value in values if not _is_number(value))
        raise CorpusError(
            f"{path}, line {number}: {bad[:30]!r} is not a number; expected a token followed by {dim} numbers"
        ) from None


def vector_dimension(path: PathLike) -> int:
    """The dimension of the vectors in `path`, read from its first line only."""
    for number, line in _lines(path):
        return _first_dimension(path, number, line)
    raise CorpusError(f"{path}: holds no vectors (the file is empty); give a GloVe or word2vec text file")


def read_vectors(path: PathLike, wanted: set[str] | None = None) -> tuple[dict[str, np.ndarray], int]:
    """(vectors of the tokens in `wanted`, or of all tokens when None; their dimension).

    The numbers of the lines of other tokens are counted, not parsed. A token listed twice
    keeps its first vector.
    """
    vectors: dict[str, np.ndarray] = {}
    dim = None
    vector_lines = 0
    for number, line in _lines(path):
        if dim is None:
            dim = _first_dimension(path, number, line)
            if _header_dimension(line) is not None:
                continue
        token, numbers = _split(path, number, line, dim)
        vector_lines += 1
        if (wanted is None or token in wanted) and token not in vectors:
            vectors[token] = _parse(path, number, numbers, dim)
    if not vector_lines:
        raise CorpusError(f"{path}: holds no vectors (the file is empty); give a GloVe or word2vec text file")
    return vectors, dim


# ---------------------------------------------------------------- embedding matrices


def lookup_keys(token: str) -> list[str]:
    """The spellings to look `token` up under: as is, lower-cased, then without a word mark."""
    keys = [token, token.lower()]
    for mark in _WORD_MARKS:
        if token.startswith(mark) and len(token) > len(mark):
            bare = token[len(mark) :]
            keys += [bare, bare.lower()]
    return list(dict.fromkeys(keys))


def _check_dim(dim: int) -> None:
    """Raise ConfigError unless `dim` is a positive integer."""
    if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
        raise ConfigError(
            f"embedding_dim must be a positive integer, got {dim!r}; pass for example --embedding-dim 100."
        )


def embedding_matrix(vocabulary: Vocabulary, path: PathLike, dim: int, seed: int = 0) -> tuple[np.ndarray, int]:
    """A (len(vocabulary), dim) float32 matrix of the file's vectors; the number of tokens found.

    Tokens missing from the file and the special tokens keep a small seeded random normal
    initialisation; the padding row is all zeros.
    """
    _check_dim(dim)
    file_dim = vector_dimension(path)
    if file_dim != dim:
        raise ConfigError(
            f"{path} has vectors of dimension {file_dim}, but the model's embedding_dim is {dim}; "
            f"pass --embedding-dim {file_dim}"
        )
    tokens = vocabulary.tokens[len(SPECIAL_TOKENS) :]
    keys = {token: lookup_keys(token) for token in tokens}
    vectors, _ = read_vectors(path, wanted={key for spellings in keys.values() for key in spellings})
    matrix = np.random.default_rng(seed).normal(0.0, _INIT_STDDEV, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[vocabulary.pad_id] = 0.0
    found = 0
    for index, token in enumerate(tokens, start=len(SPECIAL_TOKENS)):
        vector = next((vectors[key] for key in keys[token] if key in vectors), None)
        if vector is not None:
            matrix[index] = vector
            found += 1
    return matrix, found
