"""From the real Tatoeba file to translations: train, translate, save, reload elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba, split_pairs
from seq2seq.models.classic import decode_sequence
from seq2seq.models.loading import load
from seq2seq.training.fit import train
from seq2seq.translation.translator import default_max_length

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus_slice(tatoeba_path):
    pairs = read_tatoeba(tatoeba_path, limit=3000).pairs
    return split_pairs(pairs, 0.05, seed=0)


@pytest.fixture(scope="module")
def trained(corpus_slice):
    train_pairs, _ = corpus_slice
    config = ModelConfig.from_preset("classic", units=96)
    return train(train_pairs, config, TrainConfig(epochs=4, batch_size=64, seed=0, verbose=0))


def test_training_on_real_pairs_lowers_the_validation_loss_and_keeps_the_best_epoch(trained):
    summary = trained.training_summary
    assert summary["epochs"] == 4
    assert summary["best_epoch"] is not None
    # an untrained model scores about log(vocabulary size) per token
    assert summary["best_validation_loss"] < 0.8 * __import__("math").log(len(trained.target_vocab))
    assert summary["training_pairs"] > summary["validation_pairs"] > 0


def test_hand_written_classic_loop_agrees_with_translate_on_held_out_sentences(trained, corpus_slice):
    _, held_out = corpus_slice
    sources = sorted({source for source, _ in held_out})[:40]
    translations = trained.translate(sources)
    hand = [decode_sequence(trained, s, default_max_length(len(trained.source_vocab.encode(s)))) for s in sources]
    assert hand == translations
    assert sum(bool(t.strip()) for t in translations) == len(translations)  # a trained model says something


def test_a_trained_model_reloaded_in_a_fresh_process_translates_identically(trained, corpus_slice, tmp_path):
    _, held_out = corpus_slice
    sources = [source for source, _ in held_out][:60]
    path = tmp_path / "classic.keras"
    trained.save(path)
    script = (
        "import json, sys, seq2seq; print(json.dumps(seq2seq.load(sys.argv[1]).translate(json.loads(sys.argv[2]))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path), json.dumps(sources)], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == trained.translate(sources)
    assert load(path).training_summary == trained.training_summary


def test_the_command_line_trains_translates_and_describes_a_model(tatoeba_path, tmp_path):
    model_path = tmp_path / "cli.keras"
    command = [sys.executable, "-m", "seq2seq.cli"]
    trained = subprocess.run(
        command
        + ["train", str(tatoeba_path), "--limit", "800", "--epochs", "2", "--units", "32", "--out", str(model_path)],
        capture_output=True,
        text=True,
    )
    assert trained.returncode == 0, trained.stderr
    assert "Read 800 pairs" in trained.stdout and model_path.is_file()

    translated = subprocess.run(
        command + ["translate", str(model_path), "Go.", "I see."], capture_output=True, text=True
    )
    assert translated.returncode == 0, translated.stderr
    assert translated.stdout.splitlines() == load(model_path).translate(["Go.", "I see."])

    info = subprocess.run(command + ["info", str(model_path)], capture_output=True, text=True)
    assert "LSTM 32" in info.stdout and "800 pairs from" in info.stdout


def test_bfloat16_translates_held_out_sentences_nearly_as_float32_does(trained, corpus_slice, tmp_path):
    from seq2seq.evaluation.scores import evaluate_model

    _, held_out = corpus_slice
    path = tmp_path / "classic.keras"
    trained.save(path)
    full, half = load(path), load(path, precision="bfloat16")
    full_scores, full_rows = evaluate_model(full, held_out)
    half_scores, half_rows = evaluate_model(half, held_out)
    same = sum(a["hypothesis"] == b["hypothesis"] for a, b in zip(full_rows, half_rows))
    print(f"bfloat16: {same} of {len(full_rows)} identical; chrF {half_scores['chrf']} against {full_scores['chrf']}")
    assert same >= 0.6 * len(full_rows)
    assert abs(half_scores["chrf"] - full_scores["chrf"]) < 3
