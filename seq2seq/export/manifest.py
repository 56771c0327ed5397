"""`seq2seq-export.json`: what an export holds, read back and checked field by field before any graph runs.

The manifest names the format, the two graph paths, every graph input and output in order,
the start and end ids and both vocabularies. A manifest is data from a folder someone may
have edited, so each field the runner uses is checked here and a bad one gets one line naming
the field and what was expected: the graph paths must be exactly the names the exporter
writes for the format (nothing absolute, nothing outside the folder), the state names must be
among the graphs' inputs and outputs, and the ids must be in the target vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path

from seq2seq.data.vocabulary import Vocabulary
from seq2seq.errors import ModelFileError, Seq2SeqError
from seq2seq.export.onnx_search import SEARCH_INPUT, SEARCH_OUTPUTS

MANIFEST = "seq2seq-export.json"
FORMATS = {"saved_model": ("encoder", "decoder"), "onnx": ("encoder.onnx", "decoder.onnx")}
SEARCH_STEP = "search_step.onnx"  # the searches' decoder step, in ONNX exports (`search_graphs.py`)
MOST_MANIFEST_BYTES = 64 << 20  # both vocabularies with their subword models: a few MB at most


class ExportedModelError(ModelFileError):
    """A directory cannot be used as a model exported by `seq2seq export`."""


def read_manifest(directory: Path) -> tuple[dict, Vocabulary, Vocabulary]:
    """The checked manifest of the export `directory`, and its source and target vocabularies."""
    path = directory / MANIFEST
    if not path.is_file():
        raise ExportedModelError(f"{directory} is not a directory written by seq2seq export (it has no {MANIFEST}).")
    if path.stat().st_size > MOST_MANIFEST_BYTES:
        raise ExportedModelError(
            f"{path}: is larger than {MOST_MANIFEST_BYTES:,} bytes, far more than an export's manifest."
        )
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ExportedModelError(f"{path}: is not valid JSON ({error}); export the model again.") from None
    if not isinstance(manifest, dict):
        raise ExportedModelError(f"{path}: expected a JSON object, got {type(manifest).__name__}.")
    return (manifest, *check_manifest(path, manifest))


def check_manifest(path: Path, manifest: dict) -> tuple[Vocabulary, Vocabulary]:
    """Refuse a manifest whose fields the runner cannot use as they are; give its two vocabularies."""

    def field(name: str, kind: type, what: str):
        value = manifest.get(name)
        if name not in manifest or not isinstance(value, kind) or isinstance(value, bool):
            got = "nothing" if name not in manifest else f"{type(value).__name__} {value!r}"[:80]
            raise ExportedModelError(f"{path}: field {name!r} must be {what}, got {got}.")
        return value

    format = field("format", str, f"one of {', '.join(FORMATS)}")
    if format not in FORMATS:
        raise ExportedModelError(f"{path}: field 'format' must be one of {', '.join(FORMATS)}, got {format!r}.")
    for name, expected in zip(("encoder", "decoder"), FORMATS[format]):
        if field(name, str, f"the path {expected!r}") != expected:
            raise ExportedModelError(
                f"{path}: field {name!r} must be {expected!r} (the name seq2seq export writes "
                f"for {format}), got {manifest[name]!r}."
            )
    keys = ["state_names", "encoder_inputs", "encoder_outputs", "decoder_inputs", "decoder_outputs"]
    if "search_step" in manifest:
        if format != "onnx" or field("search_step", str, f"the path {SEARCH_STEP!r}") != SEARCH_STEP:
            raise ExportedModelError(
                f"{path}: field 'search_step' must be {SEARCH_STEP!r} in an ONNX export, "
                f"got {manifest['search_step']!r}."
            )
        keys += ["search_step_inputs", "search_step_outputs"]
    names = {key: field(key, list, "a list of names") for key in keys}
    for key, values in names.items():
        if not all(isinstance(value, str) for value in values):
            raise ExportedModelError(f"{path}: field {key!r} must be a list of names (strings).")
    if names["encoder_inputs"] != ["encoder_tokens"] or names["decoder_inputs"][:1] != ["decoder_tokens"]:
        raise ExportedModelError(f"{path}: the graphs' first inputs must be 'encoder_tokens' and 'decoder_tokens'.")
    for state in names["state_names"]:
        for key in [key for key in ("encoder_outputs", "decoder_inputs", "search_step_inputs") if key in names]:
            if state not in names[key]:
                raise ExportedModelError(f"{path}: state name {state!r} is not among the names in {key!r}.")
    if "search_step" in manifest and (
        names["search_step_inputs"][:1] != ["decoder_tokens"]
        or names["search_step_inputs"][-1:] != [SEARCH_INPUT]
        or names["search_step_outputs"][-len(SEARCH_OUTPUTS) :] != SEARCH_OUTPUTS
        or len(names["search_step_outputs"]) < len(names["state_names"]) + len(SEARCH_OUTPUTS)
    ):
        raise ExportedModelError(
            f"{path}: fields 'search_step_inputs' and 'search_step_outputs' must run from 'decoder_tokens' to "
            f"{SEARCH_INPUT!r} and from the new states to {', '.join(map(repr, SEARCH_OUTPUTS))}."
        )
    if len(names["decoder_outputs"]) < 1 + len(names["state_names"]):
        raise ExportedModelError(
            f"{path}: field 'decoder_outputs' must name the probabilities and a new value of each state."
        )
    source, target = (
        vocabulary(path, key, field(key, dict, "a vocabulary")) for key in ("source_vocab", "target_vocab")
    )
    size = len(target)
    for key in ("start_id", "end_id"):
        value = field(key, int, f"a token id of the target vocabulary (0 to {size - 1})")
        if not 0 <= value < size:
            raise ExportedModelError(
                f"{path}: field {key!r} must be a token id of the target vocabulary (0 to {size - 1}), got {value}."
            )
    return source, target


def vocabulary(path: Path, key: str, config: dict) -> Vocabulary:
    """The vocabulary in field `key`, or one line saying why it is not one."""
    try:
        return Vocabulary.from_config(config)
    except Seq2SeqError as error:
        raise ExportedModelError(f"{path}: field {key!r} is not a vocabulary: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ExportedModelError(
            f"{path}: field {key!r} is not a vocabulary ({type(error).__name__}: {error})."
        ) from None
