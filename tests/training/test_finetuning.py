"""Fine-tuning: the base model's vocabularies and settings kept, frozen layers, the coverage report, a new optimizer."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.data.tokenizers import SubwordTokenizer
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.errors import ConfigError
from seq2seq.models.loading import load
from seq2seq.training.checkpoints import STATE_FILE, CheckpointError
from seq2seq.training.finetuning import (
    FINE_TUNING_LEARNING_RATE,
    coverage_message,
    fine_tune,
    fine_tuning_config,
    vocabulary_coverage,
)
from seq2seq.training.fit import resume, train, training_batches
from tests.conftest import one_line_error, tiny_model


@pytest.fixture(scope="module")
def corpus(tatoeba_path):
    """(statements, questions): short real pairs whose English source does not, or does, end with "?"."""
    pairs = read_tatoeba(tatoeba_path, limit=3000).pairs
    return [pair for pair in pairs if not pair[0].endswith("?")][:240], [p for p in pairs if p[0].endswith("?")][:90]


@pytest.fixture(scope="module")
def base_file(corpus, tmp_path_factory):
    """A tiny model trained on the statements, saved."""
    config = ModelConfig(units=9, embedding_dim=5)
    model = train(corpus[0], config, TrainConfig(epochs=2, batch_size=32, seed=1, verbose=0))
    path = tmp_path_factory.mktemp("base") / "base.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def tuned(base_file, corpus):
    """(base, its weights before, the model tuned on the questions at a constant rate, the tuning's steps)."""
    base = load(base_file)
    before = [keras.ops.convert_to_numpy(weight) for weight in base.weights]
    counter = CountSteps()
    model = fine_tune(base, corpus[1], tuning(epochs=2, lr_schedule="constant"), callbacks=[counter])
    return base, before, model, counter.steps


def tuning(**settings) -> TrainConfig:
    return fine_tuning_config(**{"epochs": 1, "batch_size": 16, "seed": 2, "verbose": 0, **settings})


def weights_of(*layers) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(weight) for layer in layers for weight in layer.weights]


def differ(before: list[np.ndarray], after: list[np.ndarray]) -> bool:
    return any(not np.array_equal(old, new) for old, new in zip(before, after, strict=True))


class CountSteps(keras.callbacks.Callback):
    steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


def test_a_tuned_model_keeps_the_base_vocabularies_and_settings_and_leaves_the_base_unchanged(tuned, tmp_path):
    base, before, model, _ = tuned
    assert model is not base
    assert model.model_config == base.model_config
    for side in ("source_vocab", "target_vocab"):
        assert getattr(model, side).get_config() == getattr(base, side).get_config()
    assert not differ(before, [keras.ops.convert_to_numpy(weight) for weight in base.weights])
    model.save(tmp_path / "tuned.keras")
    again = load(tmp_path / "tuned.keras")
    assert again.source_vocab.tokens == base.source_vocab.tokens
    assert again.training_summary["fine_tuning"]["learning_rate"] == FINE_TUNING_LEARNING_RATE
    assert again.training_summary["fine_tuned_from"]["training_pairs"] == base.training_summary["training_pairs"]


def test_frozen_embeddings_end_as_they_began_while_the_other_weights_move(base_file, corpus):
    base = load(base_file)
    tuned = fine_tune(base, corpus[1], tuning(learning_rate=1e-2), freeze="embeddings")
    embeddings = (base.encoder.token_input, base.decoder.token_input)
    tuned_embeddings = (tuned.encoder.token_input, tuned.decoder.token_input)
    assert not differ(weights_of(*embeddings), weights_of(*tuned_embeddings))
    assert differ(weights_of(*base.encoder.rnn_layers), weights_of(*tuned.encoder.rnn_layers))
    assert differ(weights_of(base.decoder.output_projection), weights_of(tuned.decoder.output_projection))
    assert tuned.training_summary["fine_tuning"]["frozen_weights"] == sum(w.size for w in weights_of(*embeddings))


def test_a_frozen_encoder_keeps_every_encoder_weight_and_the_target_embedding(base_file, corpus):
    base = load(base_file)
    tuned = fine_tune(base, corpus[1], tuning(learning_rate=1e-2), freeze="encoder")
    assert not differ(
        weights_of(base.encoder, base.decoder.token_input), weights_of(tuned.encoder, tuned.decoder.token_input)
    )
    assert differ(weights_of(*base.decoder.rnn_layers), weights_of(*tuned.decoder.rnn_layers))


@pytest.mark.slow
def test_a_fine_tuning_resumed_from_its_checkpoint_keeps_the_encoder_frozen(base_file, corpus, tmp_path):
    base = load(base_file)
    fine_tune(base, corpus[1], tuning(checkpoint_dir=str(tmp_path)), freeze="encoder")
    resumed = resume(corpus[1], tmp_path, epochs=2)  # the second epoch starts from the first one's file
    assert not resumed.encoder.trainable and not resumed.decoder.token_input.trainable
    assert not differ(
        weights_of(base.encoder, base.decoder.token_input), weights_of(resumed.encoder, resumed.decoder.token_input)
    )
    assert differ(weights_of(*base.decoder.rnn_layers), weights_of(*resumed.decoder.rnn_layers))


def test_freezing_names_its_choices_and_a_one_hot_model_has_no_embeddings_to_freeze(corpus):
    message = one_line_error(ConfigError, fine_tune, tiny_model(units=3), corpus[1], tuning(), freeze="decoder")
    assert "embeddings, encoder" in message and "'decoder'" in message
    message = one_line_error(ConfigError, fine_tune, tiny_model(units=3), corpus[1], tuning(), freeze="embeddings")
    assert "one-hot" in message


def test_fine_tuning_refuses_a_checkpoint_folder_of_an_earlier_run(corpus, tmp_path):
    (tmp_path / STATE_FILE).write_text("{}", encoding="utf-8")
    message = one_line_error(
        CheckpointError, fine_tune, tiny_model(units=3), corpus[1], tuning(checkpoint_dir=str(tmp_path))
    )
    assert str(tmp_path) in message and "--resume" in message


def test_the_coverage_report_counts_the_characters_the_vocabularies_lack():
    model = tiny_model(units=3)  # sources "Go.", "Hi.", "Run!", "Who are you?"; targets in French
    pairs = [("Go, Tom.", "Va, Tom !"), ("Hi!", "Salut !")]
    report = vocabulary_coverage(model, pairs)
    # Source characters: "Go, Tom." has ",", "T", "m" unknown (and "o" known); "Hi!" none.
    assert report["source"] == {
        "tokens": 11,
        "unknown": 3,
        "rate": 3 / 11,
        "unknown_kinds": 3,
        "most_common": [[",", 1], ["T", 1], ["m", 1]],
    }
    assert report["target"]["tokens"] == 16 and report["target"]["unknown"] == 3  # ",", "T", "m"
    assert report["unit"] == "characters" and report["pairs"] == 2
    message = coverage_message(report)
    assert "\n" not in message and "27.27% of source characters (3 of 11" in message and "<unk>" in message


def test_the_coverage_report_counts_the_subword_pieces_that_fall_back_to_unk(corpus):
    statements, questions = corpus
    texts = [source for source, _ in statements]  # never a "?", so the subword model has no "?" piece
    source = Vocabulary.build(texts, SubwordTokenizer.train(texts, 60))
    model = SimpleNamespace(source_vocab=source, target_vocab=source)
    report = vocabulary_coverage(model, questions)["source"]
    assert report["tokens"] == sum(len(source.tokenizer.tokenize(question)) for question, _ in questions)
    assert report["unknown"] == sum(source.encode(question).count(source.unk_id) for question, _ in questions)
    assert report["most_common"][0] == ["?", sum(question.count("?") for question, _ in questions)]


def test_fine_tuning_starts_a_new_optimizer_at_a_third_of_the_training_rate(tuned):
    base, _, model, steps = tuned
    assert FINE_TUNING_LEARNING_RATE == pytest.approx(TrainConfig().learning_rate / 3)
    assert model.optimizer is not base.optimizer
    assert float(model.optimizer.learning_rate) == pytest.approx(FINE_TUNING_LEARNING_RATE)
    assert int(model.optimizer.iterations) == steps < int(base.optimizer.iterations)


def test_a_tuned_model_fits_the_new_data_better_than_its_base(tuned, corpus):
    base, _, model, _ = tuned
    questions = corpus[1]
    losses = [
        each.evaluate(training_batches(each, questions, 32, fixed_shapes=False), verbose=0)[0] for each in (base, model)
    ]
    assert losses[1] < losses[0]
