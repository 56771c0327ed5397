"""Greedy translation with an exported model, by TensorFlow alone or onnxruntime alone (no Keras).

    python -m seq2seq.export.runner EXPORTED_DIR "Go." "Who are you?"

`ExportedTranslator(directory).translate(texts)` tokenizes with the exported vocabularies,
sorts the sentences by length into batches, runs the encoder once per batch, then the decoder
step over the sentences still going until each has ended (the end id, or 2 x source tokens +
10 tokens, as `Seq2Seq.translate` does). `seq2seq translate EXPORTED_DIR` runs the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from seq2seq.data.vocabulary import Vocabulary
from seq2seq.export.exporter import MANIFEST


class SavedModelGraphs:
    """The exported graphs as TensorFlow SavedModels (`tf.saved_model.load`)."""

    def __init__(self, directory: Path, manifest: dict):
        import tensorflow as tf

        self.tf = tf
        self.encoder = tf.saved_model.load(str(directory / manifest["encoder"])).signatures["serving_default"]
        self.decoder = tf.saved_model.load(str(directory / manifest["decoder"])).signatures["serving_default"]

    def run(self, graph, feeds: dict) -> list[np.ndarray]:
        outputs = graph(**{name: self.tf.constant(value) for name, value in feeds.items()})
        return [outputs[f"output_{index}"].numpy() for index in range(len(outputs))]

    def encode(self, feeds: dict) -> list[np.ndarray]:
        return self.run(self.encoder, feeds)

    def step(self, feeds: dict) -> list[np.ndarray]:
        return self.run(self.decoder, feeds)


class OnnxGraphs:
    """The exported graphs as ONNX models run by onnxruntime."""

    def __init__(self, directory: Path, manifest: dict):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        self.encoder = onnxruntime.InferenceSession(str(directory / manifest["encoder"]), options, providers=["CPUExecutionProvider"])
        self.decoder = onnxruntime.InferenceSession(str(directory / manifest["decoder"]), options, providers=["CPUExecutionProvider"])

    def encode(self, feeds: dict) -> list[np.ndarray]:
        return self.encoder.run(None, feeds)

    def step(self, feeds: dict) -> list[np.ndarray]:
        return self.decoder.run(None, feeds)


GRAPHS = {"saved_model": SavedModelGraphs, "onnx": OnnxGraphs}
BATCH_SIZE = 256  # sentences decoded together, as `seq2seq translate` does


class ExportedTranslator:
    """Greedy batched translation with a directory written by `seq2seq export`."""

    def __init__(self, directory):
        directory = Path(directory)
        self.manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        self.source_vocab = Vocabulary.from_config(self.manifest["source_vocab"])
        self.target_vocab = Vocabulary.from_config(self.manifest["target_vocab"])
        self.graphs = GRAPHS[self.manifest["format"]](directory, self.manifest)

    def translate(self, texts: list[str], max_length: int | None = None, batch_size: int = BATCH_SIZE) -> list[str]:
        """The greedy translation of each text, in batches of sentences of about equal length."""
        encoded = [self.source_vocab.encode(text) for text in texts]
        translations: list[str] = [""] * len(texts)
        by_length = sorted(range(len(texts)), key=lambda row: len(encoded[row]))
        for start in range(0, len(texts), batch_size):
            rows = by_length[start : start + batch_size]
            source = np.zeros((len(rows), max(1, *(len(encoded[row]) for row in rows))), dtype=np.int32)  # padding id 0 is masked
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
        encoded = dict(zip(manifest["encoder_outputs"], self.graphs.encode({"encoder_tokens": source})))
        going = np.flatnonzero(limits > 0)  # the rows still decoding
        states = [encoded[name][going] for name in names]
        memory = {name: encoded[name][going] for name in ("encoder_outputs", "encoder_mask") if name in encoded}
        tokens = np.full((len(going),), manifest["start_id"], dtype=np.int32)
        output = np.zeros((len(source), int(limits.max(initial=0))), dtype=np.int32)
        for index in range(output.shape[1]):
            if len(going) == 0:
                break
            outputs = self.graphs.step({"decoder_tokens": tokens[:, None], **dict(zip(names, states)), **memory})
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
        print("usage: python -m seq2seq.export.runner EXPORTED_DIR [TEXT ...] (default: one text per line from standard input)", file=sys.stderr)
        return 2
    texts = argv[1:] or [line.rstrip("\n") for line in sys.stdin]
    for translation in ExportedTranslator(argv[0]).translate(texts):
        print(translation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
