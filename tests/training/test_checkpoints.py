"""Checkpoints, resume, history files and checkpoint averaging (kill -9: test_no_work_lost.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.errors import Seq2SeqError
from seq2seq.models.compile_objects import SmoothedTokenCrossentropy
from seq2seq.models.loading import load
from seq2seq.training.averaging import average_checkpoints
from seq2seq.training.checkpoints import CheckpointError, read_state
from seq2seq.training.fit import resume, train

PAIRS = [(f"w{i} x{i % 3}", f"v{i} y{i % 2}") for i in range(40)]
TINY = ModelConfig(units=6, embedding_dim=4, tokenizer="word")


def quick(tmp_path, **settings) -> TrainConfig:
    return TrainConfig(
        **{"epochs": 2, "batch_size": 8, "verbose": 0, "checkpoint_dir": str(tmp_path / "ckpt"), **settings}
    )


def test_every_epoch_leaves_a_loadable_checkpoint_and_a_state_naming_it(tmp_path):
    model = train(PAIRS, TINY, quick(tmp_path, epochs=3))
    state = read_state(tmp_path / "ckpt")
    assert state["epoch"] == 3 and state["checkpoint"] == "epoch-003.keras"
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "epoch-001.keras",
        "epoch-002.keras",
        "epoch-003.keras",
        "state.json",
    ]
    assert len(state["history"]["loss"]) == 3 == len(model.training_summary["history"]["val_loss"])
    assert load(tmp_path / "ckpt" / "epoch-002.keras").source_vocab.tokens == model.source_vocab.tokens


def test_resume_continues_the_epochs_with_the_optimizer_state(tmp_path):
    train(PAIRS, TINY, quick(tmp_path, epochs=2))
    steps_after_two = int(load(tmp_path / "ckpt" / "epoch-002.keras").optimizer.iterations.numpy())
    model = resume(PAIRS, tmp_path / "ckpt", epochs=4)
    assert model.training_summary["epochs"] == 4
    assert len(model.training_summary["history"]["loss"]) == 4
    assert int(model.optimizer.iterations.numpy()) == 2 * steps_after_two
    assert read_state(tmp_path / "ckpt")["epoch"] == 4


def test_a_new_training_will_not_mix_its_checkpoints_with_an_earlier_runs(tmp_path):
    train(PAIRS, TINY, quick(tmp_path, epochs=1))
    with pytest.raises(CheckpointError, match="holds checkpoints of an earlier run; pass --resume"):
        train(PAIRS, TINY, quick(tmp_path, epochs=1))


def test_resuming_without_checkpoints_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        resume(PAIRS, tmp_path / "nothing")


def test_clipping_and_label_smoothing_reach_the_optimizer_and_the_loss(tmp_path):
    model = train(PAIRS, TINY, TrainConfig(epochs=1, batch_size=8, verbose=0, clip_norm=1.5, label_smoothing=0.1))
    assert model.optimizer.global_clipnorm == 1.5
    assert isinstance(model.loss, SmoothedTokenCrossentropy) and model.loss.label_smoothing == 0.1
    path = tmp_path / "smoothed.keras"
    model.save(path)
    assert isinstance(load(path).loss, SmoothedTokenCrossentropy)


def test_smoothed_loss_without_smoothing_equals_the_plain_real_token_cross_entropy():
    targets = np.array([[4, 5, 0], [6, 0, 0]])
    logits = np.random.RandomState(0).randn(2, 3, 8).astype("float32")
    logits[..., [0, 2]] = -1e9
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(targets, logits)
    assert float(SmoothedTokenCrossentropy(0.0)(targets, logits)) == pytest.approx(float(plain), rel=1e-5)
    assert float(SmoothedTokenCrossentropy(0.2)(targets, logits)) > float(plain)


def test_averaging_checkpoints_takes_the_mean_of_each_weight(tmp_path):
    train(PAIRS, TINY, quick(tmp_path, epochs=2))
    paths = [tmp_path / "ckpt" / "epoch-001.keras", tmp_path / "ckpt" / "epoch-002.keras"]
    averaged = average_checkpoints(paths)
    first, second = (load(p).get_weights() for p in paths)
    for got, a, b in zip(averaged.get_weights(), first, second):
        np.testing.assert_allclose(got, (a + b) / 2, rtol=1e-6)
    other = tmp_path / "other.keras"
    train(PAIRS, ModelConfig(units=5, embedding_dim=4, tokenizer="word"), TrainConfig(epochs=1, verbose=0)).save(other)
    with pytest.raises(Seq2SeqError, match="not a checkpoint of the same run"):
        average_checkpoints([paths[0], other])


def test_mixed_precision_computes_in_bfloat16_with_float32_weights_and_loads_back(tmp_path):
    model = train(PAIRS, TINY, TrainConfig(epochs=1, batch_size=8, verbose=0, mixed_precision=True))
    assert model.decoder.rnn_layers[0].compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in model.weights)
    assert np.isfinite(model.training_summary["final_training_loss"])
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    path = tmp_path / "mixed.keras"
    model.save(path)
    assert isinstance(load(path).translate(["w1 x1"])[0], str)


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


@pytest.mark.slow
def test_a_resumed_training_ends_with_exactly_the_weights_of_an_uninterrupted_one(tmp_path, tatoeba_path):
    from seq2seq.data.corpus import read_tatoeba

    pairs = read_tatoeba(tatoeba_path, limit=400).pairs
    config = ModelConfig(units=8)  # the classic one-hot LSTM on characters: the fused kernel
    settings = {"verbose": 0, "batch_size": 32}
    uninterrupted = train(pairs, config, TrainConfig(epochs=3, checkpoint_dir=str(tmp_path / "a"), **settings))
    # Interrupted after its first epoch, so the learning-rate decay had planned for three.
    train(
        pairs,
        config,
        TrainConfig(epochs=3, checkpoint_dir=str(tmp_path / "b"), **settings),
        callbacks=[StopAfterFirstEpoch()],
    )
    resumed = resume(pairs, tmp_path / "b", epochs=3, verbose=0)
    assert resumed.training_summary["history"]["val_loss"] == uninterrupted.training_summary["history"]["val_loss"]
    for got, expected in zip(resumed.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)  # the same batches, optimizer state and arithmetic
