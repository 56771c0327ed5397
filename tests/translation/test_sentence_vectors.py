"""Sentence vectors from the encoder: `model.encode_texts` and `seq2seq encode`."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import numpy as np
import pytest

from seq2seq.cli import main
from seq2seq.errors import ConfigError
from tests.conftest import tiny_model

TEXTS = ["Go.", "Who are you?", "Hi.", "Run!", ""]


@pytest.mark.parametrize("cell, bidirectional", [("lstm", False), ("lstm", True), ("gru", True)])
@pytest.mark.parametrize("pooling", ["final", "mean"])
def test_each_text_gets_one_vector_of_the_encoders_width_whatever_its_batch(cell, bidirectional, pooling):
    model = tiny_model(
        seed=3, cell=cell, bidirectional=bidirectional, embedding_dim=5, bridge="dense" if bidirectional else "concat"
    )
    vectors = model.encode_texts(TEXTS, pooling)
    assert vectors.shape == (len(TEXTS), 7 * (2 if bidirectional else 1)) and vectors.dtype == np.float32
    alone = np.concatenate([model.encode_texts([text], pooling) for text in TEXTS])
    np.testing.assert_allclose(vectors, alone, rtol=1e-5, atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])


def test_final_vectors_are_the_state_h_the_classic_encoder_model_hands_to_its_decoder():
    model = tiny_model(seed=4)
    state_h = model.encoder_model.predict(np.asarray([model.source_vocab.encode("Who are you?")]), verbose=0)[0]
    np.testing.assert_allclose(model.encode_texts(["Who are you?"]), state_h, rtol=1e-5, atol=1e-6)


def test_an_unknown_pooling_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="final, mean"):
        tiny_model(seed=1).encode_texts(["Go."], "max")


def test_the_encode_command_writes_json_lines_or_one_npy_array(tmp_path, capsys):
    model = tiny_model(seed=6)
    path = tmp_path / "model.keras"
    model.save(path)
    assert main(["encode", str(path), "Go.", "Hi."]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["Go.", "Hi."]
    np.testing.assert_allclose([line["vector"] for line in lines], model.encode_texts(["Go.", "Hi."]), atol=1e-5)
    out = tmp_path / "vectors.npy"
    assert main(["encode", str(path), "Go.", "Hi.", "Run!", "--pooling", "mean", "--out", str(out)]) == 0
    np.testing.assert_allclose(np.load(out), model.encode_texts(["Go.", "Hi.", "Run!"], "mean"), rtol=1e-6)
    assert main(["encode", str(path), "Go.", "--out", str(tmp_path / "vectors.txt")]) == 2
    assert "ending in .npy" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("pooling", ["final", "mean"])
def test_paraphrases_of_the_corpus_sit_closer_than_random_pairs(pooling, tatoeba_path, trained_on_tatoeba):
    from seq2seq.data.corpus import read_tatoeba

    pairs = read_tatoeba(tatoeba_path, limit=6000).pairs
    by_translation = defaultdict(list)
    for source, target in pairs:
        by_translation[target].append(source)
    paraphrases = [
        (group[0], group[1]) for group in by_translation.values() if len(set(group)) > 1 and group[0] != group[1]
    ]
    assert len(paraphrases) >= 100  # e.g. "Go!" and "Get going!" share "Va !"
    sources = sorted({source for source, _ in pairs})
    shuffled = random.Random(0).sample(sources, len(paraphrases))
    vectors = trained_on_tatoeba.encode_texts(
        [a for a, _ in paraphrases] + [b for _, b in paraphrases] + shuffled, pooling
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    first, second, random_partner = np.split(vectors, 3)
    paraphrase_similarity = np.sum(first * second, axis=1)
    random_similarity = np.sum(first * random_partner, axis=1)
    assert paraphrase_similarity.mean() > random_similarity.mean() + 0.1
    assert np.mean(paraphrase_similarity > random_similarity) > 0.75


@pytest.fixture(scope="module")
def trained_on_tatoeba(tatoeba_path):
    import seq2seq
    from seq2seq.config import ModelConfig, TrainConfig

    pairs = seq2seq.read_tatoeba(tatoeba_path, limit=6000).pairs
    config = ModelConfig.from_preset("attention", units=64, embedding_dim=32, vocab_size=1000)
    return seq2seq.train(pairs, config, TrainConfig(epochs=3, verbose=0, seed=1))
