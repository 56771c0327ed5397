"""Backend tensors reach NumPy through seq2seq.host only, with their values, shapes and dtypes."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.host import to_host, to_host_tree

ROOT = Path(__file__).resolve().parents[1]
# TensorFlow alone, without Keras (the exported-model runner): `.numpy()` copies from any TensorFlow device.
WITHOUT_KERAS = {"seq2seq/export/translator.py"}


def test_a_tensor_arrives_with_its_values_shape_and_dtype():
    values = np.arange(15, dtype="int32").reshape(3, 5) - 7

    host = to_host(ops.convert_to_tensor(values))

    assert isinstance(host, np.ndarray) and host.dtype == np.int32
    np.testing.assert_array_equal(host, values)


def test_boolean_flags_stay_boolean():
    host = to_host(ops.not_equal(ops.convert_to_tensor([0, 3, 0, 5]), 0))

    assert host.dtype == np.bool_ and host.tolist() == [False, True, False, True]


def test_bfloat16_arrives_as_float32_with_the_same_values():
    exact = [[1.5, -2.25, 0.0], [96.0, 0.0078125, -3.0]]  # all exact in bfloat16

    host = to_host(ops.convert_to_tensor(exact, dtype="bfloat16"))

    assert host.dtype == np.float32 and host.tolist() == exact


def test_a_keras_variable_arrives_as_its_current_value():
    variable = keras.Variable(np.zeros((2, 7), dtype="float32"))
    variable.assign(ops.ones((2, 7)) * 3.0)

    assert to_host(variable).tolist() == [[3.0] * 7] * 2


def test_a_host_copy_keeps_its_values_when_the_variable_changes():
    variable = keras.Variable(np.full((3,), 2.0, dtype="float32"))
    host = to_host(variable)

    variable.assign_add(ops.ones((3,)))

    assert host.tolist() == [2.0] * 3 and to_host(variable).tolist() == [3.0] * 3


def test_converting_warns_nothing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        to_host_tree([ops.ones((2, 3)), keras.Variable(np.zeros(2, dtype="float32"))])

    assert [str(warning.message) for warning in caught] == []


def test_a_dtype_is_applied_on_the_host():
    host = to_host(ops.convert_to_tensor([0.25, 0.5], dtype="float32"), dtype="float64")

    assert host.dtype == np.float64 and host.tolist() == [0.25, 0.5]


def test_host_values_pass_through_as_arrays():
    assert to_host([[1, 2], [3, 4]]).shape == (2, 2)
    assert to_host(np.arange(3), dtype="float32").dtype == np.float32


def test_a_tree_keeps_its_shape_and_converts_only_its_tensors():
    tree = {"ids": [ops.ones((2, 3), dtype="int32"), None, "kept"], "scores": (ops.zeros((4,)), np.ones(1), 7)}

    host = to_host_tree(tree)

    assert isinstance(host["ids"], list) and isinstance(host["scores"], tuple)
    assert host["ids"][0].tolist() == [[1, 1, 1]] * 2 and host["ids"][1:] == [None, "kept"]
    assert host["scores"][0].tolist() == [0.0] * 4 and host["scores"][2] == 7
    assert host["scores"][1] is tree["scores"][1]


def direct_conversions(text: str, label: str) -> list[str]:
    """Where a module reads a tensor on the host without seq2seq.host: `.numpy()`, `convert_to_numpy`, `.cpu()`."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("numpy", "cpu"):
            found.append((node.lineno, f".{node.func.attr}()"))
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name == "convert_to_numpy":
            found.append((node.lineno, "convert_to_numpy"))
        if isinstance(node, ast.ImportFrom) and any(alias.name == "convert_to_numpy" for alias in node.names):
            found.append((node.lineno, "import of convert_to_numpy"))
    return [f"{label}:{line} {what}" for line, what in sorted(found)]


def test_no_module_but_seq2seq_host_converts_tensors_itself():
    files = sorted((ROOT / "seq2seq").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    allowed = {"seq2seq/host.py", *WITHOUT_KERAS}

    found = [
        hit
        for path in files
        if (label := path.relative_to(ROOT).as_posix()) not in allowed
        for hit in direct_conversions(path.read_text(encoding="utf-8"), label)
    ]

    assert found == []


def test_the_scan_finds_each_kind_of_direct_conversion():
    text = "from keras.ops import convert_to_numpy\nx.numpy()\nkeras.ops.convert_to_numpy(y)\nz.cpu()\nnp.asarray(w)\n"

    found = direct_conversions(text, "example.py")

    assert found == [
        "example.py:1 import of convert_to_numpy",
        "example.py:2 .numpy()",
        "example.py:3 convert_to_numpy",
        "example.py:4 .cpu()",
    ]


@pytest.mark.parametrize("dtype", ["float16", "float32", "int32", "uint8"])
def test_dtypes_numpy_holds_arrive_unchanged(dtype):
    assert to_host(ops.zeros((3,), dtype=dtype)).dtype == np.dtype(dtype)
