"""The ONNX graphs of an export, opened and run by onnxruntime (never Keras), and what both runtimes share.

`OnnxGraphs(directory, manifest)` opens the graphs of a checked export (`translator.py` checks
it first) and runs them: `run(role, feeds)` gives a graph's outputs in manifest order, and
`workers` says how many batches may be searched at once. The TensorFlow twin,
`SavedModelGraphs`, stays in `translator.py`, the one module besides `seq2seq/host.py` allowed
to copy tensors to NumPy itself (`tests/test_host.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seq2seq.export.manifest import MANIFEST, ExportedModelError


def first_line(error: Exception) -> str:
    """The first line of an error from TensorFlow or onnxruntime, whose messages run to many."""
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def graph_roles(manifest: dict) -> tuple[str, ...]:
    """The graphs an export holds: encoder and decoder, and in ONNX exports the search step."""
    return ("encoder", "decoder") + (("search_step",) if "search_step" in manifest else ())


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1


class OnnxGraphs:
    """The exported graphs as ONNX models run by onnxruntime.

    The encoder and the step the searches use are opened at once; the classic decoder, which
    an export with a search step never runs, only if it is asked for.

    Each run uses one thread, and `workers` batches (one per usable CPU) are searched at once
    from as many Python threads (onnxruntime releases the GIL while it runs). A search step is
    a chain of small operations over a few hundred rows, which onnxruntime's own threads split
    badly: waking them for every operation cost about as much as the second core gave (2,000
    sentences at beam 5: 64 µs of wall time per row with two intra-op threads, 50 µs of CPU
    time with one), and spinning instead burns a core that other processes want.
    """

    def __init__(self, directory: Path, manifest: dict):
        import onnxruntime

        self.onnxruntime, self.manifest = onnxruntime, manifest
        self.workers = usable_cpus()
        self.options = onnxruntime.SessionOptions()
        self.options.log_severity_level = 3  # errors only
        self.options.intra_op_num_threads = self.options.inter_op_num_threads = 1
        self.options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.paths = {role: directory / manifest[role] for role in graph_roles(manifest)}
        self.sessions: dict = {}
        for role in ("encoder", "search_step" if "search_step" in manifest else "decoder"):
            self.session(role)

    def session(self, role: str):
        """The onnxruntime session of `role`, opened and checked against the manifest on first use."""
        if role not in self.sessions:
            path, manifest = self.paths[role], self.manifest
            try:
                session = self.onnxruntime.InferenceSession(str(path), self.options, providers=["CPUExecutionProvider"])
            except Exception as error:  # onnxruntime reports a bad model as several types
                raise ExportedModelError(f"{path}: cannot be loaded by onnxruntime: {first_line(error)}") from None
            inputs, outputs = {node.name for node in session.get_inputs()}, session.get_outputs()
            if inputs != set(manifest[f"{role}_inputs"]) or len(outputs) != len(manifest[f"{role}_outputs"]):
                raise ExportedModelError(f"{path}: its inputs and outputs are not those {MANIFEST} names.")
            self.sessions[role] = session
        return self.sessions[role]

    def run(self, role: str, feeds: dict) -> list[np.ndarray]:
        return self.session(role).run(None, feeds)
