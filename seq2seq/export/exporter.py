"""`export_model(model, out, format)`: the classic inference models as SavedModels or ONNX, plus a manifest.

The directory holds `encoder` and `decoder` graphs (the `encoder_model` and `decoder_model`
of the Keras model: source ids to initial states, and one decoder step),
`seq2seq-export.json`, which names every input and output in order and holds both
vocabularies with their tokenizer settings, so `translator.py` needs nothing else, and
`checksums.sha256`, the digest of every other file. It is written into a temporary sibling
folder and renamed into place at the end (`staging.py`), after the graphs have passed the
runner's own checks. An ONNX export also holds `search_step.onnx`, the decoder step the runner's
searches use: attention keys computed once by the encoder (one more encoder output), and each
row's best tokens by log-probability instead of probabilities (`search_graphs.py`,
`onnx_search.py`). A SavedModel export holds the classic graphs only; the runner then selects
from the probabilities in NumPy.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from seq2seq.errors import Seq2SeqError
from seq2seq.export.checksums import write_checksums
from seq2seq.export.manifest import FORMATS, MANIFEST, SEARCH_STEP, ExportedModelError
from seq2seq.export.onnx_ops import check_onnx_file
from seq2seq.export.onnx_search import SEARCH_INPUT, SEARCH_OUTPUTS, add_search_outputs
from seq2seq.export.saved_model_ops import check_saved_model
from seq2seq.export.search_graphs import KEYS, step_names
from seq2seq.export.staging import staged_directory

__all__ = ["FORMATS", "GRAPH_CHECKS", "MANIFEST", "ExportError", "export_model"]
# what the runner checks before loading a graph
GRAPH_CHECKS = {"saved_model": check_saved_model, "onnx": check_onnx_file}
ONNX_HINT = 'ONNX export needs tf2onnx and onnx; install them with: pip install "keras-seq2seq[export]"'


class ExportError(Seq2SeqError):
    """A model cannot be exported as asked."""


def export_model(model, out, format: str = "saved_model", overwrite: bool = False, source: dict | None = None) -> Path:
    """Write `model`'s encoder and decoder step graphs, manifest and checksums as the directory `out`.

    `out` must be absent or empty, or, with `overwrite`, an earlier export, which is replaced
    only once the new one is complete. `source`, where given, is kept in the manifest as
    `source_model` (the cache of `cache.py` records there which model file it was made from).
    """
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}; choose one of: {', '.join(FORMATS)}.")
    if format == "onnx":
        require_onnx_converter()
    out = Path(out)
    with staged_directory(out, MANIFEST, overwrite, ExportError) as staging:
        write_graphs(model, staging, format)
        encoder, decoder = FORMATS[format]
        manifest = {**export_manifest(model, format), "format": format, "encoder": encoder, "decoder": decoder}
        if source is not None:
            manifest["source_model"] = source
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        try:
            for filename in graph_files(format):
                GRAPH_CHECKS[format](staging / filename)
        except ExportedModelError as error:
            raise ExportError(
                f"the exported graphs would be refused by the runner ({error}); please report this."
            ) from None
        write_checksums(staging)
    return out


def graph_files(format: str) -> tuple[str, ...]:
    """The graph files an export of `format` holds."""
    return FORMATS[format] + ((SEARCH_STEP,) if format == "onnx" else ())


def write_graphs(model, out: Path, format: str) -> None:
    """The encoder and decoder step models (and for ONNX the search step) as graphs of `format` in `out`."""
    from seq2seq.export.search_graphs import search_encoder, search_step  # here: they import Keras
    from seq2seq.layers.lstm import keras_loop_only
    from seq2seq.layers.recurrent import recurrent_dropout_off

    keras_format = "onnx" if format == "onnx" else "tf_saved_model"
    graphs = (model.encoder_model, model.decoder_model)
    if format == "onnx":
        graphs = (search_encoder(model), model.decoder_model, search_step(model))
    for graph, filename in zip(graphs, graph_files(format)):
        # Keras' own loop: the fused training kernel's gradient is not part of an exported graph.
        # No dropout masks: drawing one advances a seed variable, which a frozen graph cannot hold.
        with warnings.catch_warnings(), keras_loop_only(), recurrent_dropout_off(model):
            warnings.simplefilter(
                "ignore", FutureWarning
            )  # Keras' tf2onnx shim probes `np.object`, which warns on numpy 2
            graph.export(
                str(out / filename), format=keras_format, verbose=False, input_signature=input_signature(graph)
            )
    if format == "onnx":
        add_search_outputs(out / SEARCH_STEP, model.target_vocab.end_id)


def input_signature(graph) -> list:
    """Keras' `input_signature` for a functional model: `[spec]`, or `[[spec, ...]]` for several inputs.

    Given explicitly, since Keras infers it only for a model that has been called once.
    """
    import tensorflow as tf

    specs = [tf.TensorSpec(tensor.shape, tensor.dtype, name=tensor.name) for tensor in graph.inputs]
    return specs if len(specs) == 1 else [specs]


def export_manifest(model, format: str = "saved_model") -> dict:
    """Input and output names in order, special ids and both vocabularies of `model`."""
    memory = ["encoder_outputs", "encoder_mask"] if model.has_attention else []
    states = model.state_names
    manifest = {
        "model_config": model.model_config.to_dict(),
        "state_names": states,
        "encoder_inputs": ["encoder_tokens"],
        "encoder_outputs": states + memory,
        "decoder_inputs": ["decoder_tokens"] + states + memory,
        "decoder_outputs": ["probabilities"]
        + [f"new_{name}" for name in states]
        + (["attention_weights"] if memory else []),
        "start_id": model.target_vocab.start_id,
        "end_id": model.target_vocab.end_id,
        "source_vocab": model.source_vocab.get_config(),
        "target_vocab": model.target_vocab.get_config(),
    }
    if format == "onnx":
        inputs, outputs = step_names(model)
        manifest["encoder_outputs"] += [KEYS] if memory else []
        manifest["search_step"] = SEARCH_STEP
        manifest["search_step_inputs"] = inputs + [SEARCH_INPUT]
        manifest["search_step_outputs"] = outputs[1:] + SEARCH_OUTPUTS
    return manifest


def require_onnx_converter() -> None:
    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError as error:
        raise ExportError(f"{ONNX_HINT} ({error}).") from None
