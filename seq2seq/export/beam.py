"""Greedy and beam search in NumPy over an exported decoder step: the searches of `seq2seq.search`, without Keras.

Both take `step(tokens (rows,), states, memory, k) -> Step` (`step.py`) and a batch's encoder
results, and give per sentence its output ids `(n, width)` (ending with the end id, then zeros)
and scores `(n,)`, as the Keras strategies do:

- **greedy**: the most probable token at each step; the score is the sum of the chosen tokens'
  log-probabilities.
- **beam** (`seq2seq/search/beam.py`): each sentence keeps `beam` alive hypotheses and `beam`
  finished ones. At every step the best `2 x beam` extensions of the alive ones are split into
  those that end (scored `log P / lp(length)`, GNMT's `lp = ((5 + length) / 6) ** alpha`, plus
  the coverage penalty `beta x sum log min(attention received, 1)` over the source where
  `beta > 0`; merged into the finished set) and those that go on (the best `beam` stay alive).
  A sentence is done when its `nbest`-th finished hypothesis scores at least the best any alive
  one could still reach, or at its maximum length, where every alive hypothesis ends with the
  model's probability of ending. Before `min_length` tokens the end is forbidden.

The arithmetic is float32 throughout and every selection orders ties by lower index, as
TensorFlow's `top_k` does, so texts and scores match the Keras search (scores to about 1e-6).
The best `2 x beam` extensions of a sentence are found among the `2 x beam` best tokens of each
of its hypotheses, which the step returns, never among all `beam x vocab`. Work is batched
over `sentences x beam` rows, and a sentence leaves the batch once it is done, so each step
runs only the sentences still going, over memory cut down lazily (`SentenceMemory`).
"""

from __future__ import annotations

import numpy as np

from seq2seq.export.step import Step

IMPOSSIBLE = np.float32(-1e9)  # seq2seq.layers.decoder.IMPOSSIBLE, repeated: this runner never imports Keras
COVERAGE_FLOOR = np.float32(1e-10)  # attention never received counts as this much, not log 0


def length_penalty(length, alpha: float) -> np.ndarray:
    """GNMT's `((5 + length) / 6) ** alpha` in float32 (Wu et al. 2016)."""
    return np.power((np.float32(5.0) + np.asarray(length, np.float32)) / np.float32(6.0), np.float32(alpha))


class SentenceMemory:
    """The encoder memory of a batch's sentences, `rows` per sentence, cut down lazily as sentences end.

    Copying the memory (encoder outputs and attention keys, `rows x src_len x units`) for the
    sentences still going at every step costs more than the step itself at beam 5. So it is cut
    down only once a quarter of the sentences it holds have ended; until then the step runs
    over all of them, the ended ones on filler rows whose results are dropped. That is what the
    Keras search does between its compiled runs, and gives the same results. The cut copies
    into a second buffer made once, so no step allocates memory-sized arrays afresh.
    """

    def __init__(self, step, memory: dict, sentences: int, rows: int):
        self.step, self.memory, self.rows = step, memory, rows
        self.full = dict(memory)  # the buffers the memory lies at the start of
        self.spare = {name: np.empty_like(value) for name, value in memory.items()}
        self.held = np.arange(sentences)  # the batch positions of the sentences `memory` holds, ascending

    def __call__(self, going: np.ndarray, tokens: np.ndarray, states: list, k: int):
        """`step` for the sentences at batch positions `going` (ascending), `rows` each, in that order."""
        if len(going) == len(self.held):
            return self.step(tokens, states, self.memory, k)
        slots = np.searchsorted(self.held, going)
        if len(self.held) - len(going) >= len(self.held) / 4:  # a quarter has ended: cut the memory down
            rows = self.rows_of(slots)
            for name, value in self.memory.items():
                self.memory[name] = np.take(value, rows, axis=0, out=self.spare[name][: len(rows)], mode="clip")
                self.spare[name], self.full[name] = self.full[name], self.spare[name]
            self.held = going
            return self.step(tokens, states, self.memory, k)
        rows, everyone = self.rows_of(slots), len(self.held) * self.rows
        filled = np.zeros(everyone, tokens.dtype)
        filled[rows] = tokens
        padded = []
        for state in states:
            padded.append(np.zeros((everyone, *state.shape[1:]), state.dtype))
            padded[-1][rows] = state
        found = self.step(filled, padded, self.memory, k)
        return Step(
            found.values[rows],
            found.ids[rows],
            found.ending[rows],
            [state[rows] for state in found.states],
            None if found.weights is None else found.weights[rows],
        )

    def first(self, tokens: np.ndarray, states: list, k: int):
        """`step` for every sentence at the first step, where its `rows` hypotheses are one: run once, repeated."""

        def once(value):
            return np.ascontiguousarray(value[:: self.rows])

        memory = {name: once(value) for name, value in self.memory.items()}
        found = self.step(once(tokens), [once(state) for state in states], memory, k)
        return Step(*(None if part is None else repeat(part, self.rows) for part in found))

    def rows_of(self, slots: np.ndarray) -> np.ndarray:
        return (slots[:, None] * self.rows + np.arange(self.rows)).reshape(-1)


def repeat(part, times: int):
    """Each row of an array (or of each array of a list) `times` times."""
    if isinstance(part, list):
        return [np.repeat(value, times, axis=0) for value in part]
    return np.repeat(part, times, axis=0)


def greedy_search(step, states: list, memory: dict, start_id: int, end_id: int, limits: np.ndarray) -> list:
    """Per sentence `(ids (1, width), scores (1,))`: the most probable token at each step, until the end id."""
    batch, width = len(limits), int(limits.max(initial=0))
    output, scores = np.zeros((batch, width), np.int32), np.zeros(batch, np.float32)
    going = np.flatnonzero(limits > 0)  # the sentences still decoding
    step = SentenceMemory(step, memory, batch, 1)
    tokens = np.full(len(going), start_id, np.int32)
    states = [state[going] for state in states]
    for index in range(width):
        if len(going) == 0:
            break
        found = step(going, tokens, states, 1)
        tokens, states = found.ids[:, 0], found.states
        output[going, index] = tokens
        scores[going] += found.values[:, 0]
        keep = (tokens != end_id) & (index + 1 < limits[going])
        if not keep.all():
            going, tokens = going[keep], tokens[keep]
            states = [state[keep] for state in states]
    return [(output[row : row + 1], scores[row : row + 1]) for row in range(batch)]


def sorted_top(values: np.ndarray, k: int, *tie_breaks: np.ndarray) -> np.ndarray:
    """Positions of the `k` largest of each row, best first; ties by `tie_breaks` (lowest first), then position."""
    keys = tuple(reversed(tie_breaks)) + (-values,)
    return np.lexsort(keys, axis=-1)[..., :k] if tie_breaks else np.argsort(-values, axis=-1, kind="stable")[..., :k]


def pick(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """`values (batch, m, ...)` at `positions (batch, k)` along axis 1 -> `(batch, k, ...)`."""
    return values[np.arange(len(values))[:, None], positions]


class BeamSearch:
    """Beam search with length and coverage penalties, a minimum length and n-best output."""

    def __init__(self, beam: int, nbest: int = 1, alpha: float = 0.0, beta: float = 0.0, min_length: int = 0):
        self.beam, self.nbest, self.alpha, self.beta, self.min_length = beam, nbest, alpha, beta, min_length

    def __call__(self, step, states, memory, source_mask, start_id: int, end_id: int, limits: np.ndarray) -> list:
        """Per sentence `(ids (nbest, width), scores (nbest,))`, best first; impossible ones score -1e9.

        `states` and `memory` hold one row per sentence; `source_mask (batch, src_len)` is True
        on real source tokens (the coverage penalty sums over those).
        """
        beam, batch, width = self.beam, len(limits), int(limits.max(initial=0))
        found: list = [None] * batch
        self.going, self.limits = np.arange(batch), np.asarray(limits)
        self.alive = np.zeros((batch, beam, width), np.int32)
        self.alive_scores = np.tile(np.where(np.arange(beam) == 0, 0, IMPOSSIBLE).astype(np.float32), (batch, 1))
        self.finished = np.zeros((batch, beam, width), np.int32)
        self.finished_scores = np.full((batch, beam), IMPOSSIBLE, np.float32)
        self.tokens = np.full(batch * beam, start_id, np.int32)
        self.states = [np.repeat(state, beam, axis=0) for state in states]
        self.step = SentenceMemory(
            step, {name: np.repeat(value, beam, axis=0) for name, value in memory.items()}, batch, beam
        )
        self.mask = np.asarray(source_mask, np.float32)
        self.coverage = np.zeros((batch * beam, self.mask.shape[1]), np.float32) if self.beta else None
        for index in range(width):
            if len(self.going) == 0:
                break
            done = self.advance(index, end_id)
            for row in np.flatnonzero(done):
                found[self.going[row]] = (self.finished[row, : self.nbest], self.finished_scores[row, : self.nbest])
            self.keep(np.flatnonzero(~done))
        return found

    def advance(self, index: int, end_id: int) -> np.ndarray:
        """Extend every alive hypothesis by one token; which sentences are now done."""
        beam, alive_scores = self.beam, self.alive_scores
        sentences = len(self.going)
        forbid_end = index < self.min_length
        k = 2 * beam + forbid_end
        if index == 0:  # all hypotheses are the start yet: one step row per sentence is enough
            found = self.step.first(self.tokens, self.states, k)
        else:
            found = self.step(self.going, self.tokens, self.states, k)
        values, ids, ending = found.values, found.ids, found.ending
        if forbid_end:
            values, ending = np.where(ids == end_id, IMPOSSIBLE, values), np.full_like(ending, IMPOSSIBLE)
        k = values.shape[1]
        # The candidates: alive score + log-probability, ordered as top_k over (beam x vocab) orders them.
        candidates = (alive_scores[:, :, None] + values.reshape(sentences, beam, k)).reshape(sentences, beam * k)
        origins = np.repeat(np.arange(beam, dtype=np.int32), k)[None].repeat(sentences, 0)
        tokens = ids.reshape(sentences, beam * k)
        top = sorted_top(candidates, 2 * beam, origins, tokens)
        top_scores, origin, token = pick(candidates, top), pick(origins, top), pick(tokens, top)
        at_limit = index + 1 >= self.limits
        if at_limit.any():  # there every alive hypothesis ends, best first; the other slots are impossible
            ending = alive_scores + ending.reshape(sentences, beam)
            ends_first = sorted_top(ending, beam)
            pad = np.full((sentences, beam), IMPOSSIBLE, np.float32)
            limited = at_limit[:, None]
            top_scores = np.where(limited, np.concatenate([pick(ending, ends_first), pad], axis=1), top_scores)
            origin = np.where(limited, np.concatenate([ends_first, np.zeros_like(ends_first)], axis=1), origin)
            token = np.where(limited, np.concatenate([np.full_like(ends_first, end_id), 0 * ends_first], 1), token)
        extended = pick(self.alive, origin)
        extended[:, :, index] = token
        ends = token == end_id

        keep = sorted_top(np.where(ends, IMPOSSIBLE, top_scores), beam)
        self.alive_scores, self.alive = pick(np.where(ends, IMPOSSIBLE, top_scores), keep), pick(extended, keep)
        normalised = top_scores / length_penalty(index + 1, self.alpha)
        if self.coverage is not None:
            self.coverage = self.coverage + found.weights
            normalised = normalised + self.coverage_penalty(origin)
        normalised = np.where(ends, normalised, IMPOSSIBLE)
        merged = np.concatenate([self.finished_scores, normalised], axis=1)
        best = sorted_top(merged, beam)
        self.finished_scores = pick(merged, best)
        self.finished = pick(np.concatenate([self.finished, extended], axis=1), best)

        rows = (np.arange(sentences)[:, None] * beam + pick(origin, keep)).reshape(-1)
        self.tokens = pick(token, keep).reshape(-1)
        self.states = [state[rows] for state in found.states]
        if self.coverage is not None:
            self.coverage = self.coverage[rows]
        reachable = self.alive_scores.max(axis=1) / length_penalty(self.limits, self.alpha)
        # The n-best are final once the n-th best finished hypothesis beats anything still alive.
        return (self.finished_scores[:, self.nbest - 1] >= reachable) | at_limit

    def coverage_penalty(self, origin: np.ndarray) -> np.ndarray:
        """`beta x sum_j log(min(coverage_j, 1))` over the real source tokens, per extension `(batch, 2 x beam)`."""
        per_sentence = self.coverage.reshape(len(self.going), self.beam, -1)
        received = np.log(np.clip(pick(per_sentence, origin), COVERAGE_FLOOR, np.float32(1.0)))
        return np.float32(self.beta) * np.sum(received * self.mask[:, None], axis=-1)

    def keep(self, sentences: np.ndarray) -> None:
        """Go on with only the sentences at positions `sentences` (those not done)."""
        if len(sentences) == len(self.going):
            return
        rows = (sentences[:, None] * self.beam + np.arange(self.beam)).reshape(-1)
        for name in ("going", "limits", "alive", "alive_scores", "finished", "finished_scores", "mask"):
            setattr(self, name, getattr(self, name)[sentences])
        self.tokens, self.states = self.tokens[rows], [state[rows] for state in self.states]
        if self.coverage is not None:
            self.coverage = self.coverage[rows]
