"""The callbacks a training runs besides best-model selection, each where its setting asks for it."""

from __future__ import annotations

import keras

from seq2seq.config import TrainConfig
from seq2seq.training.checkpoints import EpochCheckpoint
from seq2seq.training.schedules import DecayToEnd
from seq2seq.training.selection import KeepBestWeights


def training_callbacks(train_config: TrainConfig, keep_best: KeepBestWeights, monitor: str, history: dict) -> list:
    """Early stopping, learning-rate reduction, TensorBoard and checkpoints, as configured."""
    callbacks: list = [keep_best]
    if train_config.patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor=monitor, patience=train_config.patience, mode=keep_best.mode)
        )
    if train_config.reduce_lr_patience:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=0.5, patience=train_config.reduce_lr_patience, mode=keep_best.mode
            )
        )
    if train_config.schedule != "constant":
        callbacks.append(
            DecayToEnd(
                train_config.learning_rate, train_config.schedule, train_config.max_time, train_config.lr_decay_start
            )
        )
    if train_config.logdir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=train_config.logdir))
    if train_config.checkpoint_dir:
        callbacks.append(EpochCheckpoint(train_config.checkpoint_dir, train_config, keep_best, history))
    return callbacks
