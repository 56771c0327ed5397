"""What a distributed `fit` adds to a one-device one: one stopping decision, the chief's files, clear failures.

- `AgreeToStop` makes every worker stop after the same step: after each step the workers
  all-reduce whether any of them wants to stop (its time budget, Ctrl-C or SIGTERM), so a
  worker whose clock ran ahead never leaves the others waiting in a collective.
- `worker_settings` sends the checkpoints and logs of every worker but the chief to a temporary
  folder, deleted at the end: a worker must still save when the chief does (saving under a
  `MultiWorkerMirroredStrategy` is a collective step), but nothing of it is kept.
- `stop_on_lost_peers` turns the errors of a collective whose peer died or never answered into
  one `DistributionError` line.
- `build_before_fit` works around Keras 3's TensorFlow trainer, which learns the input shapes
  under a strategy by averaging the first distributed batch across replicas (`strategy.reduce`):
  that fails for a `MultiWorkerMirroredStrategy` (a dict of per-replica values) and for replicas
  given unequal shares, and reads ahead into the dataset. The model is built from symbolic
  inputs here instead, and that step is skipped. The same trainer averages each step's scalar
  logs across workers along an axis they lack (tensorflow/tensorflow#72388): `mean_over_workers`
  averages them whole. Its loss is a mean of the replicas' means: `_mean_over_all_real_tokens`
  makes it the one-device mean.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

from seq2seq.training.distribution import DistributionError, Placement, first_line

# TensorFlow's errors of a collective that lost a peer or timed out (by class name: TensorFlow is optional here).
_LOST_PEER_ERRORS = {"UnavailableError", "DeadlineExceededError", "CancelledError", "AbortedError", "InternalError"}


class AgreeToStop(keras.callbacks.Callback):
    """After every step, stop every worker if any of them asked to stop (all-reduced across the workers).

    Runs after the callbacks that ask (a `StopTraining`); `stopper`, if given, is told why a
    worker stops that did not ask itself.
    """

    def __init__(self, placement: Placement, stopper=None):
        super().__init__()
        self.placement = placement
        self.stopper = stopper

    def on_train_batch_end(self, batch, logs=None):
        asked = bool(self.model.stop_training)
        if any_worker(self.placement, asked) and not asked:
            self.model.stop_training = True
            if self.stopper is not None:
                self.stopper.request("another worker stopped")


def any_worker(placement: Placement, flag: bool) -> bool:
    """Whether `flag` is true on any worker: one small all-reduce (or all-gather) across them."""
    if placement.workers < 2:
        return flag
    if keras.backend.backend() == "jax":
        from jax.experimental import multihost_utils

        return bool(np.any(multihost_utils.process_allgather(np.int32(flag))))
    import tensorflow as tf

    strategy = placement.engine
    value = strategy.experimental_distribute_values_from_function(lambda context: tf.constant(int(flag)))
    return int(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)) > 0


@contextlib.contextmanager
def worker_settings(train_config, placement: Placement):
    """`train_config` for this worker: the chief's own; the others' checkpoints and logs go to a temporary folder."""
    if placement.chief:
        yield train_config
        return
    with tempfile.TemporaryDirectory(prefix="seq2seq-worker-") as folder:
        yield dataclasses.replace(
            train_config,
            checkpoint_dir=train_config.checkpoint_dir and str(Path(folder) / "checkpoints"),
            logdir=train_config.logdir and str(Path(folder) / "logs"),
        )


def save_nowhere(model) -> None:
    """Save as the chief does, into a temporary folder then deleted: under a strategy, saving takes every worker."""
    with tempfile.TemporaryDirectory(prefix="seq2seq-worker-") as folder:
        model.save(Path(folder) / "model.keras")


@contextlib.contextmanager
def stop_on_lost_peers(placement: Placement):
    """Within this block, the error of a collective whose peer is gone becomes one `DistributionError` line."""
    if placement.workers < 2:
        yield
        return
    try:
        yield
    except Exception as error:
        name = type(error).__name__
        if not (name in _LOST_PEER_ERRORS or "Jax" in name or "Xla" in name or "gloo" in str(error).lower()):
            raise
        if keras.backend.backend() == "jax":
            atexit.register(_leave_without_shutdown)
        raise DistributionError(
            f"worker {placement.worker} of {placement.workers} lost contact with the others ({first_line(error)}); "
            "start every worker again with --resume to continue from the last checkpoint."
        ) from None


def _leave_without_shutdown() -> None:
    """End a JAX process that lost its peers with status 2, skipping JAX's own exit: its distributed
    shutdown waits for the lost peers and then aborts the process (registered later, this runs first)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(2)


def build_before_fit(model, placement: Placement) -> None:
    """Build the model's state for a TensorFlow strategy from symbolic inputs, and skip Keras' own build."""
    if placement.engine is None or keras.backend.backend() != "tensorflow":
        return
    ids = keras.KerasTensor((None, None), "int32")
    with placement.scope():
        model._symbolic_build(data_batch=({"encoder_tokens": ids, "decoder_tokens": ids}, ids))
    object.__setattr__(model, "_maybe_symbolic_build", lambda iterator=None, data_batch=None: None)
    object.__setattr__(model, "compute_loss", _mean_over_all_real_tokens(model.compute_loss))
    if placement.workers > 1:
        mean_over_workers()


def _mean_over_all_real_tokens(compute_loss):
    """`compute_loss` that averages over the real tokens of the whole global batch, not of each replica.

    Under a `tf.distribute` strategy each replica's loss is the mean over its own real target
    tokens, divided by the replicas, and the gradients are summed: a mean of means, which counts
    a token of a replica with few real rows (the padding rows of a bucket's last batch) for more,
    and one of padding only for nothing. Weighting each replica by its share of the global real
    tokens gives the one-device mean (JAX's `DataParallel` computes that mean itself).
    """
    import tensorflow as tf

    def mean_over_all(x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = compute_loss(x, y, y_pred, sample_weight, training=training)
        replica = tf.distribute.get_replica_context()
        if loss is None or replica is None or replica.num_replicas_in_sync == 1:
            return loss
        real = tf.reduce_sum(tf.cast(tf.not_equal(y, 0), loss.dtype))
        total = replica.all_reduce(tf.distribute.ReduceOp.SUM, real)
        return loss * real * replica.num_replicas_in_sync / tf.maximum(total, 1.0)

    return mean_over_all


def mean_over_workers() -> None:
    """Make Keras' TensorFlow trainer average a step's logs over the workers without naming an axis (once)."""
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "averages_whole_values", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return keras.tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.averages_whole_values = True
    trainer.reduce_per_replica = reduce_per_replica
