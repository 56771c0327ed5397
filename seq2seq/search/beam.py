"""Beam search with a length penalty, n-best output, length limits and n-gram blocking.

Each sentence keeps `beam` alive hypotheses and `beam` finished ones. At every step the alive
ones are extended by every token; the best `2 x beam` extensions are split into those that
end (scored `log P / lp(length)` with the GNMT penalty `lp = ((5 + length) / 6) ** alpha`,
then merged into the finished set) and those that go on (the best `beam` stay alive).
Finished hypotheses are frozen. A sentence is done when its worst finished hypothesis beats
the best score any alive one could still reach, or at its maximum length (where every alive
hypothesis is ended with the model's probability of ending). Sentences never interact, so a batch gives each sentence the result
it gets alone.
"""

from __future__ import annotations

from keras import ops

from seq2seq.search.greedy import output_width

IMPOSSIBLE = -1e9


def length_penalty(length, alpha: float):
    """GNMT length normalisation `((5 + length) / 6) ** alpha` (Wu et al. 2016)."""
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


class BeamSearch:
    """`step(tokens (rows,), states) -> (log_probs (rows, vocab), states)` over `batch x beam` rows.

    Returns `(ids (batch, nbest, longest), scores (batch, nbest))`, best first; ids keep the
    end id and zeros after it; scores are length-normalised log-probabilities.
    """

    def __init__(self, beam: int = 5, nbest: int = 1, alpha: float = 0.0, min_length: int = 0, no_repeat_ngram: int = 0):
        self.beam = beam
        self.nbest = nbest
        self.alpha = alpha
        self.min_length = min_length
        self.no_repeat_ngram = no_repeat_ngram

    @property
    def expansion(self) -> int:
        """Rows of the step function per sentence."""
        return self.beam

    def __call__(self, step, initial_states, start_id: int, end_id: int, max_lengths, width=None):
        beam = self.beam
        max_lengths = ops.cast(max_lengths, "int32")
        batch = ops.shape(max_lengths)[0]
        longest = output_width(max_lengths, width)
        states = [ops.repeat(state, beam, axis=0) for state in initial_states]
        first_only = ops.where(ops.arange(beam) == 0, 0.0, IMPOSSIBLE)  # all beams start equal: expand one
        loop_vars = (
            ops.convert_to_tensor(0, "int32"),
            ops.full((batch * beam,), start_id, dtype="int32"),
            states,
            ops.zeros((batch, beam, longest), dtype="int32"),  # alive ids
            ops.zeros((batch, beam), dtype="float32") + first_only,  # alive log-probabilities
            ops.zeros((batch, beam, longest), dtype="int32"),  # finished ids
            ops.full((batch, beam), IMPOSSIBLE, dtype="float32"),  # finished scores
            ops.less_equal(max_lengths, 0),  # done
        )

        def not_done(*loop):
            return ops.logical_not(ops.all(loop[-1]))

        def advance(index, tokens, states, alive, alive_scores, finished, finished_scores, done):
            log_probs, states = step(tokens, states)
            vocab = ops.shape(log_probs)[-1]
            log_probs = self._allowed(ops.reshape(log_probs, (batch, beam, vocab)), alive, index, end_id, max_lengths)
            candidates = ops.reshape(ops.expand_dims(alive_scores, -1) + log_probs, (batch, beam * vocab))
            top_scores, top = ops.top_k(candidates, 2 * beam)
            origin, token = top // vocab, ops.cast(top % vocab, "int32")
            extended = ops.slice_update(_gather_rows(alive, origin), (0, 0, index), ops.expand_dims(token, -1))
            ends = ops.equal(token, end_id)

            new_alive_scores, keep = ops.top_k(ops.where(ends, IMPOSSIBLE, top_scores), beam)
            new_alive = _gather_rows(extended, keep)
            new_origin = ops.take_along_axis(origin, keep, axis=1)
            normalised = ops.where(ends, top_scores / length_penalty(index + 1, self.alpha), IMPOSSIBLE)
            new_finished_scores, best = ops.top_k(ops.concatenate([finished_scores, normalised], axis=1), beam)
            new_finished = _gather_rows(ops.concatenate([finished, extended], axis=1), best)

            frozen = ops.expand_dims(done, -1)
            alive_scores = ops.where(frozen, alive_scores, new_alive_scores)
            finished_scores = ops.where(frozen, finished_scores, new_finished_scores)
            alive = ops.where(ops.expand_dims(frozen, -1), alive, new_alive)
            finished = ops.where(ops.expand_dims(frozen, -1), finished, new_finished)
            rows = ops.reshape(ops.expand_dims(ops.arange(batch) * beam, 1) + ops.cast(new_origin, "int32"), (-1,))
            states = [ops.take(state, rows, axis=0) for state in states]
            tokens = ops.reshape(ops.take_along_axis(token, keep, axis=1), (-1,))
            reachable = ops.max(alive_scores, axis=1) / length_penalty(max_lengths, self.alpha)
            settled = ops.greater_equal(ops.min(finished_scores, axis=1), reachable)
            at_limit = ops.greater_equal(index + 1, max_lengths)
            done = ops.logical_or(done, ops.logical_or(settled, at_limit))
            return index + 1, tokens, states, alive, alive_scores, finished, finished_scores, done

        loop = ops.while_loop(not_done, advance, loop_vars)
        finished, finished_scores = loop[5], loop[6]
        return finished[:, : self.nbest], finished_scores[:, : self.nbest]

    def _allowed(self, log_probs, alive, index, end_id, max_lengths):
        """Forbid the end before `min_length`, repeated n-grams, and anything but the end at the limit.

        A hypothesis cut at its limit keeps the model's own probability of ending there.
        """
        vocab = ops.shape(log_probs)[-1]
        is_end = ops.reshape(ops.equal(ops.arange(vocab), end_id), (1, 1, -1))
        if self.min_length:
            log_probs = ops.where(ops.logical_and(is_end, index < self.min_length), IMPOSSIBLE, log_probs)
        if self.no_repeat_ngram:
            log_probs = ops.where(repeated_ngram_tokens(alive, index, self.no_repeat_ngram, vocab), IMPOSSIBLE, log_probs)
        at_limit = ops.reshape(ops.greater_equal(index + 1, max_lengths), (-1, 1, 1))
        only_end = ops.where(is_end, log_probs, IMPOSSIBLE)
        return ops.where(at_limit, only_end, log_probs)


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


def _gather_rows(ids, picks):
    """`ids (batch, k, length)` rows chosen by `picks (batch, m)` -> `(batch, m, length)`."""
    index = ops.broadcast_to(ops.expand_dims(ops.cast(picks, "int32"), -1), (ops.shape(picks)[0], ops.shape(picks)[1], ops.shape(ids)[2]))
    return ops.take_along_axis(ids, index, axis=1)
