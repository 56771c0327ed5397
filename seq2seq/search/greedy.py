"""Greedy search: at each step take the most probable token, for a whole batch at once."""

from __future__ import annotations

from keras import ops


def output_width(max_lengths, width=None):
    """The ids buffer's width: `width` where given, else the longest limit."""
    return ops.max(max_lengths) if width is None else width


class GreedySearch:
    """Batched greedy decoding as one `while` loop that ends when every sentence has ended.

    `step(tokens (batch,), states) -> (log_probs (batch, vocab), states)` advances the model.
    Row `b` stops at the end id or after `max_lengths[b]` tokens, so a sentence gets the same
    output in any batch. Returns `(ids (batch, 1, longest), scores (batch, 1))`: the ids keep
    the end id and zeros after it; a score is the sum of the chosen tokens' log-probabilities.
    `width`, where given, fixes the ids' last axis (at least the longest limit): backends that
    compile per shape need it static.
    """

    expansion = 1  # rows of the step function per sentence

    def choose(self, log_probs):
        """The token each row takes: the most probable one."""
        return ops.cast(ops.argmax(log_probs, axis=-1), "int32")

    def __call__(self, step, initial_states, start_id: int, end_id: int, max_lengths, width=None):
        max_lengths = ops.cast(max_lengths, "int32")
        batch = ops.shape(max_lengths)[0]
        tokens = ops.full((batch,), start_id, dtype="int32")
        output = ops.zeros((batch, output_width(max_lengths, width)), dtype="int32")
        scores = ops.zeros((batch,), dtype="float32")
        finished = ops.less_equal(max_lengths, 0)

        def not_done(index, tokens, states, output, scores, finished):
            return ops.logical_not(ops.all(finished))

        def advance(index, tokens, states, output, scores, finished):
            log_probs, states = step(tokens, states)
            chosen = ops.where(finished, ops.zeros_like(tokens), self.choose(log_probs))  # ended rows emit padding
            gained = ops.take_along_axis(log_probs, ops.expand_dims(chosen, 1), axis=1)[:, 0]
            scores = scores + ops.where(finished, 0.0, gained)
            output = ops.slice_update(output, (0, index), ops.expand_dims(chosen, 1))
            ended = ops.logical_or(ops.equal(chosen, end_id), ops.greater_equal(index + 1, max_lengths))
            return index + 1, chosen, states, output, scores, ops.logical_or(finished, ended)

        loop_vars = (ops.convert_to_tensor(0, "int32"), tokens, list(initial_states), output, scores, finished)
        _, _, _, output, scores, _ = ops.while_loop(not_done, advance, loop_vars)
        return ops.expand_dims(output, 1), ops.expand_dims(scores, 1)
