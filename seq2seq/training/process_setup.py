"""Process settings a training makes before it starts: CPU threads, and JAX's compilation cache.

CPU threads: the halves of each batch on cores of their own.

The fused LSTM kernel (`seq2seq.kernels.tensorflow_lstm`) runs a batch as `STREAMS`
independent parts whose small per-step products are latency-bound: split over both cores of
this machine, a part's 32-row product took as long as on one core (200 µs against 189 µs), and
on a core each the parts run side by side (5.9 s per epoch of the classic model against 7.4 s
with TensorFlow's defaults, `benchmarks/train.py`'s setting). So training asks TensorFlow for
`cores // STREAMS` threads per operation and `STREAMS` operations at once (on 2 cores: 1 and 2).
The command line does this before TensorFlow starts; in Python, call
`configure_training_threads()` before anything runs on TensorFlow.

Compilation cache: JAX compiles a program for every batch shape (seconds each, on a GPU too),
and the next training of the same model settings on the same data compiles the same programs.
`enable_compilation_cache()` keeps them in a folder (JAX's persistent cache), so later runs
load them instead: a second small training on a 2-core CPU spent 1.2 s compiling instead of
33 s (40 s in all against 5 s), and a run with a short time budget trains instead of
compiling. The folder is `$SEQ2SEQ_COMPILATION_CACHE`, else `seq2seq/jax` in the user's cache
folder (`$XDG_CACHE_HOME`, `~/.cache`), capped at `CACHE_BYTES` (the least recently used
programs go first); `off` turns it off. A folder set for JAX itself (`JAX_COMPILATION_CACHE_DIR`)
is used as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

THREADS_VARIABLE = "SEQ2SEQ_CPU_THREADS"  # "keep": leave TensorFlow's own thread settings
CACHE_VARIABLE = "SEQ2SEQ_COMPILATION_CACHE"  # a folder for JAX's compiled programs, or "off"
CACHE_BYTES = 2 * 1024**3
CACHE_MIN_SECONDS = 0.1  # JAX keeps only programs that took 1 s to compile; a training's many smaller ones add up


def configure_training_threads() -> tuple[int, int] | None:
    """Set TensorFlow's `(intra-op, inter-op)` threads for CPU training and return them.

    Returns None where the settings are left alone: `$SEQ2SEQ_CPU_THREADS` is `keep`, the
    backend is not TensorFlow, a GPU is visible, or TensorFlow is already running.
    """
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


def compilation_cache_folder() -> Path | None:
    """Where compiled programs are kept: `$SEQ2SEQ_COMPILATION_CACHE`, or the user's cache folder; None if `off`."""
    setting = os.environ.get(CACHE_VARIABLE, "").strip()
    if setting.lower() in ("off", "0", "no", "false", "none"):
        return None
    if setting:
        return Path(setting).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "seq2seq" / "jax"


def enable_compilation_cache() -> str | None:
    """Keep JAX's compiled programs on disk for later runs; return the folder, or None where nothing is kept.

    Nothing is kept on other backends or with `$SEQ2SEQ_COMPILATION_CACHE=off`; a folder that
    JAX was already given is kept as it is and returned.
    """
    if keras.backend.backend() != "jax":
        return None
    import jax

    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    folder = compilation_cache_folder()
    if folder is None:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    if jax.config.jax_compilation_cache_max_size == -1:  # JAX's default: no limit
        jax.config.update("jax_compilation_cache_max_size", CACHE_BYTES)
    if jax.config.jax_persistent_cache_min_compile_time_secs == 1.0:  # JAX's default
        jax.config.update("jax_persistent_cache_min_compile_time_secs", CACHE_MIN_SECONDS)
    return str(folder)
