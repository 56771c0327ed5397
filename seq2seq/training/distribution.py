"""Training on many devices or machines with TensorFlow's `tf.distribute`, and mixed precision.

`mirrored` copies the model onto every local device (GPUs, or logical CPU devices) and splits
each global batch between them; `multi-worker` does the same across machines described by the
`TF_CONFIG` environment variable. Keras `fit` handles the splitting and the gradient sums.
"""

from __future__ import annotations

import contextlib
import os

import keras

from seq2seq.errors import ConfigError

STRATEGIES = ("mirrored", "multi-worker")
LOGICAL_CPUS_VARIABLE = "SEQ2SEQ_LOGICAL_CPUS"  # split the CPU into this many devices (to try mirrored on one machine)


def split_cpu_from_environment() -> None:
    """Split the CPU into `$SEQ2SEQ_LOGICAL_CPUS` logical devices; must run before TensorFlow starts."""
    count = os.environ.get(LOGICAL_CPUS_VARIABLE)
    if not count or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    (cpu,) = tf.config.list_physical_devices("CPU")[:1]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(count))


def strategy_for(name: str | None):
    """The `tf.distribute` strategy called `name`, or None for the default single device."""
    if name is None:
        return None
    if name not in STRATEGIES:
        raise ConfigError(f"distribute must be one of {', '.join(STRATEGIES)}; got {name!r}.")
    if keras.backend.backend() != "tensorflow":
        raise ConfigError(f"--distribute {name} needs the TensorFlow backend (KERAS_BACKEND=tensorflow).")
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    return tf.distribute.MultiWorkerMirroredStrategy()


def strategy_scope(strategy):
    """Build and compile inside this: the strategy's scope, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


@contextlib.contextmanager
def precision_policy(mixed: bool):
    """Create layers under the `mixed_bfloat16` policy (bfloat16 maths, float32 weights) if asked."""
    if not mixed:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
