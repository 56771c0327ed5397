"""A fine-tuned model's frozen layers are frozen again whenever its file loads, its optimizer over the same weights."""

from __future__ import annotations

import pytest

from seq2seq.config import TrainConfig
from seq2seq.errors import ConfigError
from seq2seq.models.freezing import freeze_layers, frozen_by_summary, layers_to_freeze
from seq2seq.models.loading import load
from seq2seq.training.fit import compile_for_training
from tests.conftest import one_line_error, tiny_model


@pytest.mark.parametrize("freeze", ["embeddings", "encoder"])
def test_a_saved_fine_tuned_model_loads_with_the_same_layers_frozen_and_its_optimizer_over_the_rest(tmp_path, freeze):
    model = tiny_model(seed=6, embedding_dim=4, attention="luong-general")
    frozen = freeze_layers(model, freeze)  # as fine_tune does, and notes it in the summary
    model.training_summary["fine_tuning"] = {"frozen": freeze}
    compile_for_training(model, TrainConfig())
    model.optimizer.build(model.trainable_variables)
    path = tmp_path / "tuned.keras"
    model.save(path)
    loaded = load(path)
    assert [layer.trainable for layer in layers_to_freeze(loaded, freeze)] == [False] * len(frozen)
    assert loaded.decoder.rnn_layers[0].trainable and loaded.decoder.output_projection.trainable
    names = sorted(weight.path for weight in loaded.trainable_weights)
    assert names == sorted(weight.path for weight in model.trainable_weights)
    assert len(loaded.non_trainable_weights) == len(model.non_trainable_weights) > 0
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)


def test_a_model_never_fine_tuned_loads_with_every_layer_trainable(tmp_path):
    path = tmp_path / "model.keras"
    tiny_model(seed=7, embedding_dim=4).save(path)
    loaded = load(path)
    assert frozen_by_summary(loaded.training_summary) is None
    assert loaded.non_trainable_weights == [] and all(layer.trainable for layer in loaded._flatten_layers())


def test_freezing_names_its_choices_and_one_hot_inputs_have_no_embeddings():
    message = one_line_error(ConfigError, freeze_layers, tiny_model(units=3, embedding_dim=2), "decoder")
    assert "embeddings, encoder" in message and "'decoder'" in message
    assert "one-hot" in one_line_error(ConfigError, freeze_layers, tiny_model(units=3), "embeddings")
    assert frozen_by_summary({"fine_tuning": "damaged"}) is None and frozen_by_summary({}) is None
