"""The shape every search strategy shares: `begin`, `advance` one step, `result`, and its settings.

A strategy never sees a model: it receives a step callable
`step(tokens (rows,), states[, memory]) -> (log_probs (rows, vocab), states[, attention weights])`
and carries a `SearchState` (see `seq2seq.search.state`) through a compiled `while` loop.
`get_config()`/`from_config()` give its settings as a dict and back, as Keras objects do.
"""

from __future__ import annotations

from keras import ops

from seq2seq.search.state import Rows, SearchState, run_search


class SearchStrategy:
    """A search over a step callable; subclasses say what they keep per sentence and how a step extends it.

    `beam` is the number of step rows (hypotheses) per sentence; `needs_attention` says whether the step
    must also return attention weights `(rows, src_len)`.
    """

    beam = 1
    needs_attention = False

    def __call__(self, step, initial_states, start_id: int, end_id: int, max_lengths, width=None, prefix=None):
        """The whole search in one loop: `(ids (batch, n, width), scores (batch, n))`."""
        state = self.begin(initial_states, start_id, max_lengths, width, prefix=prefix)
        return self.result(run_search(self, step, state, end_id))

    def begin(self, initial_states, start_id: int, max_lengths, width=None, memory=(), source_mask=None, prefix=None):
        """The state before the first step.

        `initial_states` have one row per sentence, `memory` (what the step reads besides the
        states, `()` or None for nothing) one per hypothesis; `source_mask (batch, src_len)` is
        True on real source tokens. `width`, where given, fixes the output buffers' last axis (at
        least the longest limit): backends that compile per shape need it static. `prefix`, where
        given, is forced first (see `with_prefix`).
        """
        max_lengths = ops.cast(max_lengths, "int32")
        batch = ops.shape(max_lengths)[0]
        width = ops.max(max_lengths) if width is None else width
        expand = (lambda state: ops.repeat(state, self.beam, axis=0)) if self.beam > 1 else (lambda s: s)
        rows = Rows(
            tokens=ops.full((batch * self.beam,), start_id, dtype="int32"),
            states=tuple(expand(state) for state in initial_states),
            memory=() if memory is None else tuple(memory),
        )
        found = self.found_before(batch, width, source_mask)
        state = SearchState(ops.convert_to_tensor(0, "int32"), max_lengths, ops.less_equal(max_lengths, 0), found, rows)
        return state if prefix is None else self.with_prefix(state, prefix)

    def with_prefix(self, state: SearchState, prefix) -> SearchState:
        """`state` (before its first step) with each sentence's output forced to start with its prefix.

        `prefix (batch, width)` int32 holds each sentence's prefix ids, then zeros; at step `t`
        a sentence whose `prefix[:, t]` is not zero takes that token, scored with the model's
        log-probability of it, so a score counts the prefix, and lengths, `min_length`, n-gram
        blocking and the coverage penalty count it as part of the output. A prefix must leave
        room within the sentence's limit for the end. (Outside the compiled `begin`, so that its
        signature stays one for every search; a prefixed state has a compiled loop of its own.)
        """
        return state._replace(found=state.found._replace(forced=ops.convert_to_tensor(prefix, "int32")))

    def found_before(self, batch, width, source_mask):
        """The strategy's per-sentence buffers before the first step (a NamedTuple with a `forced` field, `()`)."""
        raise NotImplementedError

    def advance(self, step, state: SearchState, end_id: int) -> SearchState:
        """One step for every sentence; done sentences keep what they have found."""
        raise NotImplementedError

    def result(self, state: SearchState):
        """`(ids (batch, n, width), scores (batch, n))` of the state's sentences, best first."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """The settings that make this strategy, as keyword arguments of its constructor."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.get_config().items())
        return f"{type(self).__name__}({settings})"


def forced_tokens(forced, index):
    """`(batch,)` int32: the prefix token each sentence must take at step `index` (0: none); None without prefixes."""
    if isinstance(forced, tuple):
        return None
    return ops.take(forced, index, axis=1)
