"""Text in, text out: tokenize, batch by length, search, detokenize, restore the caller's order.

The model is anything with the step interface of `seq2seq.translation.steps.StepModel`: a
`Seq2Seq` or an `Ensemble`. Where the backend compiles a program per shape (JAX), every batch
is brought to one of a few shapes first (see `batch_shape`); elsewhere batches keep their own.
"""

from __future__ import annotations

from collections import OrderedDict

import keras
import numpy as np
from keras import ops

from seq2seq.compiled_loops import compile_search, compile_state_loop, compiles_per_shape
from seq2seq.data.batching import pad_batch, round_up
from seq2seq.data.vocabulary import report_unknown, unknown_tokens_in
from seq2seq.errors import ConfigError
from seq2seq.host import to_host, to_host_tree
from seq2seq.layers.decoder import IMPOSSIBLE
from seq2seq.layers.recurrent import recurrent_dropout_off
from seq2seq.search.config import SearchConfig
from seq2seq.search.factory import make_strategy
from seq2seq.search.hypothesis import Hypothesis, default_max_length
from seq2seq.search.state import keep_sentences, run_search
from seq2seq.translation.prefixes import encode_prefixes, forced_ids
from seq2seq.translation.steps import StepModel

LENGTH_BUCKET = 8  # source lengths and output widths are padded up to a multiple of this
CHUNK = 4  # search steps between looks at which sentences have ended
UNLIMITED = 2**31 - 1  # a step count no search reaches
MIN_WORK = 128 * 4000  # below this many hypotheses x target tokens a batch runs to its end in one loop
SEARCHERS = 8  # compiled searches a translator keeps, one per strategy setting; the least recently used goes first


def output_limit(max_length: int | None, source_length: int, prefix_length: int = 0) -> int:
    """The most tokens of one output, its prefix counted: `max_length`, or else the default for its source
    but never fewer than the prefix's tokens + 10."""
    if max_length is not None:
        return max_length
    return max(default_max_length(source_length), prefix_length + 10)


def search_config(search: SearchConfig | None = None, **overrides) -> SearchConfig:
    """`search` (default settings if None) with keyword overrides applied and validated."""
    if search is not None and not isinstance(search, SearchConfig):
        raise TypeError(f"search must be a SearchConfig, got {type(search).__name__}.")
    return (search or SearchConfig()).replace(**overrides) if overrides else (search or SearchConfig())


class Translator:
    """Fast batched translation with a trained model (a `StepModel`); one compiled search per strategy.

    The compiled searches are kept for the last `SEARCHERS` strategy settings used, so a service
    whose requests vary the beam or the penalties holds a bounded number of them.
    """

    def __init__(self, model: StepModel, compact: bool = True):
        self.model = model
        self.compact = compact  # False: one uninterrupted loop per batch (the benchmarks' baseline)
        self.seed_generator = keras.random.SeedGenerator(0)
        self._searchers: OrderedDict[tuple, Searcher] = OrderedDict()  # least recently used first

    def _searcher_for(self, config: SearchConfig, prefixed: bool = False) -> "Searcher":
        # A prefixed search's state carries one more tensor, so it has its own compiled loop.
        key = (config.strategy_key, "prefixed") if prefixed else config.strategy_key
        searcher = self._searchers.pop(key, None)
        if searcher is None:
            searcher = Searcher(self.model, make_strategy(config, self.seed_generator), self.compact)
        self._searchers[key] = searcher
        if len(self._searchers) > SEARCHERS:
            self._searchers.popitem(last=False)
        return searcher

    def encode_sources(self, texts, strict: bool = False) -> list[list[int]]:
        """Source ids of each text; tokens outside the vocabulary are reported once."""
        vocabulary = self.model.source_vocab
        encoded = [vocabulary.encode(text) for text in texts]
        report_unknown(unknown_tokens_in(vocabulary, texts, encoded), strict, stacklevel=4)
        return encoded

    def search(self, texts, config: SearchConfig, progress=None, prefixes=None) -> list[list[Hypothesis]]:
        """The `config.nbest` best hypotheses of each text, best first, in the caller's order."""
        decode = self.model.target_vocab.decode
        return [
            [Hypothesis(decode(row), float(score)) for row, score in zip(ids, scores) if score > IMPOSSIBLE / 2]
            for ids, scores in self.search_ids(texts, config, progress, prefixes)
        ]

    def search_ids(self, texts, config: SearchConfig, progress=None, prefixes=None) -> list[tuple]:
        """Per text, the output ids `(nbest, width)` (ending with the end id, then padding) and their scores.

        `progress(count)`, where given, is called after each batch with the number of texts done.
        `prefixes` (one text for all, or one per text; see `prefixes.encode_prefixes`) are what
        each output starts with; its score then counts the prefix's log-probability.
        """
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of texts; wrap a single text in a list.")
        if config.sample and keras.backend.backend() == "jax":
            # A jitted JAX function captures the seed generator's state as a constant.
            raise ConfigError("sampling needs the TensorFlow or PyTorch backend; on JAX use greedy or beam search.")
        prefix_ids = None
        if prefixes is not None:
            prefix_ids = encode_prefixes(self.model.target_vocab, prefixes, len(texts), config.max_length)
            prefix_ids = prefix_ids if any(prefix_ids) else None  # all empty: the plain search
        searcher = self._searcher_for(config, prefix_ids is not None)
        if config.sample and config.seed is not None:
            state = self.seed_generator.state
            state.assign(ops.cast(ops.convert_to_tensor([config.seed, 0]), state.dtype))
        encoded = self.encode_sources(texts, config.strict)
        results: list = [None] * len(encoded)
        for rows in length_sorted_batches(encoded, config.batch_size):
            forced = None if prefix_ids is None else [prefix_ids[i] for i in rows]
            batch, limits, width = batch_shape([encoded[i] for i in rows], config, compiles_per_shape(), forced)
            forced = None if forced is None else forced_ids(forced, len(limits), width)
            with recurrent_dropout_off(self.model):  # a mask drawn in a compiled search leaks (JAX)
                found = searcher.search(batch, limits, width, len(rows), forced)
            for position, row in enumerate(rows):
                results[row] = found[position]
            if progress is not None:
                progress(len(rows))
        return results


class Searcher:
    """One strategy's compiled search over a model, run a few steps at a time.

    Between runs of `CHUNK` steps it looks at which sentences have ended; once a quarter of
    the batch has, it takes their results and goes on with the others only, so a batch costs
    what its sentences need rather than what its longest one needs. A look costs about as much
    as a few steps of a small model (each run of the compiled loop has a fixed cost), so below
    `MIN_WORK` hypotheses x target vocabulary the loop runs to the end: under 128 hypotheses of
    a 4,000-token model (greedy batches of 64, the last few long sentences; measured in
    `benchmarks/decode_attention.py`), and for a character model (about 100 tokens), whose
    steps are cheap and whose outputs are long, at any batch (looking every 4 steps made
    greedy search 25 % slower there; `benchmarks/decode.py` compares with one uninterrupted loop).
    Sentences never interact in a search, so the results are those of one uninterrupted loop.
    """

    def __init__(self, model, strategy, compact: bool = True):
        self.model = model
        self.strategy = strategy
        self.chunk = CHUNK if compact else UNLIMITED
        vocab = model.target_vocab

        def begin(source_ids, max_lengths, width):
            states, memory = model.search_start(source_ids, strategy.beam)
            source_mask = ops.not_equal(source_ids, 0)
            return strategy.begin(states, vocab.start_id, max_lengths, width, memory, source_mask)

        step = model.search_step
        if strategy.needs_attention:
            if not model.has_attention:
                raise ConfigError(
                    "the coverage penalty needs attention models; this one has none (drop --coverage-penalty)."
                )
            step = model.attended_search_step

        def run(state, until):
            return run_search(strategy, step, state, vocab.end_id, until)

        self.begin, self.run = compile_search(begin), compile_state_loop(run)

    def search(self, source_ids, max_lengths, width: int, count: int | None = None, forced=None) -> list:
        """Per sentence of the batch, its output ids `(nbest, width)` and scores `(nbest,)`.

        Rows from `count` on are filler (where shapes are fixed): their results are None.
        `forced (rows, width)`, where given, holds each row's prefix ids, then zeros.
        """
        found: list = [None] * len(max_lengths)
        positions = np.arange(len(max_lengths))  # the batch position of each sentence in the state; -1: filler
        positions[len(max_lengths) if count is None else count :] = -1
        state, index = self.begin(source_ids, max_lengths, width), 0
        if forced is not None:
            state = self.strategy.with_prefix(state, forced)
        while True:
            small = len(positions) * self.strategy.beam * len(self.model.target_vocab) < MIN_WORK  # looks cost more
            index = UNLIMITED if small else index + self.chunk
            state = self.run(state, index)
            done = to_host(state.done)
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
                    state, positions = keep_sentences(state, keep, self.strategy.beam), positions[keep]


def batch_shape(sources: list[list[int]], config: SearchConfig, fixed: bool, prefixes=None) -> tuple:
    """The padded source ids `(rows, src_len)`, each row's output limit `(rows,)` and the output width.

    By default a batch is as long as its longest source, rounded up to a multiple of 8, and
    its outputs as wide as its longest limit. With `fixed` shapes (for backends that compile per
    shape) the few shapes are: source lengths in `length_bucket`'s set; an output width that
    follows from the source length alone; and a power of two of rows (or `batch_size`), the
    filler rows repeating the first source with a limit of 0, so they are done before they begin.
    `prefixes` (ids per source), where given, count towards each limit (`output_limit`).
    """
    lengths = [len(ids) for ids in prefixes] if prefixes is not None else [0] * len(sources)
    limits = [output_limit(config.max_length, len(source), length) for source, length in zip(sources, lengths)]
    if not fixed:
        width = round_up(max(limits), LENGTH_BUCKET)
        return pad_batch(sources, LENGTH_BUCKET), np.asarray(limits, dtype=np.int32), width
    length = length_bucket(max(len(source) for source in sources))
    width = round_up(max(config.max_length or default_max_length(length), *limits), LENGTH_BUCKET)
    rows = min(1 << (len(sources) - 1).bit_length(), max(config.batch_size, len(sources)))
    filler = rows - len(sources)
    return (
        pad_batch(sources + [sources[0]] * filler, length=length),
        np.asarray(limits + [0] * filler, dtype=np.int32),
        width,
    )


def length_bucket(length: int) -> int:
    """The padded source length where shapes are fixed: 8, 16, 24, 32, 48, 64, 96, 128, 192, ...

    Powers of two and one and a half times them, so a source is padded by at most half its
    length and sources up to `n` tokens take about `2 log2(n / 8)` shapes.
    """
    bucket = LENGTH_BUCKET
    while bucket < length:
        if bucket >= 2 * LENGTH_BUCKET and bucket * 3 // 2 >= length:
            return bucket * 3 // 2
        bucket *= 2
    return bucket


def kept_positions(done: np.ndarray) -> np.ndarray:
    """Which sentences a state keeps: those not done, plus done ones as filler where shapes are static.

    Where the backend compiles once per shape, the count is rounded up to a power of two (the
    filler sentences are done and change nothing); elsewhere exactly the unfinished ones stay.
    """
    going = np.flatnonzero(~done)
    if not compiles_per_shape():
        return going
    size = min(1 << int(len(going) - 1).bit_length(), len(done))
    return np.concatenate([going, np.flatnonzero(done)[: size - len(going)]])


def length_sorted_batches(sequences: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of `sequences` sorted by length (stable), cut into batches."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
