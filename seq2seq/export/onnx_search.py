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

Before that, the vocabulary mask is folded into the output projection (`fold_vocabulary_mask`):
the decoder forbids the padding and start ids with `where(possible, x W + b, -1e9)`, which
tf2onnx writes as `(x W + b) * m + c` with constants `m` (1 where possible, else 0) and `c` (0
where possible): two more passes over `rows x vocab` values per step, a tenth of the step's
time at beam 5. `x (W m) + (b m + c)` gives the very same values (the kept columns are
multiplied by 1 and added 0; the others are `0 + c` either way), and onnxruntime runs it as one
`Gemm`. A graph of any other shape is left as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEARCH_INPUT = "top_k"
SEARCH_OUTPUTS = ["top_log_probabilities", "top_ids", "end_log_probability"]


def add_search_outputs(path: Path, end_id: int) -> None:
    """Rewrite the ONNX search step at `path`: its first output, the logits, becomes the three above."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    fold_vocabulary_mask(graph, list(model.opset_import))
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


def fold_vocabulary_mask(graph, opsets: list) -> bool:
    """Rewrite the logits `Add(Mul(m, Add(MatMul(x, W), b)), c)` as `Add(MatMul(x, W m), b m + c)`; whether it did.

    Graphs with subgraphs (`Loop`, `If`) are left alone: their bodies may read outer values by name.
    """
    from onnx import AttributeProto, helper, numpy_helper

    if any(attribute.type == AttributeProto.GRAPH for node in graph.node for attribute in node.attribute):
        return False
    producers = {name: node for node in graph.node for name in node.output}
    constants = {tensor.name: tensor for tensor in graph.initializer}
    last = producers.get(graph.output[0].name)
    if last is None or last.op_type != "Add":
        return False
    for masked_name, offset_name in (last.input, reversed(last.input)):
        masked = producers.get(masked_name)
        offset = constant_value(graph, offset_name, producers, constants, opsets)
        if masked is None or masked.op_type != "Mul" or offset is None:
            continue
        for mask_name, biased_name in (masked.input, reversed(masked.input)):
            mask = constant_value(graph, mask_name, producers, constants, opsets)
            biased = producers.get(biased_name)
            if mask is None or biased is None or biased.op_type != "Add":
                continue
            for product_name, bias_name in (biased.input, reversed(biased.input)):
                product, bias = producers.get(product_name), constants.get(bias_name)
                if product is None or product.op_type != "MatMul" or bias is None or product.input[1] not in constants:
                    continue
                weights, bias = numpy_helper.to_array(constants[product.input[1]]), numpy_helper.to_array(bias)
                columns = weights.shape[-1:]
                if not exact_fold(mask, offset, bias, columns):
                    return False
                mask, offset = np.broadcast_to(mask, columns), np.broadcast_to(offset, columns)
                folded_weights = (weights * mask).astype(weights.dtype)
                folded_bias = np.where(mask == 1, bias, offset).astype(bias.dtype)
                names = (f"{product.input[1]}_masked", f"{bias_name}_masked", f"{last.output[0]}_product")
                graph.initializer.extend(
                    [numpy_helper.from_array(folded_weights, names[0]), numpy_helper.from_array(folded_bias, names[1])]
                )
                at = list(graph.node).index(last)
                graph.node.remove(last)
                graph.node.insert(at, helper.make_node("Add", [names[2], names[1]], list(last.output)))
                graph.node.insert(at, helper.make_node("MatMul", [product.input[0], names[0]], [names[2]]))
                drop_unused(graph)
                return True
    return False


def exact_fold(mask, offset, bias, columns) -> bool:
    """Whether folding gives exactly the same logits: `m` is 0 or 1, `c` is 0 where `m` is 1, shapes fit."""
    try:
        mask, offset = np.broadcast_to(mask, columns), np.broadcast_to(offset, columns)
    except ValueError:
        return False
    if bias.shape != tuple(columns) or not np.isin(mask, (0, 1)).all():
        return False
    return bool((offset[mask == 1] == 0).all() and np.isfinite(offset).all())


def constant_value(graph, name: str, producers: dict, constants: dict, opsets: list):
    """The value of `name` where it depends on initializers only (computed by the ONNX reference runtime), else None."""
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    if name in constants:
        return numpy_helper.to_array(constants[name])
    needed, nodes, pending = set(), [], [name]
    while pending:
        current = pending.pop()
        if current in constants:
            needed.add(current)
            continue
        node = producers.get(current)
        if node is None:  # a graph input: not a constant
            return None
        if node not in nodes:
            nodes.append(node)
            pending.extend(value for value in node.input if value)
    ordered = [node for node in graph.node if node in nodes]
    used = [constants[value] for value in sorted(needed)]
    output = helper.make_tensor_value_info(name, TensorProto.UNDEFINED, None)
    subgraph = helper.make_graph(ordered, "constant", [], [output], used)
    return ReferenceEvaluator(helper.make_model(subgraph, opset_imports=opsets)).run(None, {})[0]


def drop_unused(graph) -> None:
    """Remove the nodes and initializers that no graph output depends on any more."""
    producers = {name: node for node in graph.node for name in node.output}
    needed, pending = set(), [output.name for output in graph.output]
    while pending:
        current = pending.pop()
        if current in needed:
            continue
        needed.add(current)
        node = producers.get(current)
        if node is not None:
            pending.extend(value for value in node.input if value)
    for node in [node for node in graph.node if not any(name in needed for name in node.output)]:
        graph.node.remove(node)
    for tensor in [tensor for tensor in graph.initializer if tensor.name not in needed]:
        graph.initializer.remove(tensor)
