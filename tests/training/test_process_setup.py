"""Process settings for training: CPU threads (before TensorFlow starts) and JAX's compilation cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import pytest

from seq2seq.training.process_setup import CACHE_VARIABLE, compilation_cache_folder, enable_compilation_cache

REPORT = """
import json, sys
import tensorflow as tf
from seq2seq.training.process_setup import configure_training_threads
if sys.argv[1] == "late":
    tf.constant(1.0) + 1.0  # TensorFlow starts with its own thread pools
settings = configure_training_threads()
tf.constant(1.0) + 1.0
print(json.dumps([settings, tf.config.threading.get_intra_op_parallelism_threads(),
                  tf.config.threading.get_inter_op_parallelism_threads()]))
"""


def _report(when="early", **environment):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", **environment}
    result = subprocess.run([sys.executable, "-c", REPORT, when], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="counts the cores this process may use")
def test_training_gives_each_of_the_two_parallel_parts_its_share_of_the_cores():
    cores = len(os.sched_getaffinity(0))
    settings, intra, inter = _report()
    assert settings == [max(1, cores // 2), 2] == [intra, inter]


def test_once_tensorflow_runs_its_thread_pools_are_left_as_they_are():
    assert _report("late") == [None, 0, 0]  # 0: TensorFlow's defaults


def test_keep_leaves_tensorflows_own_thread_settings():
    assert _report(SEQ2SEQ_CPU_THREADS="keep") == [None, 0, 0]


def test_compiled_programs_are_kept_in_the_users_cache_folder_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compilation_cache_folder() == tmp_path / "seq2seq" / "jax"
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "programs"))
    assert compilation_cache_folder() == tmp_path / "programs"
    monkeypatch.setenv(CACHE_VARIABLE, "off")
    assert compilation_cache_folder() is None


CACHE_RUN = """
import json
from jax import monitoring
hits = []
def count(event, **details):
    if event.endswith("/cache_hits"):
        hits.append(event)
monitoring.register_event_listener(count)
import jax, jax.numpy as jnp
jnp.ones(3) + 1  # JAX compiles (and looks for its cache) before the training starts
from seq2seq.training.process_setup import enable_compilation_cache
folder = enable_compilation_cache()
jax.jit(lambda x: jnp.tanh(x @ x.T).sum())(jnp.ones((5, 7)))
print(json.dumps([folder, len(hits)]))
"""


@pytest.mark.slow
def test_a_second_process_on_jax_loads_its_programs_from_the_cache_instead_of_compiling(tmp_path):
    pytest.importorskip("jax")
    runs = []
    for _ in range(2):
        env = {
            **os.environ,
            "KERAS_BACKEND": "jax",
            CACHE_VARIABLE: str(tmp_path / "cache"),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        }
        result = subprocess.run([sys.executable, "-c", CACHE_RUN], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert runs[0] == [str(tmp_path / "cache"), 0]
    assert runs[1][1] >= 1 and any((tmp_path / "cache").iterdir())


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="on JAX it would use the user's cache folder")
def test_other_backends_keep_no_compilation_cache():
    assert enable_compilation_cache() is None
