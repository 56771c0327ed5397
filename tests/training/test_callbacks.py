"""Which callbacks a training runs, from its settings."""

from __future__ import annotations

from seq2seq.config import TrainConfig
from seq2seq.training.callbacks import training_callbacks
from seq2seq.training.selection import KeepBestWeights


def test_training_callbacks_follow_the_settings(tmp_path):
    settings = TrainConfig(
        patience=3, reduce_lr_patience=2, logdir=str(tmp_path / "logs"), checkpoint_dir=str(tmp_path / "c")
    )
    kinds = [type(c).__name__ for c in training_callbacks(settings, KeepBestWeights(), "val_loss", {})]
    assert kinds == ["KeepBestWeights", "EarlyStopping", "ReduceLROnPlateau", "TensorBoard", "EpochCheckpoint"]
    assert [type(c).__name__ for c in training_callbacks(TrainConfig(), KeepBestWeights(), "loss", {})] == [
        "KeepBestWeights",
        "DecayToEnd",
    ]
    constant = TrainConfig(lr_schedule="constant")
    assert [type(c).__name__ for c in training_callbacks(constant, KeepBestWeights(), "loss", {})] == [
        "KeepBestWeights"
    ]
