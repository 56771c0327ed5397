"""The exported decoder step as the runner's searches call it: each row's k best next tokens.

`DecoderStep(run, manifest)(tokens, states, memory, k)` runs one step for `rows` hypotheses and
returns `Step`: `values (rows, k)` and `ids (rows, k)`, the k most probable next tokens by
log-probability, best first, ties by lower token id (as `top_k` and `argmax` order them in the
Keras search); `ending (rows,)`, each row's log-probability of the end id; the new states; and
the attention weights `(rows, src_len)` where the graph returns them (else None).

An ONNX export has a search step that selects inside its graph, over attention keys the encoder
computed once (`search_graphs.py`, `onnx_search.py`). A SavedModel export, or an ONNX one
written before that, has the classic decoder step, which returns probabilities; then the log is
taken and the k best are selected in NumPy (slower by a pass over `rows x vocab` values, and
the log-probabilities are those of the rounded probabilities, within about 1e-7 of Keras').
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from seq2seq.export.onnx_search import SEARCH_INPUT, SEARCH_OUTPUTS


class Step(NamedTuple):
    values: np.ndarray  # (rows, k) float32 log-probabilities, best first
    ids: np.ndarray  # (rows, k) int32 token ids
    ending: np.ndarray  # (rows,) float32 log-probability of the end id
    states: list  # the decoder states after the step, each (rows, units)
    weights: np.ndarray | None  # (rows, src_len) attention weights, or None


def top_k(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` largest of each row of `values` and their indices: best first, ties by lower index.

    That is the order of TensorFlow's and ONNX's `TopK`, so a search over these picks what the
    Keras search picks.
    """
    if k >= values.shape[-1]:
        order = np.argsort(-values, axis=-1, kind="stable")[..., :k]
        return np.take_along_axis(values, order, axis=-1), order
    part = np.argpartition(-values, k - 1, axis=-1)[..., :k]
    picked = np.take_along_axis(values, part, axis=-1)
    order = np.take_along_axis(part, np.lexsort((part, -picked), axis=-1), axis=-1)
    # Where the k-th value ties with values left out, the partition may have kept the wrong ones.
    crowded = np.flatnonzero((values >= picked.min(axis=-1, keepdims=True)).sum(axis=-1) > k)
    if len(crowded):
        order[crowded] = np.argsort(-values[crowded], axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(values, order, axis=-1), order


class DecoderStep:
    """One decoder step of an export, over `rows` hypotheses at once: the search step where there is one."""

    def __init__(self, run: Callable[[str, dict], list], manifest: dict, vocab_size: int):
        self.run = run  # run(role, feeds) -> the graph's outputs in manifest order
        self.vocab_size = vocab_size  # k is at most this
        self.state_names = manifest["state_names"]
        self.end_id = manifest["end_id"]
        self.role = "search_step" if "search_step" in manifest else "decoder"
        inputs, outputs = manifest[f"{self.role}_inputs"], manifest[f"{self.role}_outputs"]
        self.memory_names = [name for name in inputs[1:] if name not in self.state_names and name != SEARCH_INPUT]
        self.weights_at = outputs.index("attention_weights") if "attention_weights" in outputs else None
        self.first_state = 0 if self.role == "search_step" else 1  # the classic decoder gives probabilities first

    def __call__(self, tokens: np.ndarray, states: list, memory: dict, k: int) -> Step:
        k = min(k, self.vocab_size)
        feeds = {**dict(zip(self.state_names, states)), **memory}
        new_states = slice(self.first_state, self.first_state + len(self.state_names))
        if self.role == "search_step":
            feeds.update(decoder_tokens=tokens.astype(np.int32), top_k=np.array([k], dtype=np.int64))
            outputs = self.run(self.role, feeds)
            values, ids, ending = outputs[-len(SEARCH_OUTPUTS) :]
            return Step(values, ids.astype(np.int32), ending[:, 0], outputs[new_states], self.weights(outputs))
        outputs = self.run(self.role, {"decoder_tokens": tokens[:, None].astype(np.int32), **feeds})
        with np.errstate(divide="ignore"):  # a probability rounded to 0 is log 0 = -inf: never chosen
            log_probs = np.log(outputs[0][:, 0])
        if k == 1:
            ids = log_probs.argmax(axis=-1)[:, None]
            values = np.take_along_axis(log_probs, ids, axis=-1)
        else:
            values, ids = top_k(log_probs, k)
        return Step(values, ids.astype(np.int32), log_probs[:, self.end_id], outputs[new_states], self.weights(outputs))

    def weights(self, outputs: list) -> np.ndarray | None:
        """The step's attention weights `(rows, src_len)`, or None for a model without attention."""
        if self.weights_at is None:
            return None
        weights = outputs[self.weights_at]
        return weights[:, 0] if weights.ndim == 3 else weights
