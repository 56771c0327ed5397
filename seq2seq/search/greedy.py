"""Greedy search: at each step take the most probable token, for a whole batch at once."""

from __future__ import annotations

from keras import ops

from seq2seq.search.state import call_step, run_search


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

    `begin`, `advance` and `result` are the same search one step at a time, over the state
    described in `seq2seq.search.state`.
    """

    expansion = 1  # rows of the step function per sentence

    def choose(self, log_probs):
        """The token each row takes: the most probable one."""
        return ops.cast(ops.argmax(log_probs, axis=-1), "int32")

    def __call__(self, step, initial_states, start_id: int, end_id: int, max_lengths, width=None):
        state = self.begin(initial_states, start_id, max_lengths, width)
        return self.result(run_search(self, step, state, end_id))

    def begin(self, initial_states, start_id: int, max_lengths, width=None, memory=None, source_mask=None) -> dict:
        """The state before the first step; `memory` is what the step reads besides the states."""
        max_lengths = ops.cast(max_lengths, "int32")
        batch = ops.shape(max_lengths)[0]
        rows = {"tokens": ops.full((batch,), start_id, dtype="int32"), "states": list(initial_states)}
        if memory is not None:
            rows["memory"] = tuple(memory)
        sentences = {
            "max_lengths": max_lengths,
            "output": ops.zeros((batch, output_width(max_lengths, width)), dtype="int32"),
            "scores": ops.zeros((batch,), dtype="float32"),
            "done": ops.less_equal(max_lengths, 0),
        }
        return {"index": ops.convert_to_tensor(0, "int32"), "sentences": sentences, "rows": rows}

    def advance(self, step, state: dict, end_id: int) -> dict:
        """One step for every sentence; ended sentences emit padding and keep their score."""
        index, sentences = state["index"], state["sentences"]
        finished = sentences["done"]
        log_probs, states = call_step(step, state)
        chosen = ops.where(finished, ops.zeros_like(state["rows"]["tokens"]), self.choose(log_probs))
        gained = ops.take_along_axis(log_probs, ops.expand_dims(chosen, 1), axis=1)[:, 0]
        ended = ops.logical_or(ops.equal(chosen, end_id), ops.greater_equal(index + 1, sentences["max_lengths"]))
        return {
            "index": index + 1,
            "sentences": {
                "max_lengths": sentences["max_lengths"],
                "output": ops.slice_update(sentences["output"], (0, index), ops.expand_dims(chosen, 1)),
                "scores": sentences["scores"] + ops.where(finished, 0.0, gained),
                "done": ops.logical_or(finished, ended),
            },
            "rows": {**state["rows"], "tokens": chosen, "states": list(states)},
        }

    def result(self, state: dict):
        """`(ids (batch, 1, width), scores (batch, 1))` of the state's sentences."""
        sentences = state["sentences"]
        return ops.expand_dims(sentences["output"], 1), ops.expand_dims(sentences["scores"], 1)
