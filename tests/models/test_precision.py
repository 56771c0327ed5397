"""A model can translate in bfloat16 maths over its float32 weights, and go back to float32 exactly."""

from __future__ import annotations

import pytest

from seq2seq.errors import ConfigError
from seq2seq.models.loading import load
from tests.conftest import tiny_model

SOURCES = ["Go.", "Who are you?", "Hi.", "Run! Run!"]
ATTENTION = {"embedding_dim": 6, "bidirectional": True, "bridge": "dense", "attention": "luong-general"}


def test_bfloat16_sets_every_nested_layer_and_keeps_the_weights_float32():
    model = tiny_model(seed=2, **ATTENTION)
    assert model.precision == "float32"
    model.set_precision("bfloat16")
    layers = list(model._flatten_layers(include_self=True))
    assert len(layers) > 5 and all(layer.dtype_policy.compute_dtype == "bfloat16" for layer in layers)
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.precision == "bfloat16"


@pytest.mark.parametrize("beam", [1, 3])
def test_back_to_float32_translates_exactly_as_before(beam):
    model = tiny_model(seed=2, **ATTENTION)
    before = model.translate_nbest(SOURCES, beam=beam, nbest=beam)
    model.set_precision("bfloat16")
    in_bfloat16 = model.translate_nbest(SOURCES, beam=beam, nbest=beam)
    assert [len(hypotheses) for hypotheses in in_bfloat16] == [beam] * len(SOURCES)
    assert all(isinstance(hypothesis.text, str) for hypotheses in in_bfloat16 for hypothesis in hypotheses)
    model.set_precision("float32")
    assert model.translate_nbest(SOURCES, beam=beam, nbest=beam) == before


def test_load_can_choose_the_precision_and_leaves_the_file_as_it_was(tmp_path):
    model = tiny_model(seed=3, **ATTENTION)
    path = tmp_path / "m.keras"
    model.save(path)
    written = path.read_bytes()
    assert load(path, precision="bfloat16").precision == "bfloat16"
    assert load(path).precision == "float32"
    assert path.read_bytes() == written


def test_an_unknown_precision_is_refused_before_loading(tmp_path):
    with pytest.raises(ConfigError, match="precision must be one of float32, bfloat16, got 'half'"):
        load(tmp_path / "absent.keras", precision="half")
    with pytest.raises(ConfigError, match="got 'float16'"):
        tiny_model().set_precision("float16")


def test_the_file_keeps_no_precision_a_model_loads_in_float32_unless_asked(tmp_path):
    model = tiny_model(seed=3, **ATTENTION)
    float32_translations = model.translate(SOURCES, beam=3)
    model.set_precision("bfloat16")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load(path)
    assert loaded.precision == "float32"
    assert loaded.translate(SOURCES, beam=3) == float32_translations


def test_a_bfloat16_model_searches_with_the_coverage_penalty_and_scores_in_float32():
    model = tiny_model(seed=3, **ATTENTION)
    model.set_precision("bfloat16")
    found = model.translate_nbest(SOURCES[:2], beam=3, nbest=2, coverage_penalty=0.2)
    assert [len(hypotheses) for hypotheses in found] == [2, 2]
    assert all(isinstance(score, float) and score <= 0 for hypotheses in found for _, score in hypotheses)
