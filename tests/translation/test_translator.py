"""Every strategy on real architectures: batch-independent results, n-best lists, seeded sampling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seq2seq.errors import ConfigError
from seq2seq.search.config import SearchConfig
from tests.conftest import tiny_model

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


@pytest.mark.parametrize(
    "search", [SearchConfig(), SearchConfig(beam=3, nbest=2, length_penalty=0.6)], ids=["greedy", "beam"]
)
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
    import keras

    if keras.backend.backend() == "jax":
        with pytest.raises(ConfigError, match="sampling needs the TensorFlow or PyTorch backend"):
            model.translate(SOURCES, sample=True, seed=5)
        return
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
        ({"no_repeat_ngram": 10**6}, "no_repeat_ngram must be at most 32, got 1000000"),
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


def test_new_input_lengths_and_batch_sizes_do_not_recompile_the_search():
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("counts TensorFlow traces")
    model = tiny_model(seed=13)
    for count, length in [(1, 3), (5, 20), (17, 45), (2, 9)]:
        model.translate(["ab " * length] * count, beam=2)
    (searcher,) = model.translator._searchers.values()
    assert searcher.begin.tf_function.experimental_get_tracing_count() == 1
    assert searcher.run.tf_function.experimental_get_tracing_count() == 1


def test_source_tokens_outside_the_vocabulary_are_read_as_unknown_with_one_warning():
    from seq2seq.errors import UnknownTokensError, UnknownTokensWarning

    model = tiny_model(seed=14)
    with pytest.warns(UnknownTokensWarning) as caught:
        translations = model.translate(["Go€.", "Hi ß€!", "Go."])
    assert len(caught) == 1
    assert "2 source token(s)" in str(caught[0].message) and "'€', 'ß'" in str(caught[0].message)
    assert model.source_vocab.encode("Go€.")[2] == model.source_vocab.unk_id and len(translations) == 3
    with pytest.raises(UnknownTokensError, match="'€'.*without --strict"):
        model.translate(["Go€."], strict=True)


def test_a_source_longer_than_any_seen_in_training_is_still_translated():
    model = tiny_model(seed=15)
    longest_seen = max(len(sentence) for sentence in ["Go.", "Hi.", "Run!", "Who are you?"])
    long_source = "Who are you? " * 12
    assert len(long_source) > 10 * longest_seen
    (translation,) = model.translate([long_source])
    assert isinstance(translation, str)
    assert (
        len(model.target_vocab.tokenizer.tokenize(translation.replace("<unk>", "?")))
        <= 2 * len(model.source_vocab.encode(long_source)) + 10
    )


def test_the_command_line_warns_about_unknown_tokens_on_one_line_and_strict_fails(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "model.keras"
    tiny_model(seed=16).save(path)
    command = [sys.executable, "-m", "seq2seq.cli", "translate", str(path), "Go€."]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr.strip().splitlines() == [
        "seq2seq: warning: 1 source token(s) are not in the model's vocabulary and were read as <unk>: '€'."
    ]
    strict = subprocess.run(command + ["--strict"], capture_output=True, text=True)
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1 and "'€'" in strict.stderr


def test_calling_the_decoder_model_with_the_wrong_inputs_lists_what_it_expects():
    import numpy as np

    from seq2seq.models.inference import InferenceInputError

    model = tiny_model(units=7)
    token, state = np.array([[2]]), np.zeros((1, 7), "float32")
    expected = (
        "decoder_model expects 3 inputs in this order: decoder_tokens (batch, 1) int32, "
        "state_h_0 (batch, 7) float32, state_c_0 (batch, 7) float32"
    )
    with pytest.raises(InferenceInputError, match=re_escape(expected + "; received 1 (shapes given: (1, 1))")):
        model.decoder_model.predict([token], verbose=0)
    with pytest.raises(
        InferenceInputError, match=re_escape("input 1 should be decoder_tokens (batch, 1), but its shape is (1, 7)")
    ):
        model.decoder_model.predict([state, state, token], verbose=0)
    with pytest.raises(InferenceInputError, match="encoder_model expects 1 inputs"):
        model.encoder_model.predict([token, token], verbose=0)
    assert len(model.decoder_model([token, state, state])) == 3


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_a_coverage_penalty_of_zero_is_plain_beam_search_and_needs_beam_and_attention():
    from seq2seq.errors import ConfigError

    model = tiny_model(seed=15, embedding_dim=6, bidirectional=True, bridge="dense", attention="luong-general")
    texts = ["Go.", "Who are you?", "Hi. Run!"]
    assert model.translate_nbest(texts, beam=3, nbest=2, coverage_penalty=0.0) == model.translate_nbest(
        texts, beam=3, nbest=2
    )
    penalised = model.translate_nbest(texts, beam=3, nbest=2, coverage_penalty=0.5)
    assert all(len(hypotheses) == 2 for hypotheses in penalised)
    with pytest.raises(ConfigError, match="--beam 2 or more"):
        model.translate(texts, coverage_penalty=0.5)
    with pytest.raises(ConfigError, match="needs attention models"):
        tiny_model(seed=15).translate(texts, beam=2, coverage_penalty=0.5)


def test_a_translator_keeps_the_compiled_searches_of_its_last_few_settings_only():
    from seq2seq.translation.translator import SEARCHERS, Translator

    translator = Translator(tiny_model(seed=18))
    configs = [SearchConfig(beam=2, length_penalty=0.1 * i) for i in range(SEARCHERS + 3)]
    first = translator._searcher_for(configs[0])
    for config in configs[1:]:
        assert translator._searcher_for(configs[0]) is first  # each use makes it the most recent again
        translator._searcher_for(config)
    assert len(translator._searchers) == SEARCHERS
    kept = [*configs[-(SEARCHERS - 1) : -1], configs[0], configs[-1]]  # least recently used first
    assert list(translator._searchers) == [config.strategy_key for config in kept]


@pytest.mark.parametrize(
    "length, bucket", [(0, 8), (8, 8), (9, 16), (16, 16), (17, 24), (25, 32), (33, 48), (49, 64), (65, 96), (97, 128)]
)
def test_source_lengths_fall_into_a_geometric_set_of_buckets(length, bucket):
    from seq2seq.translation.translator import length_bucket

    assert length_bucket(length) == bucket


def test_fixed_batch_shapes_pad_the_rows_to_a_power_of_two_with_filler_that_is_done_at_once():
    from seq2seq.translation.translator import batch_shape, default_max_length

    sources = [[5, 6, 7], [5] * 11, [6, 7]]
    ids, limits, width = batch_shape(sources, SearchConfig(batch_size=6), fixed=True)
    assert ids.shape == (4, 16) and ids[3].tolist() == ids[0].tolist()
    assert limits.tolist() == [default_max_length(3), default_max_length(11), default_max_length(2), 0]
    assert width == 48  # 2 x 16 + 10, rounded up to a multiple of 8: the same for every batch of this bucket
    ids, limits, width = batch_shape(sources * 2, SearchConfig(batch_size=6, max_length=9), fixed=True)
    assert ids.shape == (6, 16) and limits.tolist() == [9] * 6 and width == 16
    ids, limits, width = batch_shape(sources, SearchConfig(batch_size=6), fixed=False)
    assert ids.shape == (3, 16) and limits.tolist() == [default_max_length(n) for n in (3, 11, 2)] and width == 32


# Runs in a process of its own: the suite's backend is fixed per process, and this needs JAX.
COUNT_SEARCH_COMPILATIONS = """
import collections, json
from jax import monitoring

compiled = collections.Counter()

def heard(event, seconds, **details):
    if event == "/jax/core/compile/backend_compile_duration":
        compiled[details.get("fun_name", "")] += 1

monitoring.register_event_duration_secs_listener(heard)

from seq2seq.translation.translator import length_bucket
from tests.conftest import tiny_model

model = tiny_model(seed=17, attention="luong-dot")
words = ["Go.", "Hi.", "Run!", "Who are you?"]
texts = [" ".join(words[i % 4 : i % 4 + 1 + i % 3] * (1 + i % 3)) for i in range(37)]
batches = 0
for beam in (1, 2):
    for part in (texts, texts[5:16], texts[::-3], texts[2:3]):
        model.translate(part, beam=beam, batch_size=8)
        batches += -(-len(part) // 8)
buckets = {length_bucket(len(model.source_vocab.encode(text))) for text in texts}
programs = {name: compiled[f"jit({name})"] for name in ("begin", "run")}
print(json.dumps({"programs": programs, "buckets": len(buckets), "batches": batches}))
"""


@pytest.mark.slow
def test_jax_compiles_a_search_per_source_bucket_and_power_of_two_of_rows_not_per_batch():
    """The bound: per strategy, one `begin` and one `run` program per source length bucket and row count.

    Row counts are the powers of two up to the batch size (and the batch size), here 1, 2, 4
    and 8. The 20 batches below compiled 14 programs of each kind when measured (the bound is
    2 strategies x buckets x 4 row counts); before shapes were fixed, with lengths rounded up
    to multiples of 8 and batches of any size, they compiled 18.
    """
    pytest.importorskip("jax")
    environment = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SEQ2SEQ_COMPILATION_CACHE": "off",
    }
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", COUNT_SEARCH_COMPILATIONS], capture_output=True, text=True, env=environment, cwd=root
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    bound = 2 * counts["buckets"] * 4
    assert counts["buckets"] > 1 and counts["programs"]["begin"] >= 2, counts
    assert counts["programs"]["begin"] <= bound and counts["programs"]["run"] <= bound, counts
    assert counts["programs"]["begin"] < counts["batches"], counts
