"""What an ONNX file may hold before onnxruntime opens it: standard operators, data inside the file.

onnxruntime runs only the operators it was built with (no custom-operator library is ever
registered here), but an ONNX file can still name tensors stored in *other* files (external
data, opened relative to the model: a path such as `../../etc/passwd` reads outside the
export) and operators of other domains. So before a session is made, the file is walked,
main graph and every subgraph (loop bodies, branches), and refused in one line if it is not an
ONNX model, defines its own functions, uses an operator outside the standard domains, or keeps
any tensor outside the file.

The walk reads protobuf's wire format directly (a few dozen lines) rather than importing the
`onnx` package, whose import alone takes longer than a whole translation with onnxruntime.
Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, SparseTensorProto).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from seq2seq.export.manifest import ExportedModelError

STANDARD_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")  # the ONNX standard's operator sets
MOST_GRAPH_DEPTH = 16  # subgraphs within subgraphs; the exporter's graphs nest one deep
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class _Malformed(Exception):
    """The bytes are not protobuf messages of the expected shape."""


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= len(data) or shift > 63:
            raise _Malformed
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position, shift = position + 1, shift + 7
        if byte < 0x80:
            return value, position


def _fields(data: memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """(field number, wire type, value) of each field of one message: an int, or the bytes of a nested value."""
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, position = _varint(data, position)
        elif wire in (_FIXED64, _FIXED32):
            value, position = 0, position + (8 if wire == _FIXED64 else 4)
        elif wire == _BYTES:
            length, position = _varint(data, position)
            value, position = data[position : position + length], position + length
        else:
            raise _Malformed
        if position > len(data) or number == 0:
            raise _Malformed
        yield number, wire, value


def _messages(data: memoryview, wanted: dict[int, str]) -> Iterator[tuple[str, int | memoryview]]:
    """The fields of `data` whose numbers are in `wanted`, by their names; a nested one must be bytes."""
    for number, wire, value in _fields(data):
        name = wanted.get(number)
        if name is not None:
            if (wire == _BYTES) != (not name.endswith("#")):
                raise _Malformed
            yield name.rstrip("#"), value


def _text(value: memoryview) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed from None


def check_onnx_file(path: Path) -> None:
    """Refuse `path` in one line unless it is an ONNX model of standard operators with all its data inside."""
    model = memoryview(path.read_bytes())
    try:
        wanted = {1: "ir_version#", 7: "graph", 8: "opset_import", 20: "training_info", 25: "functions"}
        fields = list(_messages(model, wanted))
        names = {name for name, _ in fields}
        if not {"ir_version", "graph"} <= names:
            raise _Malformed
        if names & {"functions", "training_info"}:
            raise ExportedModelError(
                f"{path}: defines its own ONNX functions or training graphs, which seq2seq export never writes."
            )
        for name, value in fields:
            if name == "opset_import":
                for _, domain in _messages(value, {1: "domain"}):
                    _check_domain(path, _text(domain))
            elif name == "graph":
                _check_graph(path, value, depth=0)
    except _Malformed:
        raise ExportedModelError(
            f"{path}: is not an ONNX model (truncated or damaged); export the model again."
        ) from None


def _check_domain(path: Path, domain: str) -> None:
    if domain not in STANDARD_DOMAINS:
        raise ExportedModelError(
            f"{path}: uses operators of the domain {domain!r}; only the standard ONNX domains are run."
        )


def _check_graph(path: Path, graph: memoryview, depth: int) -> None:
    if depth > MOST_GRAPH_DEPTH:
        raise ExportedModelError(
            f"{path}: nests subgraphs more than {MOST_GRAPH_DEPTH} deep; it is not an export's graph."
        )
    for name, value in _messages(graph, {1: "node", 5: "tensor", 15: "sparse"}):
        if name == "node":
            _check_node(path, value, depth)
        elif name == "tensor":
            _check_tensor(path, value)
        else:
            for _, tensor in _messages(value, {1: "values", 2: "indices"}):
                _check_tensor(path, tensor)


def _check_node(path: Path, node: memoryview, depth: int) -> None:
    for name, value in _messages(node, {7: "domain", 5: "attribute"}):
        if name == "domain":
            _check_domain(path, _text(value))
        elif name == "attribute":
            kinds = {5: "tensor", 10: "tensor", 6: "graph", 11: "graph", 22: "sparse", 23: "sparse"}
            for kind, item in _messages(value, kinds):
                if kind == "tensor":
                    _check_tensor(path, item)
                elif kind == "graph":
                    _check_graph(path, item, depth + 1)
                else:
                    for _, tensor in _messages(item, {1: "values", 2: "indices"}):
                        _check_tensor(path, tensor)


def _check_tensor(path: Path, tensor: memoryview) -> None:
    for name, value in _messages(tensor, {13: "external_data", 14: "data_location#"}):
        if name == "external_data" or value != 0:
            raise ExportedModelError(
                f"{path}: keeps tensor data in other files; an export keeps all of it inside the "
                "graph file, and no file outside it is read."
            )
