"""Every strategy on real architectures: batch-independent results, n-best lists, seeded sampling."""

from __future__ import annotations

import pytest

from conftest import tiny_model
from seq2seq.errors import ConfigError
from seq2seq.search.config import SearchConfig

SOURCES = ["Go.", "Who are you?", "Hi.", "", "Run! Run!", "Go?", "Who?"]
ARCHITECTURES = [
    {},
    {"cell": "gru", "layers": 2, "embedding_dim": 4},
    {"bidirectional": True, "bridge": "dense", "attention": "luong-general", "embedding_dim": 3},
    {"cell": "gru", "bridge": "mean", "attention": "bahdanau"},
]


@pytest.fixture(scope="module", params=ARCHITECTURES, ids=["classic", "gru-stacked", "bi-luong", "gru-bahdanau"])
def model(request):
    return tiny_model(seed=11, **request.param)


@pytest.mark.parametrize("search", [SearchConfig(), SearchConfig(beam=3, nbest=2, length_penalty=0.6)], ids=["greedy", "beam"])
def test_a_batch_gives_each_sentence_what_it_gets_alone(model, search):
    together = model.translate_nbest(SOURCES, search.replace(batch_size=3))
    alone = [model.translate_nbest([source], search)[0] for source in SOURCES]
    assert [[h.text for h in hs] for hs in together] == [[h.text for h in hs] for hs in alone]
    for batched, single in zip(together, alone):
        assert [h.score for h in batched] == pytest.approx([h.score for h in single], abs=1e-4)


def test_beam_search_returns_nbest_hypotheses_best_first(model):
    results = model.translate_nbest(SOURCES, beam=4, nbest=3)
    for hypotheses in results:
        assert 1 <= len(hypotheses) <= 3
        scores = [h.score for h in hypotheses]
        assert scores == sorted(scores, reverse=True)
    assert model.translate(SOURCES, beam=4) == [hs[0].text for hs in results]


def test_seeded_sampling_repeats_and_different_seeds_differ(model):
    first = model.translate(SOURCES * 3, sample=True, seed=5, temperature=1.5)
    assert model.translate(SOURCES * 3, sample=True, seed=5, temperature=1.5) == first
    others = [model.translate(SOURCES * 3, sample=True, seed=seed, temperature=1.5) for seed in (6, 7)]
    assert any(other != first for other in others)


def test_translate_takes_a_config_object_or_keyword_overrides(model):
    config = SearchConfig(beam=2, max_length=5)
    assert model.translate(SOURCES, config) == model.translate(SOURCES, beam=2, max_length=5)
    assert model.translate(SOURCES, config, beam=1) == model.translate(SOURCES, max_length=5)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"beam": 2, "nbest": 3}, r"nbest \(3\) cannot exceed the beam \(2\); pass --beam 3"),
        ({"beam": 3, "sample": True}, "use --sample without --beam"),
        ({"temperature": 0}, "temperature must be a number > 0, got 0"),
        ({"top_p": 1.5}, r"top_p must be a number in \(0, 1\], got 1.5"),
        ({"beam": 0}, "beam must be a positive integer, got 0"),
        ({"length_penalty": -1}, "length_penalty must be a number >= 0"),
        ({"min_length": 5, "max_length": 5}, r"min_length \(5\) must be below max_length \(5\)"),
    ],
)
def test_invalid_search_settings_name_the_value_and_the_fix(settings, message):
    with pytest.raises(ConfigError, match=message):
        SearchConfig(**settings)


def test_an_unknown_search_setting_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown search setting.*num_beams.*valid ones are: batch_size, beam"):
        tiny_model().translate(["Go."], num_beams=3)


def test_the_command_line_prints_nbest_lists_with_scores(tmp_path, capsys):
    from seq2seq.cli import main

    model = tiny_model(seed=12)
    path = tmp_path / "model.keras"
    model.save(path)
    assert main(["translate", str(path), "Go.", "Hi.", "--beam", "3", "--nbest", "2", "--scores"]) == 0
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    expected = model.translate_nbest(["Go.", "Hi."], beam=3, nbest=2)
    assert [(int(i), t) for i, _, t in lines] == [(i, h.text) for i, hs in enumerate(expected) for h in hs]
    assert [float(s) for _, s, _ in lines] == pytest.approx([h.score for hs in expected for h in hs], abs=1e-3)
