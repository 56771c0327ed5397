"""Greedy or beam search with an exported model, by TensorFlow alone or onnxruntime alone (no Keras).

    python -m seq2seq.export.translator EXPORTED_DIR "Go." "Who are you?"

`ExportedTranslator(directory).translate(texts)` tokenizes with the exported vocabularies,
sorts the sentences by length into batches, runs the encoder once per batch, then the decoder
step over the sentences still going until each has ended (the end id, or 2 x source tokens +
10 tokens, as `Seq2Seq.translate` does). `translate_nbest(texts, beam=5, nbest=3)` runs beam
search and gives scored n-best lists, the same as the Keras search's (`beam.py`).
`seq2seq translate EXPORTED_DIR` runs the same, and so does `seq2seq translate MODEL.keras`
through a cached export of the model (`cache.py`).

An exported directory is data from wherever it came from, so nothing in it runs before it is
checked: its checksum list (`checksums.py`), its manifest (`manifest.py`) and the operations
of its graphs (`saved_model_ops.py`, `onnx_ops.py`). Each refusal is one `ExportedModelError`
line naming the file.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from seq2seq.data.vocabulary import report_unknown, unknown_tokens_in
from seq2seq.errors import ConfigError, Seq2SeqError
from seq2seq.export.beam import IMPOSSIBLE, BeamSearch, greedy_search
from seq2seq.export.checksums import verify_checksums
from seq2seq.export.exporter import GRAPH_CHECKS, MANIFEST
from seq2seq.export.graphs import OnnxGraphs, first_line, graph_roles
from seq2seq.export.manifest import ExportedModelError, read_manifest
from seq2seq.export.step import DecoderStep
from seq2seq.search.config import SearchConfig
from seq2seq.search.hypothesis import Hypothesis, default_max_length


class SavedModelGraphs:
    """The exported graphs as TensorFlow SavedModels (`tf.saved_model.load`)."""

    workers = 1  # batches searched at once: TensorFlow spreads each run over the CPUs itself

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


GRAPHS = {"saved_model": SavedModelGraphs, "onnx": OnnxGraphs}
BATCH_SIZE = 256  # sentences decoded together, as `seq2seq translate` does


class ExportedTranslator:
    """Batched greedy or beam search with a directory written by `seq2seq export`."""

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
        for role in graph_roles(self.manifest):
            GRAPH_CHECKS[self.manifest["format"]](directory / self.manifest[role])
        self.graphs = GRAPHS[self.manifest["format"]](directory, self.manifest)
        self.step = DecoderStep(self.run, self.manifest, len(self.target_vocab))

    @property
    def has_attention(self) -> bool:
        return "encoder_mask" in self.manifest["encoder_outputs"]

    def run(self, role: str, feeds: dict) -> list[np.ndarray]:
        """The outputs of the encoder or decoder graph; a graph that fails gives one line naming its file."""
        try:
            return self.graphs.run(role, feeds)
        except Exception as error:  # a graph that does not fit its manifest fails inside the runtime
            raise ExportedModelError(f"{self.graphs.paths[role]}: running it failed: {first_line(error)}") from None

    def translate(self, texts: list[str], max_length: int | None = None, batch_size: int = BATCH_SIZE) -> list[str]:
        """The greedy translation of each text, in batches of sentences of about equal length."""
        found = self.translate_nbest(texts, max_length=max_length, batch_size=batch_size)
        return [hypotheses[0].text if hypotheses else "" for hypotheses in found]

    def translate_nbest(self, texts: list[str], search=None, progress=None, **overrides) -> list[list[Hypothesis]]:
        """The `nbest` best hypotheses `(text, score)` of each text, best first, as `Seq2Seq.translate_nbest`.

        `search` is a `SearchConfig` (default: greedy) and keyword arguments override its fields;
        greedy and beam search with their length and coverage penalties, minimum and maximum
        lengths, n-best and strict vocabulary are supported, and nothing else (sampling and
        n-gram blocking need the `.keras` file). `progress(count)` hears after each batch.

        Sentences are sorted by length into batches of at most `batch_size`, and into at least
        as many batches as the graphs search at once (`workers`), which then take the longest
        first, so that no worker is left alone with the last long batch.
        """
        config = (search or SearchConfig()).replace(**overrides)
        self.check_supported(config)
        encoded = [self.source_vocab.encode(text) for text in texts]
        report_unknown(unknown_tokens_in(self.source_vocab, texts, encoded), config.strict)
        found: list = [None] * len(texts)
        workers = self.graphs.workers
        size = min(config.batch_size, max(1, -(-len(texts) // workers)))
        order = sorted(range(len(texts)), key=lambda row: len(encoded[row]))
        batches = [order[start : start + size] for start in range(0, len(texts), size)]
        if workers == 1 or len(batches) == 1:
            finished = (self.search_batch(rows, encoded, config) for rows in batches)
            return self.collect(finished, found, progress)
        with ThreadPoolExecutor(min(workers, len(batches))) as pool:
            futures = [pool.submit(self.search_batch, rows, encoded, config) for rows in reversed(batches)]
            return self.collect((future.result() for future in as_completed(futures)), found, progress)

    @staticmethod
    def collect(finished, found: list, progress) -> list:
        """`found` with each finished batch's `(rows, hypotheses)` put in place, `progress` told of each."""
        for rows, hypotheses in finished:
            for row, listed in zip(rows, hypotheses):
                found[row] = listed
            if progress is not None:
                progress(len(rows))
        return found

    def search_batch(self, rows: list[int], encoded: list[list[int]], config) -> tuple[list[int], list]:
        """The sentences at `rows` of `encoded`, searched as one batch: `rows` and their hypotheses."""
        source = np.zeros((len(rows), max(1, *(len(encoded[row]) for row in rows))), dtype=np.int32)
        for position, row in enumerate(rows):  # padding id 0 is masked
            source[position, : len(encoded[row])] = encoded[row]
        limits = np.array([config.max_length or default_max_length(len(encoded[row])) for row in rows])
        hypotheses = [
            [
                Hypothesis(self.target_vocab.decode(hypothesis), float(score))
                for hypothesis, score in zip(ids, scores)
                if score > IMPOSSIBLE / 2
            ]
            for ids, scores in self.search(source, limits, config)
        ]
        return rows, hypotheses

    def check_supported(self, config) -> None:
        """Refuse, in one line, settings this runner cannot honour as the Keras search does."""
        if config.sample or config.no_repeat_ngram:
            raise ConfigError(
                "an exported model searches greedily or by beam, without --no-repeat-ngram; sampling and n-gram "
                "blocking need the .keras file."
            )
        if config.coverage_penalty and not self.has_attention:
            raise ConfigError(
                "the coverage penalty needs attention models; this one has none (drop --coverage-penalty)."
            )

    def search(self, source: np.ndarray, limits: np.ndarray, config) -> list:
        """Per sentence of the batch `source (batch, src_len)`, its output ids `(n, width)` and scores `(n,)`."""
        manifest = self.manifest
        encoded = dict(zip(manifest["encoder_outputs"], self.run("encoder", {"encoder_tokens": source})))
        states = [encoded[name] for name in manifest["state_names"]]
        memory = {name: value for name, value in encoded.items() if name in self.step.memory_names}
        start, end = manifest["start_id"], manifest["end_id"]
        if config.beam == 1:
            return greedy_search(self.step, states, memory, start, end, limits)
        search = BeamSearch(
            config.beam, config.nbest, config.length_penalty, config.coverage_penalty, config.min_length
        )
        return search(self.step, states, memory, source != 0, start, end, limits)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(
            "usage: python -m seq2seq.export.translator EXPORTED_DIR [TEXT ...] "
            "(default: one text per line from standard input)",
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
