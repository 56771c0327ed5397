"""Training pieces: the real-token accuracy and loss, keeping the best epoch, vocabularies from training pairs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.errors import ConfigError
from seq2seq.models.compile_objects import TokenAccuracy
from seq2seq.training.fit import KeepBestWeights, build_vocabularies, train, training_batches, training_loss
from tests.conftest import one_line_error, tiny_model


def test_token_accuracy_counts_real_tokens_only():
    metric = TokenAccuracy()
    y_true = np.array([[4, 5, 0, 0], [6, 0, 0, 0]])
    logits = np.zeros((2, 4, 7), dtype="float32")
    logits[0, 0, 4] = logits[0, 1, 3] = logits[1, 0, 6] = 1.0  # right, wrong, right
    logits[0, 2, 1] = logits[0, 3, 1] = logits[1, 1, 1] = 1.0  # padding: never counted
    metric.update_state(y_true, logits)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_keep_best_weights_restores_the_epoch_with_the_lowest_validation_loss():
    model = tiny_model(units=3)
    keep = KeepBestWeights()
    keep.set_model(model)
    kernel = model.decoder.output_projection.kernel
    for epoch, loss in enumerate([2.0, 1.0, 1.5]):
        kernel.assign(np.full(kernel.shape, float(epoch), dtype="float32"))
        keep.on_epoch_end(epoch, {"val_loss": loss})
    keep.on_train_end()
    assert keep.best_epoch == 2
    assert np.all(np.asarray(kernel) == 1.0)


def test_vocabularies_are_counted_on_the_pairs_given_with_the_configured_tokenizer():
    pairs = [("Go now.", "Va maintenant."), ("Go.", "Va.")]
    source, target = build_vocabularies(pairs, ModelConfig(tokenizer="word"), TrainConfig())
    assert source.tokens[4:] == ["Go", "\uffed.", "now"]
    assert target.tokens[4:] == ["Va", "\uffed.", "maintenant"]


def test_training_refuses_a_split_that_leaves_nothing_to_train_on():
    with pytest.raises(ConfigError, match="no training pairs"):
        train([], ModelConfig(units=3), TrainConfig(epochs=1))


def test_a_short_training_fits_a_tiny_task_and_records_its_summary():
    pairs = [("ab", "ba"), ("abc", "cba"), ("ca", "ac"), ("bca", "acb")] * 20 + [("cab", "bac")]
    model = train(pairs, ModelConfig(units=16, embedding_dim=4), TrainConfig(epochs=3, batch_size=8, verbose=0))
    summary = model.training_summary
    assert summary["epochs"] == 3 and summary["training_pairs"] + summary["validation_pairs"] == len(pairs)
    assert summary["best_epoch"] in (1, 2, 3)
    assert summary["final_training_loss"] < np.log(len(model.target_vocab))


def test_pretrained_word_vectors_initialise_the_embeddings_of_the_tokens_they_cover(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 3\ngo 0.5 0.25 -1\nva -0.5 1 2\n", encoding="utf-8")
    pairs = [("Go.", "Va !"), ("Go now.", "Va maintenant !")] * 4
    config = ModelConfig(units=4, embedding_dim=3, tokenizer="word")
    train_config = TrainConfig(epochs=1, validation_split=0.0, verbose=0, learning_rate=1e-9)
    model = train(
        pairs,
        config,
        TrainConfig(**{**train_config.__dict__, "source_embeddings": str(vectors), "target_embeddings": str(vectors)}),
    )
    source_rows = np.asarray(model.encoder.token_input.embeddings)
    target_rows = np.asarray(model.decoder.token_input.embeddings)
    np.testing.assert_allclose(source_rows[model.source_vocab.token_to_id["Go"]], [0.5, 0.25, -1], atol=1e-6)
    np.testing.assert_allclose(target_rows[model.target_vocab.token_to_id["Va"]], [-0.5, 1, 2], atol=1e-6)
    assert "1 of" in model.training_summary["source_embeddings"]


def test_one_tied_matrix_for_both_sides_takes_one_file_of_vectors(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 3\ngo 0.5 0.25 -1\nva -0.5 1 2\n", encoding="utf-8")
    pairs = [("Go.", "Va !"), ("Go now.", "Va maintenant !")] * 4
    config = ModelConfig(units=3, embedding_dim=3, tokenizer="word", joint_vocab=True, tie_embeddings=True)
    both = {"source_embeddings": str(vectors), "target_embeddings": str(vectors)}
    message = one_line_error(ConfigError, train, pairs, config, TrainConfig(epochs=1, validation_split=0.0, **both))
    assert "--source-embeddings or --target-embeddings, not both" in message
    model = train(
        pairs,
        config,
        TrainConfig(
            epochs=1, validation_split=0.0, verbose=0, learning_rate=1e-9, **{"target_embeddings": str(vectors)}
        ),
    )
    rows = np.asarray(model.encoder.token_input.embeddings)
    np.testing.assert_allclose(rows[model.source_vocab.token_to_id["Va"]], [-0.5, 1, 2], atol=1e-6)


def test_pretrained_vectors_need_embedded_inputs():
    with pytest.raises(ConfigError, match="--embedding-dim"):
        train(
            [("Go.", "Va !")] * 4,
            ModelConfig(units=3),
            TrainConfig(epochs=1, validation_split=0.0, source_embeddings="x.txt"),
        )


@pytest.mark.parametrize(
    ("config", "label_smoothing"),
    [
        ({"attention": "luong-general", "embedding_dim": 5}, 0.0),
        ({"attention": "bahdanau", "bidirectional": True, "bridge": "mean", "units": 3}, 0.1),
        ({}, 0.1),  # one-hot LSTM without attention
    ],
)
def test_rows_of_padding_only_change_neither_the_loss_nor_the_gradients(config, label_smoothing):
    """Fixed shapes fill batches with such rows: fully masked, they add no NaN (a NaN times a zero weight stays NaN)."""
    pairs = [("Who are you?", "Qui êtes-vous ?"), ("Go.", "Va !"), ("Run!", "Cours !")]
    losses, updates = [], []
    for filler in (0, 2):
        model = tiny_model(seed=3, **config)
        loss = training_loss(TrainConfig(label_smoothing=label_smoothing))
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss=loss)  # each update is minus the gradient
        ((inputs, targets),) = (batch for batch in training_batches(model, pairs, 8, fixed_shapes=False))
        arrays = (inputs["encoder_tokens"], inputs["decoder_tokens"], targets)
        padded = [np.pad(np.asarray(array), ((0, filler), (0, 0))) for array in arrays]  # rows of padding only
        before = [np.array(weight) for weight in model.get_weights()]
        losses.append(model.train_on_batch({"encoder_tokens": padded[0], "decoder_tokens": padded[1]}, padded[2]))
        updates.append([after - start for after, start in zip(model.get_weights(), before)])
    assert np.isfinite(losses[1]) and losses[1] == pytest.approx(losses[0], rel=1e-5)
    assert any(np.abs(update).max() > 0 for update in updates[0])
    for without, with_filler in zip(*updates):
        np.testing.assert_allclose(with_filler, without, rtol=1e-4, atol=1e-6)
