"""Text in, text out: tokenize, batch by length, search, detokenize, restore the caller's order."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from seq2seq.backend import compile_search, compile_state_loop
from seq2seq.data.batching import pad_batch, round_up
from seq2seq.errors import ConfigError, UnknownTokensError, UnknownTokensWarning
from seq2seq.host import to_host, to_host_tree
from seq2seq.layers.recurrent import recurrent_dropout_off
from seq2seq.search import make_strategy
from seq2seq.search.beam import IMPOSSIBLE
from seq2seq.search.config import SearchConfig
from seq2seq.search.state import keep_sentences, run_search

LENGTH_BUCKET = 8  # source lengths are padded up to a multiple of this
CHUNK = 4  # search steps between looks at which sentences have ended
UNLIMITED = 2**31 - 1  # a step count no search reaches
MIN_ROWS = 128  # below this many hypotheses a batch runs to its end in one loop (looking costs more)


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

    def __init__(self, model, compact: bool = True):
        self.model = model
        self.compact = compact  # False: one uninterrupted loop per batch (the benchmarks' baseline)
        self.seed_generator = keras.random.SeedGenerator(0)
        self._compiled: dict[tuple, object] = {}

    def _searcher_for(self, config: SearchConfig) -> "Searcher":
        key = config.strategy_key
        if key not in self._compiled:
            self._compiled[key] = Searcher(self.model, make_strategy(config, self.seed_generator), self.compact)
        return self._compiled[key]

    def encode_sources(self, texts, strict: bool = False) -> list[list[int]]:
        """Source ids of each text; tokens outside the vocabulary are reported once."""
        vocabulary = self.model.source_vocab
        encoded = [vocabulary.encode(text) for text in texts]
        report_unknown(unknown_source_tokens(vocabulary, texts, encoded), strict)
        return encoded

    def search(self, texts, config: SearchConfig, progress=None) -> list[list[Hypothesis]]:
        """The `config.nbest` best hypotheses of each text, best first, in the caller's order."""
        decode = self.model.target_vocab.decode
        return [
            [Hypothesis(decode(row), float(score)) for row, score in zip(ids, scores) if score > IMPOSSIBLE / 2]
            for ids, scores in self.search_ids(texts, config, progress)
        ]

    def search_ids(self, texts, config: SearchConfig, progress=None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, the output ids `(nbest, width)` (ending with the end id, then padding) and their scores.

        `progress(count)`, where given, is called after each batch with the number of texts done.
        """
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of texts; wrap a single text in a list.")
        if config.sample and keras.backend.backend() == "jax":
            # A jitted JAX function captures the seed generator's state as a constant.
            raise ConfigError("sampling needs the TensorFlow or PyTorch backend; on JAX use greedy or beam search.")
        searcher = self._searcher_for(config)
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
                found = searcher.search(batch, np.asarray(limits, dtype=np.int32), width)
            for position, row in enumerate(rows):
                results[row] = found[position]
            if progress is not None:
                progress(len(rows))
        return results


class Searcher:
    """One strategy's compiled search over a model, run a few steps at a time.

    Between runs of `CHUNK` steps it looks at which sentences have ended; once a quarter of
    the batch has, it takes their results and goes on with the others only, so a batch costs
    what its sentences need rather than what its longest one needs. Under `MIN_ROWS`
    hypotheses (greedy batches of 64, the last few long sentences) the looks cost more than
    they save (measured in `benchmarks/decode_attention.py`), so the loop then runs to the end.
    Sentences never interact in a search, so the results are those of one uninterrupted loop.
    """

    def __init__(self, model, strategy, compact: bool = True):
        self.model = model
        self.strategy = strategy
        self.chunk = CHUNK if compact else UNLIMITED
        vocab = model.target_vocab

        def begin(source_ids, max_lengths, width):
            states, memory = model.search_start(source_ids, strategy.expansion)
            source_mask = ops.repeat(ops.not_equal(source_ids, 0), strategy.expansion, axis=0)
            return strategy.begin(states, vocab.start_id, max_lengths, width, memory, source_mask)

        step = model.search_step
        if getattr(strategy, "needs_attention", False):
            if not model.has_attention:
                raise ConfigError(
                    "the coverage penalty needs attention models; this one has none (drop --coverage-penalty)."
                )
            step = model.attended_search_step

        def run(state, until):
            return run_search(strategy, step, state, vocab.end_id, until)

        self.begin, self.run = compile_search(begin), compile_state_loop(run)

    def search(self, source_ids, max_lengths, width: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per sentence of the batch, its output ids `(nbest, width)` and scores `(nbest,)`."""
        found: list = [None] * len(max_lengths)
        positions = np.arange(len(max_lengths))  # the batch position of each sentence in the state; -1: filler
        state, index = self.begin(source_ids, max_lengths, width), 0
        while True:
            small = len(positions) * self.strategy.expansion < MIN_ROWS  # too small to pay for the looks
            index = UNLIMITED if small else index + self.chunk
            state = self.run(state, index)
            done = to_host(state["sentences"]["done"])
            ended = done & (positions >= 0)
            if done.all() or ended.sum() * 4 >= len(positions):
                ids, scores = to_host_tree(self.strategy.result(state))
                for at in np.flatnonzero(ended):
                    found[positions[at]] = (ids[at], scores[at])
                if done.all():
                    return found
                positions = np.where(ended, -1, positions)
                keep = kept_positions(done)
                if len(keep) < len(positions):
                    state, positions = keep_sentences(state, keep, self.strategy.expansion), positions[keep]


def kept_positions(done: np.ndarray) -> np.ndarray:
    """Which sentences a state keeps: those not done, plus done ones as filler where shapes are static.

    JAX compiles once per shape, so there the count is rounded up to a power of two (the
    filler sentences are done and change nothing); elsewhere exactly the unfinished ones stay.
    """
    going = np.flatnonzero(~done)
    if keras.backend.backend() != "jax":
        return going
    size = min(1 << int(len(going) - 1).bit_length(), len(done))
    return np.concatenate([going, np.flatnonzero(done)[: size - len(going)]])


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
