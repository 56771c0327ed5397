"""Search strategies over a stub step function: a Markov chain on a toy alphabet, no model.

Ids: 0 padding, 1 unknown, 2 start, 3 end, 4 'a', 5 'b', 6 'c'. Each row's state holds the
previous token and the number of a transition table, so a row decodes the same in any batch.
"""

from __future__ import annotations

import inspect
import math

import keras
import numpy as np
import pytest
from keras import ops

from seq2seq.host import to_host
from seq2seq.search import BeamSearch, GreedySearch, Sampling
from seq2seq.search.beam import gnmt_length_penalty
from seq2seq.search.config import SearchConfig
from seq2seq.search.factory import STRATEGIES, make_strategy
from seq2seq.search.sampling import filter_logits
from seq2seq.search.state import SearchState, run_search
from seq2seq.search.strategy import SearchStrategy

START, END, A, B, C = 2, 3, 4, 5, 6
VOCAB = 7


def table(rules: dict[int, dict[int, float]]) -> np.ndarray:
    """Transition probabilities `[previous, next]`; unspecified rows end at once."""
    probabilities = np.full((VOCAB, VOCAB), 1e-12)
    probabilities[:, END] = 1.0
    for previous, nexts in rules.items():
        probabilities[previous] = 1e-12
        for token, p in nexts.items():
            probabilities[previous, token] = p
    return np.log(probabilities / probabilities.sum(axis=1, keepdims=True)).astype("float32")


# Greedy takes 'a' (0.6) then must stop (0.4): P("a") = 0.24. Beam finds "b" (0.4 x 0.9 = 0.36).
GARDEN_PATH = table({START: {A: 0.6, B: 0.4}, A: {END: 0.4, A: 0.3, B: 0.3}, B: {END: 0.9, A: 0.05, C: 0.05}})
# 'c' again is always likelier than stopping, yet each token costs more than stopping now.
LONG = table({START: {C: 0.9, END: 0.1}, C: {C: 0.8, END: 0.2}})
# 'a' after anything is the likeliest.
REPEAT = table({START: {A: 1.0}, A: {A: 0.9, B: 0.05, END: 0.05}, B: {A: 0.9, B: 0.05, END: 0.05}})
TABLES = np.stack([GARDEN_PATH, LONG, REPEAT])
STEPS = []


def markov_step(tokens, states):
    """log P(next | previous) from the row's table; records each call (eager loops run it per step)."""
    STEPS.append(1)
    table_id, _ = states
    rows = ops.take(ops.convert_to_tensor(TABLES), ops.cast(table_id, "int32"), axis=0)
    log_probs = ops.take_along_axis(rows, ops.reshape(ops.cast(tokens, "int32"), (-1, 1, 1)), axis=1)[:, 0]
    return log_probs, [table_id, tokens]


def run(strategy, table_ids, max_lengths):
    table_ids = ops.convert_to_tensor(np.array(table_ids, dtype="int32"))
    ids, scores = strategy(markov_step, [table_ids, table_ids * 0], START, END, np.array(max_lengths, "int32"))
    return to_host(ids).tolist(), to_host(scores)


def text(ids: list[int]) -> str:
    letters = {A: "a", B: "b", C: "c"}
    out = ""
    for token in ids:
        if token == END:
            break
        out += letters.get(token, "?")
    return out


def test_greedy_takes_the_most_probable_token_at_each_step():
    ids, scores = run(GreedySearch(), [0], [10])
    assert text(ids[0][0]) == "a" and ids[0][0][:3] == [A, END, 0]
    assert scores[0, 0] == pytest.approx(math.log(0.24), abs=1e-5)


def test_greedy_stops_each_row_at_its_own_maximum_length():
    ids, _ = run(GreedySearch(), [1, 1], [3, 6])
    assert ids == [[[C, C, C, 0, 0, 0]], [[C, C, C, C, C, C]]]


def test_beam_search_finds_the_more_probable_sentence_greedy_misses():
    ids, scores = run(BeamSearch(beam=2), [0], [10])
    assert text(ids[0][0]) == "b"
    assert scores[0, 0] == pytest.approx(math.log(0.36), abs=1e-5)


def test_beam_search_never_scores_below_greedy_search_where_greedy_ends():
    _, greedy = run(GreedySearch(), [0, 0], [8, 3])
    for beam in (1, 2, 3):
        _, found = run(BeamSearch(beam=beam), [0, 0], [8, 3])
        assert np.all(found[:, 0] >= greedy[:, 0] - 1e-5)


def test_nbest_lists_hypotheses_best_first_with_their_scores():
    ids, scores = run(BeamSearch(beam=3, nbest=3), [0], [10])
    assert [text(row) for row in ids[0]] == ["b", "a", "ab"]
    assert scores[0].tolist() == pytest.approx([math.log(0.36), math.log(0.24), math.log(0.6 * 0.3 * 0.9)], abs=1e-5)


def test_length_penalty_divides_the_log_probability_by_the_gnmt_factor():
    ids, short = run(BeamSearch(beam=4), [1], [8])
    assert text(ids[0][0]) == "c"  # 0.9 x 0.2 beats every longer one without a penalty
    ids, long = run(BeamSearch(beam=4, length_penalty=2.0), [1], [8])
    length = len(text(ids[0][0])) + 1  # the end token counts
    assert len(text(ids[0][0])) > 1
    expected = math.log(0.9 * 0.8 ** (length - 2) * 0.2) / ((5 + length) / 6) ** 2.0
    assert long[0, 0] == pytest.approx(expected, abs=1e-4)
    assert float(gnmt_length_penalty(1, 0.0)) == 1.0


def test_min_length_holds_back_the_end_token():
    ids, _ = run(BeamSearch(beam=2, min_length=3), [0], [10])
    assert len(text(ids[0][0])) >= 3


def test_maximum_length_ends_every_hypothesis_of_that_sentence():
    ids, scores = run(BeamSearch(beam=2, nbest=2), [1, 1], [2, 12])
    assert all(len(text(row)) <= 1 for row in ids[0])  # one token, then the end it was forced to take
    assert len(ids[1][0]) == 12


def test_no_repeat_ngram_blocks_a_repeated_token_pair():
    plain, _ = run(BeamSearch(beam=2, min_length=3), [2], [12])
    blocked, _ = run(BeamSearch(beam=2, min_length=3, no_repeat_ngram=2), [2], [12])
    pairs = lambda s: [s[i : i + 2] for i in range(len(s) - 1)]  # noqa: E731
    assert text(plain[0][0]) == "aaa"  # "aa" twice
    found = pairs(text(blocked[0][0]))
    assert len(text(blocked[0][0])) >= 3 and len(found) == len(set(found))


def test_beam_search_gives_each_sentence_the_same_result_alone_and_in_any_batch():
    search = BeamSearch(beam=3, nbest=2, length_penalty=0.6)
    together_ids, together_scores = run(search, [2, 0, 1, 0], [9, 7, 12, 7])
    for row, (table_id, limit) in enumerate([(2, 9), (0, 7), (1, 12), (0, 7)]):
        alone_ids, alone_scores = run(search, [table_id], [limit])
        assert [text(r) for r in together_ids[row]] == [text(r) for r in alone_ids[0]]
        np.testing.assert_allclose(together_scores[row], alone_scores[0], rtol=1e-6)


def test_beam_search_stops_once_no_alive_hypothesis_can_beat_the_finished_ones():
    STEPS.clear()
    run(BeamSearch(beam=2), [0], [40])
    assert len(STEPS) <= 4  # "b</s>" and "a</s>" settle it long before 40 steps


def test_sampling_with_a_seed_repeats_its_draws():
    generator = keras.random.SeedGenerator(7)
    sampler = Sampling(seed_generator=generator)
    generator.state.assign(ops.cast(ops.convert_to_tensor([7, 0]), generator.state.dtype))
    first = run(sampler, [1] * 20, [15] * 20)[0]
    generator.state.assign(ops.cast(ops.convert_to_tensor([7, 0]), generator.state.dtype))
    assert run(sampler, [1] * 20, [15] * 20)[0] == first
    assert len({text(row[0]) for row in first}) > 1  # it does draw


def test_sampling_draws_tokens_in_proportion_to_their_probability():
    ids, _ = run(Sampling(seed_generator=keras.random.SeedGenerator(3)), [0] * 2000, [1 + 1] * 2000)
    share_a = np.mean([row[0][0] == A for row in ids])
    assert share_a == pytest.approx(0.6, abs=0.05)


@pytest.mark.parametrize("settings", [{"temperature": 0.01}, {"top_k": 1}, {"top_p": 0.05}])
def test_sampling_that_keeps_only_the_top_token_is_greedy(settings):
    sampler = Sampling(seed_generator=keras.random.SeedGenerator(1), **settings)
    assert run(sampler, [0, 1, 2] * 5, [8] * 15)[0] == run(GreedySearch(), [0, 1, 2] * 5, [8] * 15)[0]


def test_filter_logits_keeps_the_top_k_and_the_top_p_mass():
    logits = ops.convert_to_tensor(np.log(np.array([[0.5, 0.3, 0.15, 0.05]], dtype="float32")))
    kept = lambda out: (to_host(out)[0] > -1e8).tolist()  # noqa: E731
    assert kept(filter_logits(logits, top_k=2)) == [True, True, False, False]
    assert kept(filter_logits(logits, top_p=0.7)) == [True, True, False, False]
    assert kept(filter_logits(logits, top_p=0.81)) == [True, True, True, False]
    assert kept(filter_logits(logits, top_p=0.4)) == [True, False, False, False]


# 'a' is likelier than 'b' (0.6 against 0.4) and both then end (0.9); but the step after 'a'
# attends source position 0 again, the step after 'b' position 1.
COVERED = table({START: {A: 0.6, B: 0.4}, A: {END: 0.9, C: 0.1}, B: {END: 0.9, C: 0.1}})


def attending_step(tokens, states, memory=()):
    """A Markov step that also returns attention weights over a 2-token source."""
    log_probs = ops.take(ops.convert_to_tensor(COVERED), ops.cast(tokens, "int32"), axis=0)
    weights = ops.where(
        ops.expand_dims(ops.equal(tokens, B), -1),
        ops.convert_to_tensor([[0.0, 1.0]]),
        ops.convert_to_tensor([[1.0, 0.0]]),
    )
    return log_probs, states, weights


@pytest.mark.parametrize("beta, expected", [(0.0, "a"), (0.2, "b")])
def test_the_coverage_penalty_prefers_a_hypothesis_that_attends_to_every_source_token(beta, expected):
    search = BeamSearch(beam=2, coverage_penalty=beta)
    step = attending_step if beta else (lambda tokens, states: attending_step(tokens, states)[:2])
    source_mask = np.ones((1, 2), dtype=bool)  # one sentence of two real source tokens
    state = search.begin([np.zeros((1, 1), "float32")], START, np.array([5], "int32"), 5, source_mask=source_mask)
    ids, scores = search.result(run_search(search, step, state, END))
    assert text(to_host(ids)[0, 0].tolist()) == expected
    # "a": attention 2 on position 0, none on 1 (floored at 1e-10); "b": 1 and 1, no penalty.
    best = math.log(0.6 * 0.9) + beta * math.log(1e-10) if expected == "a" else math.log(0.4 * 0.9)
    assert float(to_host(scores)[0, 0]) == pytest.approx(best, rel=1e-4)


def test_every_strategy_is_a_search_strategy_and_a_config_picks_each():
    assert all(issubclass(strategy, SearchStrategy) for strategy in STRATEGIES)
    assert not issubclass(Sampling, GreedySearch)
    configs = [SearchConfig(), SearchConfig(beam=2), SearchConfig(sample=True)]
    assert [type(make_strategy(config)) for config in configs] == [GreedySearch, BeamSearch, Sampling]


@pytest.mark.parametrize(
    "strategy",
    [
        GreedySearch(),
        BeamSearch(beam=3, nbest=2, length_penalty=0.6, min_length=1, no_repeat_ngram=3, coverage_penalty=0.2),
        Sampling(temperature=0.7, top_k=4, top_p=0.9),
    ],
    ids=["greedy", "beam", "sampling"],
)
def test_a_strategys_settings_round_trip_through_its_config(strategy):
    config = strategy.get_config()
    assert set(config) == set(inspect.signature(type(strategy)).parameters) - {"seed_generator"}
    copy = type(strategy).from_config(config)
    assert type(copy) is type(strategy) and copy.get_config() == config
    assert {name: getattr(copy, name) for name in config} == {name: getattr(strategy, name) for name in config}


def test_the_search_state_is_a_typed_tree_that_the_loop_carries_and_cuts():
    from seq2seq.search.state import keep_sentences

    search = BeamSearch(beam=2, nbest=2)
    state = search.begin([ops.convert_to_tensor(np.array([0, 2, 1], "int32")), np.zeros(3, "int32")], START, [9, 0, 6])
    state = run_search(search, markov_step, state, END, until=1)
    assert isinstance(state, SearchState) and type(state.found).__name__ == "Beams"
    assert int(state.index) == 1 and to_host(state.done).tolist() == [False, True, False]
    cut = keep_sentences(state, [2, 0], search.beam)
    assert to_host(cut.max_lengths).tolist() == [6, 9] and to_host(cut.rows.tokens).shape == (4,)
    np.testing.assert_array_equal(to_host(cut.found.alive)[1], to_host(state.found.alive)[0])
    ids, _ = search.result(run_search(search, markov_step, cut, END))
    alone, _ = run(search, [1, 0], [6, 9])
    assert to_host(ids).tolist() == alone
