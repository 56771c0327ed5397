"""Scoring given pairs: the log-probability a model gives a target sentence after its source, as the searches count it.

The target's ids are fed to the very step the searches run (`search_start`, then `search_step`
once per token, teacher-forced: the step's input is the previous target token), and the
log-probability of each next token, the end id last, is summed in the order a search sums it.
So the score of a search's output is the score that search reported: for greedy search the sum,
for beam search that sum normalised by its length penalty (the length counting the end) plus its
coverage penalty, computed from the attention the same steps return. An ensemble's step is the
mean of its models' log-probabilities, so its scores are what its searches report too. Pairs are
batched by length and run in one compiled loop per batch, as the searches are.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from keras import ops

from seq2seq.compiled_loops import compile_search, compile_state_loop, compiles_per_shape
from seq2seq.data.batching import pad_batch
from seq2seq.data.vocabulary import report_unknown, unknown_tokens_in
from seq2seq.errors import ConfigError
from seq2seq.host import to_host
from seq2seq.layers.recurrent import recurrent_dropout_off
from seq2seq.search.beam import gnmt_length_penalty
from seq2seq.search.config import SearchConfig
from seq2seq.search.state import Rows, call_step
from seq2seq.translation.steps import StepModel
from seq2seq.translation.translator import (
    LENGTH_BUCKET,
    length_bucket,
    search_config,
)


class PairScore(NamedTuple):
    """How likely a model finds one target after its source."""

    total: float  # log P(target tokens, then the end | source): the sum over `tokens` steps
    tokens: int  # the target's tokens plus one for the end
    per_token: float  # total / tokens
    normalised: float  # the score the search of the given SearchConfig reports for this output (greedy: total)


class ScoreState(NamedTuple):
    """Teacher-forced scoring between two steps; every tensor but `index` starts with the batch axis."""

    index: Any  # () int32: the steps taken
    tokens: Any  # (batch, width) int32: the start id, the target ids, the end id, then padding
    lengths: Any  # (batch,) int32: the steps each row scores (target tokens + 1); 0 for filler rows
    totals: Any  # (batch,) float32: the log-probabilities summed so far
    coverage: Any  # (batch, src_len) float32: the attention each source position has received; or ()
    rows: Rows  # what the step reads: the current token, the decoder states, the memory


def score_pairs(model: StepModel, pairs, search: SearchConfig | None = None, progress=None, **overrides):
    """A `PairScore` per `(source, target)` pair, in the given order.

    `search` (a `SearchConfig`; keyword arguments override its fields, as for `translate`) says
    which search's score `normalised` is: beam search's length and coverage penalties where
    `beam` > 1, the plain sum otherwise; its `batch_size` and `strict` apply as they do to a
    search. A model keeps its `Scorer` where it has a `scorer` attribute; else one is made.
    """
    scorer = getattr(model, "scorer", None)
    if not isinstance(scorer, Scorer):
        scorer = Scorer(model)
    return scorer.score(pairs, search_config(search, **overrides), progress)


class Scorer:
    """Compiled teacher-forced scoring over a `StepModel`: one program without attention, one with (built on use)."""

    def __init__(self, model: StepModel):
        self.model = model
        self._compiled: dict[bool, tuple] = {}

    def score(self, pairs, config: SearchConfig, progress=None) -> list[PairScore]:
        """Encode the pairs (unknown tokens reported as `translate` reports them) and score them."""
        pairs = list(pairs)
        if not all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in pairs) or not all(
            isinstance(text, str) for pair in pairs for text in pair
        ):
            raise TypeError("score_pairs() takes a list of (source, target) pairs of texts.")
        model = self.model
        sources = [source for source, _ in pairs]
        source_ids = [model.source_vocab.encode(text) for text in sources]
        report_unknown(unknown_tokens_in(model.source_vocab, sources, source_ids), config.strict, stacklevel=4)
        targets = [target for _, target in pairs]
        target_ids = [model.target_vocab.encode(text) for text in targets]
        report_unknown(
            unknown_tokens_in(model.target_vocab, targets, target_ids), config.strict, side="target", stacklevel=4
        )
        return self.score_ids(source_ids, target_ids, config, progress)

    def score_ids(self, source_ids, target_ids, config: SearchConfig, progress=None) -> list[PairScore]:
        """A `PairScore` per pair of id lists (without start or end ids), in the given order.

        Beam search's score is `total / ((5 + tokens) / 6) ** length_penalty` plus GNMT's coverage
        term `coverage_penalty x sum over the source of log(min(attention received, 1))`.
        """
        attended = config.beam > 1 and config.coverage_penalty > 0
        if attended and not self.model.has_attention:
            raise ConfigError(
                "the coverage penalty needs attention models; this one has none (drop --coverage-penalty)."
            )
        begin, run = self._compiled_for(attended)
        totals = np.zeros(len(source_ids), dtype=np.float32)
        terms = np.zeros(len(source_ids), dtype=np.float32)
        for rows in length_sorted(source_ids, target_ids, config.batch_size):
            sources, tokens, lengths = batch_arrays(
                [source_ids[i] for i in rows], [target_ids[i] for i in rows], self.model.target_vocab, config
            )
            with recurrent_dropout_off(self.model):
                states, memory, mask = begin(sources, lengths, tokens.shape[1])
                coverage = ops.zeros(ops.shape(mask), dtype="float32") if attended else ()
                state = ScoreState(
                    ops.convert_to_tensor(0, "int32"),
                    ops.convert_to_tensor(tokens),
                    ops.convert_to_tensor(lengths),
                    ops.zeros((len(lengths),), dtype="float32"),
                    coverage,
                    Rows(ops.convert_to_tensor(tokens[:, 0]), tuple(states), () if memory is None else tuple(memory)),
                )
                state = run(state, int(lengths.max(initial=0)))
            totals[rows] = to_host(state.totals)[: len(rows)]
            if attended:
                received = np.log(np.clip(to_host(state.coverage), 1e-10, 1.0)) * to_host(mask, "float32")
                terms[rows] = config.coverage_penalty * received.sum(axis=-1)[: len(rows)]
            if progress is not None:
                progress(len(rows))
        lengths = lengths_of(target_ids)
        normalised = totals
        if config.beam > 1 and not config.sample:
            normalised = totals / to_host(gnmt_length_penalty(lengths, config.length_penalty)) + terms
        return [
            PairScore(float(total), int(length), float(total) / int(length), float(norm))
            for total, length, norm in zip(totals, lengths, normalised)
        ]

    def _compiled_for(self, attended: bool) -> tuple:
        """`(begin, run)` compiled for this backend, with or without the step's attention weights."""
        if attended not in self._compiled:
            self._compiled[attended] = compile_scoring(self.model, attended)
        return self._compiled[attended]


def compile_scoring(model: StepModel, attended: bool) -> tuple:
    """`begin(source_ids, lengths, width) -> (states, memory, source mask)` and `run(state, until) -> state`.

    `run` advances a `ScoreState` by teacher-forced steps until its index reaches `until`: at
    step `t` each row reads token `t` and adds the log-probability of token `t + 1`, while `t`
    is below its length; with `attended` it also adds the step's attention to its coverage.
    """
    step = model.attended_search_step if attended else model.search_step

    def begin(source_ids, lengths, width):
        states, memory = model.search_start(source_ids, 1)
        return tuple(states), memory, ops.not_equal(source_ids, 0)

    def advance(state: ScoreState) -> ScoreState:
        index = state.index
        rows = state.rows._replace(tokens=ops.take(state.tokens, index, axis=1))
        if attended:
            log_probs, states, weights = call_step(step, rows)
        else:
            log_probs, states = call_step(step, rows)
        following = ops.take(state.tokens, index + 1, axis=1)
        gained = ops.cast(ops.take_along_axis(log_probs, ops.expand_dims(following, 1), axis=1)[:, 0], "float32")
        scored = ops.less(index, state.lengths)
        coverage = state.coverage
        if attended:
            coverage = coverage + ops.where(ops.expand_dims(scored, 1), ops.cast(weights, "float32"), 0.0)
        totals = state.totals + ops.where(scored, gained, 0.0)
        return ScoreState(index + 1, state.tokens, state.lengths, totals, coverage, rows._replace(states=tuple(states)))

    def run(state: ScoreState, until) -> ScoreState:
        # Keras' while_loop spreads a tuple over the callables' arguments: the state goes in a 1-tuple.
        (state,) = ops.while_loop(lambda state: ops.less(state.index, until), lambda state: (advance(state),), (state,))
        return state

    return compile_search(begin), compile_state_loop(run)


def batch_arrays(sources, targets, target_vocab, config: SearchConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded source ids `(rows, src_len)`, the teacher-forced tokens `(rows, width)` and each row's steps `(rows,)`.

    A row of tokens is the start id, the target ids and the end id. Lengths are rounded up to
    multiples of 8; where the backend compiles per shape, to `length_bucket`'s few lengths and a
    power of two of rows, the filler rows scoring no step (as the searches' batches are shaped).
    """
    tokens = [[target_vocab.start_id, *ids, target_vocab.end_id] for ids in targets]
    if not compiles_per_shape():
        return pad_batch(sources, LENGTH_BUCKET), pad_batch(tokens, LENGTH_BUCKET), lengths_of(targets)
    rows = min(1 << (len(sources) - 1).bit_length(), max(config.batch_size, len(sources)))
    filler = rows - len(sources)
    return (
        pad_batch(sources + [sources[0]] * filler, length=length_bucket(max(map(len, sources)))),
        pad_batch(tokens + [tokens[0]] * filler, length=length_bucket(max(map(len, tokens)))),
        np.concatenate([lengths_of(targets), np.zeros(filler, dtype=np.int32)]),
    )


def lengths_of(targets) -> np.ndarray:
    """The steps each target takes: its tokens and the end."""
    return np.asarray([len(ids) + 1 for ids in targets], dtype=np.int32)


def length_sorted(source_ids, target_ids, batch_size: int) -> list[list[int]]:
    """Indices of the pairs sorted by source length, then target length (stable), cut into batches."""
    order = sorted(range(len(source_ids)), key=lambda i: (len(source_ids[i]), len(target_ids[i])))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
