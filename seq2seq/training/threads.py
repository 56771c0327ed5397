"""CPU thread settings for training: the halves of each batch on cores of their own.

The fused LSTM kernel (`seq2seq.kernels.tensorflow_lstm`) runs a batch as `STREAMS`
independent parts whose small per-step products are latency-bound: split over both cores of
this machine, a part's 32-row product took as long as on one core (200 µs against 189 µs), and
on a core each the parts run side by side (5.9 s per epoch of the classic model against 7.4 s
with TensorFlow's defaults, `benchmarks/train.py`'s setting). So training asks TensorFlow for `cores // STREAMS` threads per operation and `STREAMS`
operations at once (on 2 cores: 1 and 2). The command line does this before TensorFlow starts;
in Python, call `configure_training_threads()` before anything runs on TensorFlow.
"""

from __future__ import annotations

import os

THREADS_VARIABLE = "SEQ2SEQ_CPU_THREADS"  # "keep": leave TensorFlow's own thread settings


def configure_training_threads() -> tuple[int, int] | None:
    """Set TensorFlow's `(intra-op, inter-op)` threads for CPU training and return them.

    Returns None where the settings are left alone: `$SEQ2SEQ_CPU_THREADS` is `keep`, the
    backend is not TensorFlow, a GPU is visible, or TensorFlow is already running.
    """
    import keras

    if os.environ.get(THREADS_VARIABLE, "").strip().lower() == "keep" or keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    from seq2seq.kernels.tensorflow_lstm import STREAMS

    if tf.config.list_physical_devices("GPU"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    settings = (max(1, cores // STREAMS), STREAMS)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(settings[0])
        tf.config.threading.set_inter_op_parallelism_threads(settings[1])
    except RuntimeError:  # TensorFlow has started: its thread pools are fixed
        return None
    return settings
