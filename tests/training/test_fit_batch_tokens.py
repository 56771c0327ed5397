"""Training with batches sized by target tokens (`batch_tokens`, `seq2seq train --batch-tokens N`)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from seq2seq.cli import main
from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.errors import ConfigError
from seq2seq.training.fit import train, training_batches, validation_split


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "400"])
def test_batch_tokens_must_be_a_positive_integer_or_none(value):
    with pytest.raises(ConfigError, match="batch_tokens must be a positive integer"):
        TrainConfig(batch_tokens=value)


def test_the_command_line_refuses_batch_size_and_batch_tokens_together_in_one_line(capsys, tmp_path):
    status = main(
        ["train", "corpus.txt", "--out", str(tmp_path / "m.keras"), "--batch-size", "9", "--batch-tokens", "90"]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "--batch-tokens: not allowed with argument --batch-size" in err


class StepShapes(keras.callbacks.Callback):
    """Counts the training steps of each epoch."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1] += 1


def test_a_short_real_training_steps_through_the_token_batches_and_learns(tatoeba_path):
    pairs = read_tatoeba(tatoeba_path, limit=240).pairs
    counter = StepShapes()
    model_config = ModelConfig(units=11, embedding_dim=7, attention="luong-general", tokenizer="word")
    train_config = TrainConfig(epochs=2, batch_tokens=150, validation_split=0.1, verbose=0, seed=4)
    model = train(pairs, model_config, train_config, callbacks=[counter])
    training_pairs, _ = validation_split(pairs, train_config)
    by_tokens = training_batches(model, training_pairs, 64, batch_tokens=150)
    by_sentences = training_batches(model, training_pairs, 64)
    assert len(by_tokens) > 2 * len(by_sentences)  # 150 tokens hold far fewer than 64 sentences
    assert counter.steps == [len(by_tokens)] * 2
    losses = model.training_summary["history"]["loss"]
    assert np.isfinite(losses).all() and losses[1] < losses[0]


def test_seq2seq_train_with_batch_tokens_trains_and_saves_a_model(capsys, tatoeba_path, tmp_path):
    corpus = tmp_path / "slice.txt"
    corpus.write_text("".join(tatoeba_path.open(encoding="utf-8").readlines()[:200]), encoding="utf-8")
    out = tmp_path / "m.keras"
    flags = ["--preset", "classic", "--units", "13", "--epochs", "2", "--batch-tokens", "200", "--seed", "3"]
    status = main(["train", str(corpus), "--out", str(out), *flags])
    assert status == 0, capsys.readouterr().err
    history = json.loads((tmp_path / "m.history.json").read_text())
    assert len(history["loss"]) == 2 and history["loss"][1] < history["loss"][0]
    assert out.is_file()
