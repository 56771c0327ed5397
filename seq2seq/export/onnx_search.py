"""The search step's ONNX graph made to return each row's k best next tokens by log-probability.

`search_graphs.search_step` returns logits `(rows, vocab)`. A search needs far less: greedy
search the best token, beam search the `2 x beam` best of each row (the best `2 x beam`
extensions of a sentence are among them) and each row's log-probability of ending. Selecting
them inside the graph spares the runner a pass over `rows x vocab` values in NumPy at every step
(tens of milliseconds at beam 5), and copies out `rows x k` values instead of `rows x vocab`.

So after Keras has written the graph, its logits output is replaced by three outputs computed
from the logits and one more input:

- input `top_k`, int64 `(1,)`: how many tokens each row returns (at most the vocabulary);
- `top_log_probabilities (rows, top_k)`, float32, best first, ties by lower token id (ONNX
  `TopK`'s order, which is TensorFlow's), by `LogSoftmax` as Keras' search takes them
  (onnxruntime's `ReduceLogSumExp` was tried: it is off by up to 3e-5);
- `top_ids (rows, top_k)`, int64;
- `end_log_probability (rows, 1)`, float32: the log-probability of the end id.

Only standard ONNX operators are added (`LogSoftmax`, `TopK`, `Gather`), so the graph
passes `onnx_ops.py`'s checks. Needs the `onnx` package, as the export does.
"""

from __future__ import annotations

from pathlib import Path

SEARCH_INPUT = "top_k"
SEARCH_OUTPUTS = ["top_log_probabilities", "top_ids", "end_log_probability"]


def add_search_outputs(path: Path, end_id: int) -> None:
    """Rewrite the ONNX search step at `path`: its first output, the logits, becomes the three above."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    logits = graph.output[0].name
    log_probs, end = "search_log_probabilities", "search_end_id"
    graph.initializer.append(helper.make_tensor(end, TensorProto.INT64, [1], [end_id]))
    graph.node.extend(
        [
            helper.make_node("LogSoftmax", [logits], [log_probs], axis=-1),
            helper.make_node("TopK", [log_probs, SEARCH_INPUT], SEARCH_OUTPUTS[:2], axis=-1, sorted=1),
            helper.make_node("Gather", [log_probs, end], [SEARCH_OUTPUTS[2]], axis=1),
        ]
    )
    graph.input.append(helper.make_tensor_value_info(SEARCH_INPUT, TensorProto.INT64, [1]))
    kept = list(graph.output)[1:]
    del graph.output[:]
    graph.output.extend(
        kept
        + [
            helper.make_tensor_value_info(SEARCH_OUTPUTS[0], TensorProto.FLOAT, ["rows", "top_k"]),
            helper.make_tensor_value_info(SEARCH_OUTPUTS[1], TensorProto.INT64, ["rows", "top_k"]),
            helper.make_tensor_value_info(SEARCH_OUTPUTS[2], TensorProto.FLOAT, ["rows", 1]),
        ]
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
