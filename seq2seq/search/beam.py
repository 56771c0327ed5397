"""Beam search with a length penalty, n-best output, length limits and n-gram blocking.

Each sentence keeps `beam` alive hypotheses and `beam` finished ones. At every step the alive
ones are extended by every token; the best `2 x beam` extensions are split into those that
end (scored `log P / lp(length)` with the GNMT penalty `lp = ((5 + length) / 6) ** alpha`,
then merged into the finished set) and those that go on (the best `beam` stay alive).
Finished hypotheses are frozen. A sentence is done when its `nbest`-th finished hypothesis
beats the best score any alive one could still reach (so the n-best can no longer change), or at
its maximum length (where every alive hypothesis is ended with the model's probability of ending).
Sentences never interact, so a batch gives each sentence the result it gets alone.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from keras import ops

from seq2seq.layers.decoder import IMPOSSIBLE
from seq2seq.search.state import SearchState, call_step
from seq2seq.search.strategy import SearchStrategy, forced_tokens


class Beams(NamedTuple):
    """Per sentence: `beam` alive and `beam` finished hypotheses, and for the coverage penalty the attention so far."""

    alive: Any  # (batch, beam, width) int32
    alive_scores: Any  # (batch, beam) float32: log-probabilities
    finished: Any  # (batch, beam, width) int32
    finished_scores: Any  # (batch, beam) float32: length-normalised, best first
    coverage: Any  # (batch, beam, src_len) float32: the attention each source position has received; or ()
    source_mask: Any  # (batch, src_len) float32: 1 on real source tokens; or ()
    forced: Any = ()  # (batch, width) int32: each sentence's prefix ids, then zeros; () without prefixes


def gnmt_length_penalty(length, alpha: float):
    """GNMT length normalisation `((5 + length) / 6) ** alpha` (Wu et al. 2016)."""
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


class BeamSearch(SearchStrategy):
    """`beam` hypotheses per sentence, `batch x beam` rows of the step function.

    The result is `(ids (batch, nbest, width), scores (batch, nbest))`, best first; ids keep the
    end id and zeros after it; scores are length-normalised log-probabilities, with the
    coverage penalty (GNMT's beta) added where `coverage_penalty` > 0.
    """

    def __init__(
        self,
        beam: int = 5,
        nbest: int = 1,
        length_penalty: float = 0.0,
        min_length: int = 0,
        no_repeat_ngram: int = 0,
        coverage_penalty: float = 0.0,
    ):
        self.beam = beam
        self.nbest = nbest
        self.length_penalty = length_penalty
        self.min_length = min_length
        self.no_repeat_ngram = no_repeat_ngram
        self.coverage_penalty = coverage_penalty

    def get_config(self) -> dict:
        names = ("beam", "nbest", "length_penalty", "min_length", "no_repeat_ngram", "coverage_penalty")
        return {name: getattr(self, name) for name in names}

    @property
    def needs_attention(self) -> bool:
        """Whether the step must also return attention weights `(rows, src_len)`: for the coverage penalty."""
        return self.coverage_penalty > 0

    def found_before(self, batch, width, source_mask):
        beam = self.beam
        first_only = ops.where(ops.arange(beam) == 0, 0.0, IMPOSSIBLE)  # all beams start equal: expand one
        coverage = mask = ()
        if self.needs_attention:  # the attention each source position has received, and which are real
            mask = ops.cast(source_mask, "float32")
            coverage = ops.zeros((batch, beam, ops.shape(mask)[1]), dtype="float32")
        return Beams(
            alive=ops.zeros((batch, beam, width), dtype="int32"),
            alive_scores=ops.zeros((batch, beam), dtype="float32") + first_only,
            finished=ops.zeros((batch, beam, width), dtype="int32"),
            finished_scores=ops.full((batch, beam), IMPOSSIBLE, dtype="float32"),
            coverage=coverage,
            source_mask=mask,
        )

    def advance(self, step, state: SearchState, end_id: int) -> SearchState:
        """Extend every alive hypothesis by one token; done sentences stay as they are."""
        beam, index, max_lengths, done, found = self.beam, state.index, state.max_lengths, state.done, state.found
        batch = ops.shape(max_lengths)[0]
        if self.needs_attention:
            log_probs, states, weights = call_step(step, state.rows)
            # In float32 whatever the model computes in: bfloat16 weights would not add to the float32 coverage.
            coverage = found.coverage + ops.reshape(ops.cast(weights, "float32"), (batch, beam, -1))
        else:
            log_probs, states = call_step(step, state.rows)
        vocab = ops.shape(log_probs)[-1]
        log_probs = ops.reshape(log_probs, (batch, beam, vocab))
        log_probs = _forced(log_probs, self._allowed(log_probs, found.alive, index, end_id), found.forced, index)
        candidates = ops.reshape(ops.expand_dims(found.alive_scores, -1) + log_probs, (batch, beam * vocab))
        top_scores, top = self._at_limit_only_ends(
            ops.top_k(candidates, 2 * beam), found.alive_scores, log_probs, index, end_id, max_lengths
        )
        origin, token = top // vocab, ops.cast(top % vocab, "int32")
        extended = ops.slice_update(_gather_rows(found.alive, origin), (0, 0, index), ops.expand_dims(token, -1))
        ends = ops.equal(token, end_id)

        new_alive_scores, keep = ops.top_k(ops.where(ends, IMPOSSIBLE, top_scores), beam)
        new_alive = _gather_rows(extended, keep)
        new_origin = ops.take_along_axis(origin, keep, axis=1)
        normalised = top_scores / gnmt_length_penalty(index + 1, self.length_penalty)
        if self.needs_attention:
            normalised = normalised + self._coverage_penalty(coverage, found.source_mask, origin)
            coverage = _gather_rows(coverage, new_origin)
        # Only real hypotheses finish: not those of beams never filled (after a prefix, where one hypothesis went on).
        normalised = ops.where(ops.logical_and(ends, top_scores > IMPOSSIBLE / 2), normalised, IMPOSSIBLE)
        new_finished_scores, best = ops.top_k(ops.concatenate([found.finished_scores, normalised], axis=1), beam)
        new_finished = _gather_rows(ops.concatenate([found.finished, extended], axis=1), best)

        frozen = ops.expand_dims(done, -1)
        alive_scores = ops.where(frozen, found.alive_scores, new_alive_scores)
        finished_scores = ops.where(frozen, found.finished_scores, new_finished_scores)
        alive = ops.where(ops.expand_dims(frozen, -1), found.alive, new_alive)
        finished = ops.where(ops.expand_dims(frozen, -1), found.finished, new_finished)
        rows = ops.reshape(ops.expand_dims(ops.arange(batch) * beam, 1) + ops.cast(new_origin, "int32"), (-1,))
        reachable = ops.max(alive_scores, axis=1) / gnmt_length_penalty(max_lengths, self.length_penalty)
        # The n-best are final once the n-th best finished hypothesis beats anything still alive.
        settled = ops.greater_equal(finished_scores[:, self.nbest - 1], reachable)
        at_limit = ops.greater_equal(index + 1, max_lengths)
        found = found._replace(
            alive=alive,
            alive_scores=alive_scores,
            finished=finished,
            finished_scores=finished_scores,
            coverage=coverage if self.needs_attention else (),
        )
        rows = state.rows._replace(
            tokens=ops.reshape(ops.take_along_axis(token, keep, axis=1), (-1,)),
            states=tuple(ops.take(layer_state, rows, axis=0) for layer_state in states),
        )
        return SearchState(index + 1, max_lengths, ops.logical_or(done, ops.logical_or(settled, at_limit)), found, rows)

    def _coverage_penalty(self, coverage, source_mask, origin):
        """GNMT's `beta * sum_j log(min(coverage_j, 1))` over the real source tokens, for each extension.

        `coverage (batch, beam, src_len)` sums each hypothesis's attention so far, this step's
        included; `origin (batch, 2 x beam)` says which hypothesis each extension extends. A
        position never attended is floored at 1e-10 of a token rather than minus infinity.
        """
        received = ops.log(ops.clip(_gather_rows(coverage, origin), 1e-10, 1.0))
        return self.coverage_penalty * ops.sum(received * ops.expand_dims(source_mask, 1), axis=-1)

    def result(self, state: SearchState):
        found = state.found
        return found.finished[:, : self.nbest], found.finished_scores[:, : self.nbest]

    def _allowed(self, log_probs, alive, index, end_id):
        """Forbid the end before `min_length`, and tokens that would repeat an n-gram."""
        vocab = ops.shape(log_probs)[-1]
        if self.min_length:
            is_end = ops.reshape(ops.equal(ops.arange(vocab), end_id), (1, 1, -1))
            log_probs = ops.where(ops.logical_and(is_end, index < self.min_length), IMPOSSIBLE, log_probs)
        if self.no_repeat_ngram:
            log_probs = ops.where(
                repeated_ngram_tokens(alive, index, self.no_repeat_ngram, vocab), IMPOSSIBLE, log_probs
            )
        return log_probs

    def _at_limit_only_ends(self, top, alive_scores, log_probs, index, end_id, max_lengths):
        """The best `2 x beam` extensions `(scores, flat indices)`, where a sentence at its limit may only end.

        There every alive hypothesis ends with the model's own probability of ending, best
        first, and the other slots are impossible: the same as masking every other token, without
        a pass over the whole `(batch, beam, vocab)` tensor.
        """
        top_scores, top = top
        beam, vocab = self.beam, ops.shape(log_probs)[-1]
        ending_scores, ending_origin = ops.top_k(alive_scores + log_probs[:, :, end_id], beam)
        batch = ops.shape(alive_scores)[0]
        ending_scores = ops.concatenate([ending_scores, ops.full((batch, beam), IMPOSSIBLE, dtype="float32")], axis=1)
        ending = ops.concatenate(
            [ops.cast(ending_origin, "int32") * vocab + end_id, ops.zeros((batch, beam), dtype="int32")], axis=1
        )
        at_limit = ops.expand_dims(ops.greater_equal(index + 1, max_lengths), 1)
        return ops.where(at_limit, ending_scores, top_scores), ops.where(at_limit, ending, ops.cast(top, "int32"))


def repeated_ngram_tokens(ids, length, n: int, vocab):
    """`(batch, beam, vocab)` True where a token would repeat an n-gram already in `ids[..., :length]`."""
    prefix = [ops.take(ids, ops.maximum(length - n + 1 + i, 0), axis=2) for i in range(n - 1)]
    shape = ops.shape(ids)

    def mark(position, banned):
        same = ops.ones((shape[0], shape[1]), dtype="bool")
        for i in range(n - 1):
            same = ops.logical_and(same, ops.equal(ops.take(ids, position - n + 1 + i, axis=2), prefix[i]))
        hits = ops.logical_and(ops.one_hot(ops.take(ids, position, axis=2), vocab) > 0, ops.expand_dims(same, -1))
        return ops.logical_or(banned, hits)

    banned = ops.zeros((shape[0], shape[1], vocab), dtype="bool")
    return ops.fori_loop(n - 1, ops.maximum(length, n - 1), mark, banned)


def _forced(log_probs, allowed, forced, index):
    """`allowed (batch, beam, vocab)`, except that a sentence still in its prefix may take only the prefix's token,
    scored by the model's own `log_probs` (neither `min_length` nor n-gram blocking holds it back)."""
    forced = forced_tokens(forced, index)
    if forced is None:
        return allowed
    only = ops.expand_dims(ops.one_hot(forced, ops.shape(log_probs)[-1]) > 0, 1)  # (batch, 1, vocab)
    prefix_step = ops.reshape(ops.greater(forced, 0), (-1, 1, 1))
    return ops.where(prefix_step, ops.where(only, log_probs, IMPOSSIBLE), allowed)


def _gather_rows(ids, picks):
    """`ids (batch, k, length)` rows chosen by `picks (batch, m)` -> `(batch, m, length)`."""
    index = ops.broadcast_to(
        ops.expand_dims(ops.cast(picks, "int32"), -1), (ops.shape(picks)[0], ops.shape(picks)[1], ops.shape(ids)[2])
    )
    return ops.take_along_axis(ids, index, axis=1)
