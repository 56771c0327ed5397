"""The vocabulary mask folded into the output projection gives the very same logits, with two operations fewer."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from seq2seq.export.onnx_search import fold_vocabulary_mask

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxruntime") is None,
    reason="onnx and onnxruntime are not installed (the export extra)",
)


def masked_logits_model(mask_values=None):
    """`where(possible, x W + b, -1e9)` as tf2onnx writes it: `(x W + b) * m + (-1e9) * cast(not possible)`."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    possible = np.array([False, True, False, True, True, True, True])
    mask = possible.astype(np.float32) if mask_values is None else np.asarray(mask_values, np.float32)
    constants = {
        "W": rng.standard_normal((5, 7)).astype(np.float32),
        "b": rng.standard_normal(7).astype(np.float32),
        "m": mask,
        "C": np.array(-1e9, np.float32),
        "possible": possible,
    }
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["product"]),
        helper.make_node("Add", ["product", "b"], ["biased"]),
        helper.make_node("Mul", ["m", "biased"], ["masked"]),
        helper.make_node("Not", ["possible"], ["impossible"]),
        helper.make_node("Cast", ["impossible"], ["impossible_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["C", "impossible_float"], ["offset"]),
        helper.make_node("Add", ["masked", "offset"], ["logits"]),
        helper.make_node("Relu", ["x"], ["state"]),  # a second output, as the new states are
    ]
    graph = helper.make_graph(
        nodes,
        "step",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", 5])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["rows", 7]),
            helper.make_tensor_value_info("state", TensorProto.FLOAT, ["rows", 5]),
        ],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model, x):
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def test_folding_the_mask_keeps_every_logit_and_drops_the_mask_operations():
    import onnx

    x = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    model = masked_logits_model()
    before = run(model, x)
    assert fold_vocabulary_mask(model.graph, list(model.opset_import))
    onnx.checker.check_model(model)
    after = run(model, x)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert after[0][:, [0, 2]].tolist() == [[-1e9, -1e9]] * 6
    assert sorted(node.op_type for node in model.graph.node) == ["Add", "MatMul", "Relu"]
    assert {tensor.name for tensor in model.graph.initializer} == {"W_masked", "b_masked"}


def test_a_mask_that_scales_rather_than_selects_is_left_as_it_is():
    model = masked_logits_model(mask_values=[0, 1, 0, 1, 0.5, 1, 1])
    operations = [node.op_type for node in model.graph.node]
    assert not fold_vocabulary_mask(model.graph, list(model.opset_import))
    assert [node.op_type for node in model.graph.node] == operations
