"""Thread settings for CPU training, which must be made before TensorFlow starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPORT = """
import json, sys
import tensorflow as tf
from seq2seq.training.threads import configure_training_threads
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
