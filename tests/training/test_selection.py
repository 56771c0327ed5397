"""Which weights a training keeps: loss or BLEU/chrF, between epochs too, and the average of the last epochs."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.errors import ConfigError
from seq2seq.training.checkpoints import best_checkpoint, read_state
from seq2seq.training.fit import train, training_batches
from seq2seq.training.selection import KeepBestWeights, Validator, describe_best
from tests.conftest import tiny_model

SMALL = {"units": 24, "embedding_dim": 16, "tokenizer": "word"}


@pytest.fixture(scope="module")
def pairs(tatoeba_path):
    return read_tatoeba(tatoeba_path, limit=600).pairs


def test_keeping_the_highest_score_when_the_mode_is_max():
    model = tiny_model(units=3)
    keep = KeepBestWeights("val_bleu", mode="max")
    keep.set_model(model)
    kernel = model.decoder.output_projection.kernel
    for epoch, bleu in enumerate([3.0, 9.0, 4.0]):
        kernel.assign(np.full(kernel.shape, float(epoch), dtype="float32"))
        keep.on_epoch_end(epoch, {"val_bleu": bleu})
    assert keep.consider(8.0, 3, step=5) is False and keep.consider(10.0, 3, step=7) is True
    kernel.assign(np.full(kernel.shape, 9.0, dtype="float32"))
    keep.on_train_end()
    assert (keep.best_epoch, keep.best_step, keep.best_value) == (3, 7, 10.0)
    assert np.all(np.asarray(kernel) == 2.0)


def test_the_validator_loss_is_the_validation_loss_that_keras_reports(pairs):
    model = train(pairs[:200], ModelConfig(**SMALL), TrainConfig(epochs=1, batch_size=16, verbose=0))
    validation = training_batches(model, pairs[200:300], 16)
    reported = model.evaluate(validation, verbose=0, return_dict=True)["loss"]
    assert Validator(validation, pairs[200:300]).loss(model) == pytest.approx(reported, rel=1e-4)


def test_validation_every_n_steps_keeps_the_best_point_and_checkpoints_it(pairs, tmp_path):
    settings = TrainConfig(
        epochs=2, batch_size=16, validate_every=4, verbose=0, checkpoint_dir=str(tmp_path / "ckpt"), seed=3
    )
    model = train(pairs, ModelConfig(**SMALL), settings)
    summary = model.training_summary
    between = summary["validations_between_epochs"]
    assert {epoch for epoch, _, _ in between} == {1, 2}
    assert all(step % 4 == 0 for _, step, _ in between) and len(between) >= 2 * (len(pairs) * 0.8 // 16 // 4 - 1)
    points = [value for _, _, value in between] + summary["history"]["val_loss"]
    assert summary["best_validation_loss"] == pytest.approx(min(points), abs=1e-4)
    state = read_state(tmp_path / "ckpt")
    assert state["best_step"] == summary["best_step"]
    if summary["best_step"] is not None:  # the best came between epoch ends: its own file holds it
        assert best_checkpoint(tmp_path / "ckpt", state).name == "best.keras"
        assert summary["best_validation_loss"] < min(summary["history"]["val_loss"])


def test_selecting_by_bleu_keeps_the_epoch_with_the_best_greedy_bleu(pairs):
    model = train(pairs, ModelConfig(**SMALL), TrainConfig(epochs=3, batch_size=16, select_by="bleu", verbose=0))
    summary = model.training_summary
    bleu = summary["history"]["val_bleu"]
    assert len(bleu) == 3 and len(summary["history"]["val_chrf"]) == 3
    assert summary["selected_by"] == "bleu" and summary["best_validation_loss"] is None
    assert summary["best_validation_score"] == pytest.approx(max(bleu), abs=0.01)
    assert summary["best_epoch"] == int(np.argmax(bleu)) + 1
    assert (
        describe_best(summary)
        == f"best epoch {summary['best_epoch']}, validation BLEU {summary['best_validation_score']}"
    )


def test_the_average_of_the_last_epochs_is_kept_only_when_it_validates_better(pairs):
    model = train(pairs, ModelConfig(**SMALL), TrainConfig(epochs=4, batch_size=16, average_last=3, verbose=0, seed=1))
    summary = model.training_summary
    best_single = min(summary["history"]["val_loss"])
    if summary["averaged_epochs"]:
        assert summary["averaged_epochs"] == [2, 3, 4]
        assert summary["best_validation_loss"] < best_single
        assert describe_best(summary).startswith("average of epochs 2-4, validation loss ")
    else:
        assert summary["best_validation_loss"] == pytest.approx(best_single, abs=1e-4)


def test_selection_settings_are_checked():
    with pytest.raises(ConfigError, match="select_by"):
        TrainConfig(select_by="accuracy")
    with pytest.raises(ConfigError, match="at least 2"):
        TrainConfig(average_last=1)
    with pytest.raises(ConfigError, match="validate_every"):
        TrainConfig(validate_every=0)


def test_the_command_line_selects_by_chrf_between_epochs_and_says_what_it_kept(capsys, tmp_path, pairs):
    from seq2seq.cli import main
    from seq2seq.models.loading import load

    corpus = tmp_path / "pairs.txt"
    corpus.write_text("".join(f"{s}\t{t}\n" for s, t in pairs[:300]), encoding="utf-8")
    out = tmp_path / "m.keras"
    argv = [
        "train",
        str(corpus),
        "--out",
        str(out),
        "--tokenizer",
        "word",
        "--units",
        "16",
        "--embedding-dim",
        "8",
        "--epochs",
        "3",
        "--batch-size",
        "16",
        "--select-by",
        "chrf",
        "--validate-every",
        "5",
        "--average-last",
        "2",
    ]
    assert main(argv) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = load(out).training_summary
    assert summary["selected_by"] == "chrf" and summary["validations_between_epochs"]
    assert last == f"Saved {out} ({describe_best(summary)})." and "validation chrF" in last
