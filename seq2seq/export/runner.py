"""Greedy translation with an exported model, by TensorFlow alone or onnxruntime alone (no Keras).

    python -m seq2seq.export.runner EXPORTED_DIR "Go." "Who are you?"

`ExportedTranslator(directory).translate(texts)` tokenizes with the exported vocabularies,
sorts the sentences by length into batches, runs the encoder once per batch, then the decoder
step over the sentences still going until each has ended (the end id, or 2 x source tokens +
10 tokens, as `Seq2Seq.translate` does). `seq2seq translate EXPORTED_DIR` runs the same.

An exported directory is data from wherever it came from, so nothing in it runs before it is
checked: its checksum list (`checksums.py`), its manifest (`manifest.py`) and the operations
of its graphs (`saved_model_ops.py`, `onnx_ops.py`). Each refusal is one `ExportedModelError`
line naming the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from seq2seq.errors import Seq2SeqError
from seq2seq.export.checksums import verify_checksums
from seq2seq.export.exporter import GRAPH_CHECKS, MANIFEST
from seq2seq.export.manifest import ExportedModelError, read_manifest


def first_line(error: Exception) -> str:
    """The first line of an error from TensorFlow or onnxruntime, whose messages run to many."""
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


class SavedModelGraphs:
    """The exported graphs as TensorFlow SavedModels (`tf.saved_model.load`)."""

    def __init__(self, directory: Path, manifest: dict):
        import tensorflow as tf

        self.tf = tf
        self.paths = {}
        for role in ("encoder", "decoder"):
            path = self.paths[role] = directory / manifest[role]
            try:
                graph = tf.saved_model.load(str(path)).signatures["serving_default"]
            except Exception as error:  # TensorFlow reports a bad SavedModel as many types
                raise ExportedModelError(f"{path}: cannot be loaded by TensorFlow: {first_line(error)}") from None
            inputs, outputs = set(graph.structured_input_signature[1]), set(graph.structured_outputs)
            expected = {f"output_{index}" for index in range(len(manifest[f"{role}_outputs"]))}
            if inputs != set(manifest[f"{role}_inputs"]) or outputs != expected:
                raise ExportedModelError(f"{path}: its inputs and outputs are not those {MANIFEST} names.")
            setattr(self, role, graph)

    def run(self, role: str, feeds: dict) -> list[np.ndarray]:
        outputs = getattr(self, role)(**{name: self.tf.constant(value) for name, value in feeds.items()})
        return [outputs[f"output_{index}"].numpy() for index in range(len(outputs))]


class OnnxGraphs:
    """The exported graphs as ONNX models run by onnxruntime."""

    def __init__(self, directory: Path, manifest: dict):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        self.paths = {}
        for role in ("encoder", "decoder"):
            path = self.paths[role] = directory / manifest[role]
            try:
                session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as error:  # onnxruntime reports a bad model as several types
                raise ExportedModelError(f"{path}: cannot be loaded by onnxruntime: {first_line(error)}") from None
            inputs, outputs = {node.name for node in session.get_inputs()}, session.get_outputs()
            if inputs != set(manifest[f"{role}_inputs"]) or len(outputs) != len(manifest[f"{role}_outputs"]):
                raise ExportedModelError(f"{path}: its inputs and outputs are not those {MANIFEST} names.")
            setattr(self, role, session)

    def run(self, role: str, feeds: dict) -> list[np.ndarray]:
        return getattr(self, role).run(None, feeds)


GRAPHS = {"saved_model": SavedModelGraphs, "onnx": OnnxGraphs}
BATCH_SIZE = 256  # sentences decoded together, as `seq2seq translate` does


class ExportedTranslator:
    """Greedy batched translation with a directory written by `seq2seq export`."""

    def __init__(self, directory):
        """Check everything in `directory` (see docs/export.md) before any graph is loaded or run.

        A directory that is not an export, or is damaged or altered, raises `ExportedModelError`
        with one line naming the file and what was expected.
        """
        directory = Path(directory)
        if not (directory / MANIFEST).is_file():
            raise ExportedModelError(
                f"{directory} is not a directory written by seq2seq export (it has no {MANIFEST})."
            )
        verify_checksums(directory)
        self.manifest, self.source_vocab, self.target_vocab = read_manifest(directory)
        for role in ("encoder", "decoder"):
            GRAPH_CHECKS[self.manifest["format"]](directory / self.manifest[role])
        self.graphs = GRAPHS[self.manifest["format"]](directory, self.manifest)

    def run(self, role: str, feeds: dict) -> list[np.ndarray]:
        """The outputs of the encoder or decoder graph; a graph that fails gives one line naming its file."""
        try:
            return self.graphs.run(role, feeds)
        except Exception as error:  # a graph that does not fit its manifest fails inside the runtime
            raise ExportedModelError(f"{self.graphs.paths[role]}: running it failed: {first_line(error)}") from None

    def translate(self, texts: list[str], max_length: int | None = None, batch_size: int = BATCH_SIZE) -> list[str]:
        """The greedy translation of each text, in batches of sentences of about equal length."""
        encoded = [self.source_vocab.encode(text) for text in texts]
        translations: list[str] = [""] * len(texts)
        by_length = sorted(range(len(texts)), key=lambda row: len(encoded[row]))
        for start in range(0, len(texts), batch_size):
            rows = by_length[start : start + batch_size]
            source = np.zeros(
                (len(rows), max(1, *(len(encoded[row]) for row in rows))), dtype=np.int32
            )  # padding id 0 is masked
            for position, row in enumerate(rows):
                source[position, : len(encoded[row])] = encoded[row]
            limits = np.array([max_length or 2 * len(encoded[row]) + 10 for row in rows])
            for row, ids in zip(rows, self.greedy(source, limits)):
                translations[row] = self.target_vocab.decode(ids)
        return translations

    def greedy(self, source: np.ndarray, limits: np.ndarray) -> np.ndarray:
        """Output ids `(batch, longest)`: the most probable token at each step, padding after the end.

        A sentence leaves the batch when it ends, so each step runs only the sentences still going.
        """
        manifest, names = self.manifest, self.manifest["state_names"]
        encoded = dict(zip(manifest["encoder_outputs"], self.run("encoder", {"encoder_tokens": source})))
        going = np.flatnonzero(limits > 0)  # the rows still decoding
        states = [encoded[name][going] for name in names]
        memory = {name: encoded[name][going] for name in ("encoder_outputs", "encoder_mask") if name in encoded}
        tokens = np.full((len(going),), manifest["start_id"], dtype=np.int32)
        output = np.zeros((len(source), int(limits.max(initial=0))), dtype=np.int32)
        for index in range(output.shape[1]):
            if len(going) == 0:
                break
            outputs = self.run("decoder", {"decoder_tokens": tokens[:, None], **dict(zip(names, states)), **memory})
            states = outputs[1 : 1 + len(names)]
            tokens = outputs[0][:, -1].argmax(axis=-1).astype(np.int32)
            output[going, index] = tokens
            keep = (tokens != manifest["end_id"]) & (index + 1 < limits[going])
            if not keep.all():
                going, tokens = going[keep], tokens[keep]
                states = [state[keep] for state in states]
                memory = {name: value[keep] for name, value in memory.items()}
        return output


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(
            "usage: python -m seq2seq.export.runner EXPORTED_DIR [TEXT ...] (default: one text per line from standard "
            "input)",
            file=sys.stderr,
        )
        return 2
    texts = argv[1:] or [line.rstrip("\n") for line in sys.stdin]
    try:
        translations = ExportedTranslator(argv[0]).translate(texts)
    except Seq2SeqError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for translation in translations:
        print(translation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
