"""Training on many devices or machines: `tf.distribute` on TensorFlow, `keras.distribution` on JAX.

`mirrored` copies the model onto every local device (GPUs, or logical CPU devices) and splits
each global batch between them; `multi-worker` does the same across processes, usually one per
machine: on TensorFlow the machines named in `TF_CONFIG` (`MultiWorkerMirroredStrategy`), on
JAX the processes that joined one coordinator (`join_cluster`, `jax.distributed`) and share a
`keras.distribution.DataParallel` over all their devices. PyTorch has neither in Keras, so it
is refused.

Every global batch has a size divisible by the number of replicas and a fixed shape per bucket
(see `seq2seq.data.pipeline`), so each replica gets an equal share; on JAX each process reads
only its own rows of every batch (`Placement.shard`). Worker 0 is the chief: it alone writes
the model, checkpoints, history and logs. A worker waits `JOIN_TIMEOUT_SECONDS` for the others
to start, and a peer that stops answering ends the run within about `PEER_TIMEOUT_SECONDS`
(both overridable through `$SEQ2SEQ_JOIN_TIMEOUT` and `$SEQ2SEQ_PEER_TIMEOUT`) with one line
(`DistributionError`); `--resume` then continues from the last checkpoint.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from dataclasses import dataclass

import keras

from seq2seq.errors import ConfigError, Seq2SeqError

STRATEGIES = ("mirrored", "multi-worker")
LOGICAL_CPUS_VARIABLE = "SEQ2SEQ_LOGICAL_CPUS"  # split the CPU into this many devices (to try mirrored on one machine)
CLUSTER_VARIABLES = {  # JAX's multi-worker cluster, where --coordinator, --num-processes, --process-id are not given
    "coordinator": "SEQ2SEQ_COORDINATOR",
    "num_processes": "SEQ2SEQ_NUM_PROCESSES",
    "process_id": "SEQ2SEQ_PROCESS_ID",
}
JOIN_TIMEOUT_SECONDS = 120  # how long a worker waits for all the others to start
PEER_TIMEOUT_SECONDS = 60  # how long a silent peer may take before the run stops
_TELLING = re.compile(r"is down|abort|unavailable|deadline|timed? ?out|connect|closed|refused", re.IGNORECASE)
_NODE = re.compile(r"\{\{[^}]*\}\}|\[\[[^\]]*\]\]")  # TensorFlow's {{function_node ...}} and [[node ...]]


class DistributionError(Seq2SeqError):
    """A worker could not reach the others, or lost one: the run stops and resumes from its last checkpoint."""


def timeout(name: str, default: int) -> int:
    """`$SEQ2SEQ_<name>` seconds if set (a positive integer), else `default`."""
    variable = f"SEQ2SEQ_{name}"
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) == 0:
        raise ConfigError(f"${variable} must be a positive number of seconds, got {text!r}.")
    return int(text)


def split_cpu_from_environment() -> None:
    """Split the CPU into `$SEQ2SEQ_LOGICAL_CPUS` logical devices; must run before TensorFlow starts.

    On JAX the same is `XLA_FLAGS=--xla_force_host_platform_device_count=N`, set before JAX starts.
    """
    count = os.environ.get(LOGICAL_CPUS_VARIABLE)
    if not count or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    (cpu,) = tf.config.list_physical_devices("CPU")[:1]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(count))


def join_cluster(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None):
    """On JAX, join the processes of a multi-worker training (`jax.distributed.initialize`); before JAX computes.

    Each setting not given comes from `CLUSTER_VARIABLES` in the environment; nothing is joined
    where no coordinator is named. Returns `(process_id, num_processes)` once joined, else None.
    """
    given = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    settings = {
        key: value if value is not None else os.environ.get(CLUSTER_VARIABLES[key]) for key, value in given.items()
    }
    if not settings["coordinator"]:
        if settings["num_processes"] is not None or settings["process_id"] is not None:
            raise ConfigError("--num-processes and --process-id need --coordinator HOST:PORT (process 0's address).")
        return None
    if keras.backend.backend() != "jax":
        raise ConfigError("--coordinator joins JAX processes; on TensorFlow describe the workers in TF_CONFIG instead.")
    try:
        count, index = int(settings["num_processes"]), int(settings["process_id"])
    except (TypeError, ValueError):
        raise ConfigError(
            "--coordinator needs --num-processes N and --process-id I (0 to N-1) as whole numbers, got "
            f"{settings['num_processes']!r} and {settings['process_id']!r}."
        ) from None
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--process-id must be from 0 to {count - 1} (--num-processes {count}), got {index}.")
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU devices of several processes talk over TCP
    try:
        jax.distributed.initialize(
            settings["coordinator"],
            count,
            index,
            initialization_timeout=timeout("JOIN_TIMEOUT", JOIN_TIMEOUT_SECONDS),
            heartbeat_timeout_seconds=timeout("PEER_TIMEOUT", PEER_TIMEOUT_SECONDS),
            shutdown_timeout_seconds=timeout("PEER_TIMEOUT", PEER_TIMEOUT_SECONDS),
        )
    except Exception as error:  # noqa: BLE001 (JAX reports an unreachable coordinator in several types)
        raise DistributionError(
            f"process {index} of {count} could not join the coordinator at {settings['coordinator']} within "
            f"{timeout('JOIN_TIMEOUT', JOIN_TIMEOUT_SECONDS)}s ({first_line(error)})."
        ) from None
    return index, count


def first_line(error: BaseException) -> str:
    """The telling line of an error's message, for a one-line report: the one that says what failed, else the first."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
    telling = [line for line in lines if _TELLING.search(line)]
    return _NODE.sub("", telling[-1] if telling else lines[0]).strip()[:300]


def tf_config_task() -> tuple[int, int, bool]:
    """`(index, workers, chief)` of this process in `$TF_CONFIG`; `(0, 1, True)` where there is none."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return 0, 1, True
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            '$TF_CONFIG must be JSON such as {"cluster": {"worker": ["host0:port", "host1:port"]}, '
            f'"task": {{"type": "worker", "index": 0}}}} ({first_line(error)}).'
        ) from None
    if "chief" in cluster:
        position = 0 if kind == "chief" else index + 1
    else:
        position = index
    return position, workers, position == 0


def is_chief(name: str | None) -> bool:
    """Whether this process writes the files of a training distributed as `name` (worker 0 does)."""
    if name != "multi-worker":
        return True
    if keras.backend.backend() == "jax":
        import jax

        return jax.process_index() == 0
    return tf_config_task()[2]


@dataclass(frozen=True)
class Placement:
    """Where a training runs: the engine object, the replicas sharing each batch, and this worker's place."""

    name: str | None = None  # None (one device), "mirrored" or "multi-worker"
    engine: object = None  # a tf.distribute strategy, a keras.distribution.DataParallel, or None
    replicas: int = 1  # devices that share each global batch, over all workers
    worker: int = 0  # this process's index among the workers
    workers: int = 1  # processes taking part

    @property
    def chief(self) -> bool:
        """Whether this process writes the model, checkpoints, history and logs."""
        return self.worker == 0

    @property
    def shard(self) -> tuple[int, int]:
        """`(index, count)`: which rows of every global batch this process reads (JAX: its own; TF: all)."""
        if keras.backend.backend() == "jax":
            return self.worker, self.workers
        return 0, 1

    def scope(self):
        """Build, compile and fit inside this: the strategy's or the distribution's scope, or nothing."""
        return self.engine.scope() if self.engine is not None else contextlib.nullcontext()


@functools.cache
def placement_for(name: str | None) -> Placement:
    """The placement called `name` (one per process: a strategy joins its cluster only once)."""
    if name is None:
        return Placement()
    if name not in STRATEGIES:
        raise ConfigError(f"distribute must be one of {', '.join(STRATEGIES)}; got {name!r}.")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_placement(name)
    if backend == "jax":
        return _jax_placement(name)
    raise ConfigError(
        f"--distribute {name} is not available on the {backend} backend (Keras distributes only TensorFlow and "
        "JAX); use KERAS_BACKEND=jax or KERAS_BACKEND=tensorflow."
    )


def _tensorflow_placement(name: str) -> Placement:
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
        return Placement(name, strategy, strategy.num_replicas_in_sync)
    worker, workers, _ = tf_config_task()
    if workers < 2:
        raise ConfigError(
            "--distribute multi-worker needs $TF_CONFIG naming two or more workers (see docs/distributed.md)."
        )
    from tensorflow.python.distribute import collective_all_reduce_strategy

    # TensorFlow's health check of the peers (class settings its own tests tune): wait so long for all
    # workers at the start, then ask every few seconds whether each peer is up, and abort the
    # collectives of a run that lost one, so the training ends with an error instead of waiting.
    peer_timeout = timeout("PEER_TIMEOUT", PEER_TIMEOUT_SECONDS)
    extended = collective_all_reduce_strategy.CollectiveAllReduceExtended
    extended._check_health_initial_timeout = timeout("JOIN_TIMEOUT", JOIN_TIMEOUT_SECONDS)
    extended._check_health_interval = max(1, peer_timeout // 4)
    extended._check_health_timeout = max(1, peer_timeout // 4)
    extended._check_health_retry_limit = 2
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=peer_timeout)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except RuntimeError as error:  # no answer from every worker in time
        raise DistributionError(
            f"worker {worker} of {workers} could not reach the others named in $TF_CONFIG ({first_line(error)})."
        ) from None
    return Placement(name, strategy, strategy.num_replicas_in_sync, worker, workers)


def _jax_placement(name: str) -> Placement:
    import jax

    processes = jax.process_count()
    if name == "multi-worker" and processes < 2:
        raise ConfigError(
            "--distribute multi-worker on JAX needs the processes to join first: pass --coordinator HOST:PORT, "
            "--num-processes N and --process-id I (or $SEQ2SEQ_COORDINATOR, ...) to every process."
        )
    devices = jax.devices() if name == "multi-worker" else jax.local_devices()
    distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    worker = jax.process_index() if name == "multi-worker" else 0
    return Placement(name, distribution, len(devices), worker, processes if name == "multi-worker" else 1)


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
