"""Greedy search: at each step take the most probable token, for a whole batch at once."""

from __future__ import annotations

from keras import ops


class GreedySearch:
    """Batched greedy decoding as one `while` loop that ends when every sentence has ended.

    `step(tokens (batch,), states) -> (log_probs (batch, vocab), states)` advances the model.
    Row `b` stops at the end id or after `max_lengths[b]` tokens, so a sentence gets the same
    output in any batch. Returns `(batch, max(max_lengths))` token ids, zeros after the end.
    """

    def __call__(self, step, initial_states, start_id: int, end_id: int, max_lengths):
        max_lengths = ops.cast(max_lengths, "int32")
        batch = ops.shape(max_lengths)[0]
        longest = ops.max(max_lengths)
        tokens = ops.full((batch,), start_id, dtype="int32")
        output = ops.zeros((batch, longest), dtype="int32")
        finished = ops.less_equal(max_lengths, 0)

        def not_done(index, tokens, states, output, finished):
            return ops.logical_not(ops.all(finished))

        def advance(index, tokens, states, output, finished):
            log_probs, states = step(tokens, states)
            best = ops.cast(ops.argmax(log_probs, axis=-1), "int32")
            best = ops.where(finished, ops.zeros_like(best), best)  # ended rows emit padding
            output = ops.slice_update(output, (0, index), ops.expand_dims(best, 1))
            ended = ops.logical_or(ops.equal(best, end_id), ops.greater_equal(index + 1, max_lengths))
            return index + 1, best, states, output, ops.logical_or(finished, ended)

        loop_vars = (ops.convert_to_tensor(0, "int32"), tokens, list(initial_states), output, finished)
        _, _, _, output, _ = ops.while_loop(not_done, advance, loop_vars)
        return output
