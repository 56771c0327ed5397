"""An ONNX graph is opened only if it uses standard operators and keeps all its data inside its file."""

from __future__ import annotations

import pytest

from seq2seq.export.manifest import ExportedModelError
from seq2seq.export.onnx_ops import check_onnx_file
from tests.conftest import one_line_error

onnx = pytest.importorskip("onnx")
helper = onnx.helper


def write_model(path, nodes, initializers=(), domains=("",), **fields):
    """A tiny ONNX model of `nodes` over a float input `x` (3) giving `y`."""
    graph = helper.make_graph(
        list(nodes),
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3])],
        list(initializers),
    )
    opsets = [helper.make_opsetid(domain, 1 if domain else 17) for domain in domains]
    model = helper.make_model(graph, opset_imports=opsets, **fields)
    onnx.save(model, str(path))
    return path


def test_a_graph_of_standard_operators_passes(tmp_path):
    check_onnx_file(write_model(tmp_path / "ok.onnx", [helper.make_node("Relu", ["x"], ["y"])]))


def test_an_operator_of_a_custom_domain_is_refused(tmp_path):
    path = write_model(
        tmp_path / "custom.onnx", [helper.make_node("Steal", ["x"], ["y"], domain="evil.ops")], domains=("", "evil.ops")
    )
    message = one_line_error(ExportedModelError, check_onnx_file, path)
    assert message == f"{path}: uses operators of the domain 'evil.ops'; only the standard ONNX domains are run."


def test_a_custom_operator_inside_a_loop_body_is_refused(tmp_path):
    body = helper.make_graph([helper.make_node("Steal", ["x"], ["y"], domain="evil.ops")], "body", [], [])
    branch = helper.make_node("If", ["c"], ["y"], then_branch=body, else_branch=body)
    path = write_model(tmp_path / "nested.onnx", [branch])
    assert "domain 'evil.ops'" in one_line_error(ExportedModelError, check_onnx_file, path)


def test_a_tensor_stored_in_another_file_is_refused(tmp_path):
    weights = helper.make_tensor("w", onnx.TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    weights.data_location = onnx.TensorProto.EXTERNAL
    entry = weights.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    weights.ClearField("float_data")
    path = tmp_path / "external.onnx"
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3])],
        [weights],
    )
    path.write_bytes(helper.make_model(graph).SerializeToString())
    assert "keeps tensor data in other files" in one_line_error(ExportedModelError, check_onnx_file, path)


def test_functions_defined_in_the_file_are_refused(tmp_path):
    function = helper.make_function(
        "local", "f", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])], [helper.make_opsetid("", 17)]
    )
    path = write_model(
        tmp_path / "functions.onnx",
        [helper.make_node("f", ["x"], ["y"], domain="local")],
        domains=("", "local"),
        functions=[function],
    )
    assert "defines its own ONNX functions" in one_line_error(ExportedModelError, check_onnx_file, path)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x08", b"\xff" * 12, b"\x0a\x05abc", b"\x08\x07\x3a\x02\x0a"],
    ids=["empty", "cut-varint", "endless-varint", "short-bytes", "no-graph-end"],
)
def test_bytes_that_are_not_an_onnx_model_are_refused(tmp_path, data):
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    message = one_line_error(ExportedModelError, check_onnx_file, path)
    assert message == f"{path}: is not an ONNX model (truncated or damaged); export the model again."
