"""Every architecture trains, round-trips through a file, and the hand loop agrees with translate.

The grid crosses the bridge variants (one-way, or bidirectional with each bridge) with every
attention kind, skipping the combinations the configuration refuses; cell, depths, inputs and
tokenizer rotate across the cases so each value meets many of the others.
"""

from __future__ import annotations

import itertools

import pytest

from seq2seq.config import ATTENTIONS, ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.errors import ConfigError
from seq2seq.models.classic import decode_sequence
from seq2seq.models.loading import load
from seq2seq.training.fit import train

pytestmark = pytest.mark.slow

ENCODERS = [(False, "concat"), (True, "concat"), (True, "sum"), (True, "dense"), (True, "mean"), (True, "zero")]
DEPTHS = [(1, None), (2, None), (2, 1), (1, 2)]
CELLS = ["lstm", "gru"]
TOKENIZERS = ["char", "word", "subword"]
EMBEDDINGS = [None, 6]


def grid() -> list[dict]:
    cases = []
    for (bidirectional, bridge), attention in itertools.product(ENCODERS, ATTENTIONS):
        index = len(cases)
        layers, decoder_layers = DEPTHS[index % len(DEPTHS)]
        config = {
            "cell": CELLS[index % len(CELLS)],
            "units": 5,
            "layers": layers,
            "decoder_layers": decoder_layers,
            "bidirectional": bidirectional,
            "bridge": bridge,
            "attention": attention,
            "embedding_dim": EMBEDDINGS[(index // 2) % len(EMBEDDINGS)],
            "tokenizer": TOKENIZERS[index % len(TOKENIZERS)],
        }
        try:
            ModelConfig(**config)
        except ConfigError:
            continue  # refused combinations have their own tests
        cases.append(config)
    return cases


def case_id(config: dict) -> str:
    encoder = f"{'bi' if config['bidirectional'] else 'uni'}-{config['bridge']}"
    depth = f"{config['layers']}x{config['decoder_layers'] or config['layers']}"
    return (
        f"{config['cell']}-{depth}-{encoder}-{config['attention']}-{config['tokenizer']}-emb{config['embedding_dim']}"
    )


@pytest.fixture(scope="module")
def pairs(tatoeba_path):
    return read_tatoeba(tatoeba_path, limit=60).pairs


def test_the_grid_covers_every_value_of_every_option():
    cases = grid()
    for key, values in [
        ("cell", CELLS),
        ("tokenizer", TOKENIZERS),
        ("attention", ATTENTIONS),
        ("embedding_dim", EMBEDDINGS),
    ]:
        assert {case[key] for case in cases} == set(values)
    assert {(case["bidirectional"], case["bridge"]) for case in cases} == set(ENCODERS)
    assert {(case["layers"], case["decoder_layers"]) for case in cases} == set(DEPTHS)


@pytest.mark.parametrize("config", grid(), ids=case_id)
def test_architecture_trains_round_trips_and_matches_the_hand_loop(config, pairs, tmp_path):
    model = train(pairs, ModelConfig(**config), TrainConfig(epochs=1, batch_size=16, validation_split=0.2, verbose=0))
    sources = [pairs[0][0], pairs[-1][0], "Who?"]
    translations = model.translate(sources, max_length=9)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load(path)
    assert loaded.model_config == model.model_config
    assert loaded.translate(sources, max_length=9) == translations
    assert [decode_sequence(loaded, source, 9) for source in sources] == translations
