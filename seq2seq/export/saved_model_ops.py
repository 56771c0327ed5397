"""What a SavedModel may hold before TensorFlow loads it: the operations of our own inference graphs.

A SavedModel is a program: its graphs may hold any TensorFlow operation, including ones that
read, write, copy or delete files (`ReadFile`, `WriteFile`, `CopyFile`, `MatchingFiles`,
`SaveV2`, `MergeV2Checkpoints`, ...), and loading one runs some of its functions (resource
creators, restore functions) before a signature is even called. So `saved_model.pb` is parsed
and refused in one line unless:

- it has one meta graph with an object graph: TensorFlow 2's loader, which restores variables
  with its own operations from `variables/` in the folder. (A TensorFlow 1 SavedModel would be
  run by a session that executes the graph's own restore and initialisation operations.)
- its objects are only plain objects, functions and variables: no assets, resources or
  objects with their own save and restore functions.
- every function the loader can run (those the object graph names, and every function they
  call, through call operations or control flow) uses only `COMPUTE_OPS`: arithmetic, shapes,
  control flow and variable reads, which is all an encoder or a decoder step needs.
- the functions nothing runs (the checkpoint save and restore functions TensorFlow writes
  into every SavedModel, for re-saving it) add at most `CHECKPOINT_OPS`, and the graph's
  top-level nodes (never run by TensorFlow 2's loader) at most `GRAPH_OPS`.

The exporter checks its own output the same way, so a model whose graphs need an operation
outside the list fails at export, not in a user's hands.
"""

from __future__ import annotations

from pathlib import Path

from seq2seq.export.manifest import ExportedModelError

COMPUTE_OPS = frozenset(
    {
        # what the exporter's encoder and decoder step graphs use (LSTM and GRU, stacked,
        # bidirectional, every bridge and attention), and close relatives a TensorFlow release may emit
        "Abs",
        "Add",
        "AddV2",
        "ArgMax",
        "BatchMatMulV2",
        "BiasAdd",
        "BroadcastArgs",
        "BroadcastTo",
        "Cast",
        "ConcatV2",
        "Const",
        "Cumsum",
        "Einsum",
        "Equal",
        "Exp",
        "ExpandDims",
        "Fill",
        "GatherV2",
        "Greater",
        "GreaterEqual",
        "Identity",
        "IdentityN",
        "If",
        "Less",
        "LessEqual",
        "Log",
        "LogSoftmax",
        "LogicalAnd",
        "LogicalNot",
        "LogicalOr",
        "MatMul",
        "Max",
        "Maximum",
        "Mean",
        "Min",
        "Minimum",
        "Mul",
        "Neg",
        "NoOp",
        "NotEqual",
        "OneHot",
        "OnesLike",
        "Pack",
        "PartitionedCall",
        "Pow",
        "Prod",
        "Range",
        "Rank",
        "ReadVariableOp",
        "RealDiv",
        "Relu",
        "Reshape",
        "ReverseV2",
        "Rsqrt",
        "Select",
        "SelectV2",
        "Shape",
        "Sigmoid",
        "Size",
        "Slice",
        "Softmax",
        "Split",
        "Sqrt",
        "Square",
        "Squeeze",
        "StatefulPartitionedCall",
        "StatelessIf",
        "StatelessWhile",
        "StopGradient",
        "StridedSlice",
        "Sub",
        "Sum",
        "Tanh",
        "TensorListElementShape",
        "TensorListFromTensor",
        "TensorListGetItem",
        "TensorListLength",
        "TensorListReserve",
        "TensorListSetItem",
        "TensorListStack",
        "Tile",
        "Transpose",
        "Unpack",
        "Where",
        "While",
        "ZerosLike",
    }
)
CHECKPOINT_OPS = frozenset(
    {
        "AssignVariableOp",
        "DisableCopyOnRead",
        "MergeV2Checkpoints",
        "RestoreV2",
        "SaveV2",
        "ShardedFilename",
        "StaticRegexFullMatch",
        "StringJoin",
    }
)
GRAPH_OPS = frozenset({"AssignVariableOp", "Placeholder", "VarHandleOp", "VarIsInitializedOp"})
OBJECT_KINDS = frozenset({"user_object", "function", "bare_concrete_function", "variable"})


def check_saved_model(folder: Path) -> None:
    """Refuse the SavedModel in `folder` in one line unless it holds only what the exporter writes."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    path = folder / "saved_model.pb"
    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString(path.read_bytes())
    except (DecodeError, RuntimeError, ValueError):
        raise ExportedModelError(
            f"{path}: is not a SavedModel (truncated or damaged); export the model again."
        ) from None
    if len(saved.meta_graphs) != 1 or not saved.meta_graphs[0].HasField("object_graph_def"):
        raise ExportedModelError(
            f"{path}: is not a TensorFlow 2 SavedModel with one graph, as seq2seq export writes; "
            "it is refused because loading it would run its own operations."
        )
    meta_graph = saved.meta_graphs[0]
    functions = {function.signature.name: function for function in meta_graph.graph_def.library.function}
    reachable = _functions_the_loader_runs(path, meta_graph.object_graph_def, functions)
    for name, function in functions.items():
        allowed = COMPUTE_OPS if name in reachable else COMPUTE_OPS | CHECKPOINT_OPS
        _check_nodes(path, f"function {name!r}", function.node_def, allowed, functions)
    _check_nodes(path, "the top-level graph", meta_graph.graph_def.node, COMPUTE_OPS | GRAPH_OPS, functions)


def _functions_the_loader_runs(path: Path, objects, functions: dict) -> set[str]:
    """Every function the object graph names, and every function those call, transitively."""
    names = set(objects.concrete_functions)
    for index, node in enumerate(objects.nodes):
        kind = node.WhichOneof("kind")
        if kind not in OBJECT_KINDS or node.saveable_objects or node.registered_saver:
            raise ExportedModelError(
                f"{path}: object {index} is a {kind or 'object'} with its own saving or loading, "
                "which seq2seq export never writes; it is refused because loading could run it."
            )
        if kind == "function":
            names.update(node.function.concrete_functions)
        elif kind == "bare_concrete_function":
            names.add(node.bare_concrete_function.concrete_function_name)
    reachable, pending = set(), list(names)
    while pending:
        name = pending.pop()
        if name in reachable:
            continue
        if name not in functions:
            raise ExportedModelError(
                f"{path}: names the function {name!r} but does not define it; export the model again."
            )
        reachable.add(name)
        for node in functions[name].node_def:
            pending.extend(_called(node, functions))
    return reachable


def _called(node, functions: dict) -> set[str]:
    """The functions a node calls: as its operation, or through attributes (call operations, loops, branches)."""
    called = {node.op} if node.op in functions else set()
    for value in node.attr.values():
        if value.HasField("func"):
            called.add(value.func.name)
        called.update(function.name for function in value.list.func)
    return called


def _check_nodes(path: Path, where: str, nodes, allowed: frozenset, functions: dict) -> None:
    for node in nodes:
        if node.op not in allowed and node.op not in functions:
            raise ExportedModelError(
                f"{path}: {where} uses the operation {node.op!r}, which seq2seq export never "
                "writes; it is refused because it could touch files, processes or the network."
            )
