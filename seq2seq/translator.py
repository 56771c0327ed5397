"""Text in, text out: tokenize, batch by length, search, detokenize, restore the caller's order."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from seq2seq.backend import compile_search
from seq2seq.data.batching import pad_batch, round_up
from seq2seq.errors import ConfigError, UnknownTokensError, UnknownTokensWarning
from seq2seq.layers.recurrent import recurrent_dropout_off
from seq2seq.search import make_strategy
from seq2seq.search.beam import IMPOSSIBLE
from seq2seq.search.config import SearchConfig

LENGTH_BUCKET = 8  # source lengths are padded up to a multiple of this


class Hypothesis(NamedTuple):
    """One output sentence and its score (log-probability, length-normalised for beam search)."""

    text: str
    score: float


def default_max_length(source_length: int) -> int:
    """The longest output allowed for a source of `source_length` tokens."""
    return 2 * source_length + 10


def search_config(search: SearchConfig | None = None, **overrides) -> SearchConfig:
    """`search` (default settings if None) with keyword overrides applied and validated."""
    if search is not None and not isinstance(search, SearchConfig):
        raise TypeError(f"search must be a SearchConfig, got {type(search).__name__}.")
    return (search or SearchConfig()).replace(**overrides) if overrides else (search or SearchConfig())


class Translator:
    """Fast batched translation with a trained `Seq2Seq` model; one compiled search per strategy."""

    def __init__(self, model):
        self.model = model
        self.seed_generator = keras.random.SeedGenerator(0)
        self._compiled: dict[tuple, object] = {}

    def _decoder_for(self, config: SearchConfig):
        key = config.strategy_key
        if key not in self._compiled:
            strategy = make_strategy(config, self.seed_generator)
            vocab = self.model.target_vocab

            def decode(source_ids, max_lengths, width):
                states, memory = self.model.encode(source_ids)
                prepared = self.model.decoder.prepare_memory(memory)
                if prepared is not None and strategy.expansion > 1:  # one copy of the source per hypothesis
                    prepared = tuple(ops.repeat(part, strategy.expansion, axis=0) for part in prepared)

                def step(tokens, states):
                    return self.model.search_step(tokens, states, prepared)

                return strategy(step, states, vocab.start_id, vocab.end_id, max_lengths, width)

            self._compiled[key] = compile_search(decode)
        return self._compiled[key]

    def encode_sources(self, texts, strict: bool = False) -> list[list[int]]:
        """Source ids of each text; tokens outside the vocabulary are reported once."""
        vocabulary = self.model.source_vocab
        encoded = [vocabulary.encode(text) for text in texts]
        report_unknown(unknown_source_tokens(vocabulary, texts, encoded), strict)
        return encoded

    def search(self, texts, config: SearchConfig) -> list[list[Hypothesis]]:
        """The `config.nbest` best hypotheses of each text, best first, in the caller's order."""
        decode = self.model.target_vocab.decode
        return [
            [Hypothesis(decode(row), float(score)) for row, score in zip(ids, scores) if score > IMPOSSIBLE / 2]
            for ids, scores in self.search_ids(texts, config)
        ]

    def search_ids(self, texts, config: SearchConfig) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, the output ids `(nbest, width)` (ending with the end id, then padding) and their scores."""
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of texts; wrap a single text in a list.")
        if config.sample and keras.backend.backend() == "jax":
            # A jitted JAX function captures the seed generator's state as a constant.
            raise ConfigError("sampling needs the TensorFlow or PyTorch backend; on JAX use greedy or beam search.")
        decode = self._decoder_for(config)
        if config.sample and config.seed is not None:
            state = self.seed_generator.state
            state.assign(ops.cast(ops.convert_to_tensor([config.seed, 0]), state.dtype))
        encoded = self.encode_sources(texts, config.strict)
        results: list = [None] * len(encoded)
        for rows in length_sorted_batches(encoded, config.batch_size):
            batch = pad_batch([encoded[i] for i in rows], LENGTH_BUCKET)
            limits = [config.max_length or default_max_length(len(encoded[i])) for i in rows]
            width = round_up(max(limits), LENGTH_BUCKET)
            with recurrent_dropout_off(self.model):  # a mask drawn in a compiled search leaks (JAX)
                ids, scores = decode(batch, np.asarray(limits, dtype=np.int32), width)
            ids, scores = np.asarray(ids), np.asarray(scores)
            for position, row in enumerate(rows):
                results[row] = (ids[position], scores[position])
        return results


def unknown_source_tokens(vocabulary, texts, encoded) -> list[str]:
    """Tokens of `texts` outside `vocabulary`, in order of first appearance."""
    unknown: dict[str, None] = {}
    for text, ids in zip(texts, encoded):
        if vocabulary.unk_id in ids:
            unknown.update(dict.fromkeys(vocabulary.unknown_tokens(text)))
    return list(unknown)


def report_unknown(unknown: list[str], strict: bool) -> None:
    """One warning listing the tokens read as <unk>, or an error in strict mode."""
    if not unknown:
        return
    listed = ", ".join(repr(token) for token in unknown[:20]) + (", ..." if len(unknown) > 20 else "")
    if strict:
        raise UnknownTokensError(
            f"{len(unknown)} source token(s) are not in the model's vocabulary: {listed}; "
            "without --strict they are read as <unk>."
        )
    warnings.warn(
        f"{len(unknown)} source token(s) are not in the model's vocabulary and were read as <unk>: {listed}.",
        UnknownTokensWarning,
        stacklevel=4,
    )


def length_sorted_batches(sequences: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of `sequences` sorted by length (stable), cut into batches."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
