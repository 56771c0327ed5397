"""A prefix forced through every strategy, over the Markov-chain stub step of `test_search.py` (no model)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seq2seq.host import to_host
from seq2seq.layers.decoder import IMPOSSIBLE
from seq2seq.search import BeamSearch, GreedySearch, Sampling
from seq2seq.search.beam import gnmt_length_penalty
from seq2seq.search.strategy import forced_tokens
from tests.search.test_search import END, START, A, B, C, markov_step, text


def run(strategy, table_ids, max_lengths, prefixes):
    """`(ids, scores)` of a search whose row `i` must start with `prefixes[i]` (a list of ids)."""
    width = max(max_lengths)
    prefix = np.zeros((len(table_ids), width), dtype="int32")
    for row, ids in enumerate(prefixes):
        prefix[row, : len(ids)] = ids
    table_ids = np.array(table_ids, dtype="int32")
    ids, scores = strategy(
        markov_step, [table_ids, table_ids * 0], START, END, np.array(max_lengths, "int32"), width, prefix
    )
    return to_host(ids).tolist(), to_host(scores)


def test_greedy_takes_the_prefix_then_the_likeliest_tokens_and_scores_the_prefix_too():
    # GARDEN_PATH: greedy alone says "a" (0.6 x 0.4); forced to start with "b" it ends at once (0.4 x 0.9).
    ids, scores = run(GreedySearch(), [0, 0], [6, 6], [[B], []])
    assert [text(ids[0][0]), text(ids[1][0])] == ["b", "a"]
    assert scores[:, 0] == pytest.approx([math.log(0.4 * 0.9), math.log(0.6 * 0.4)], abs=1e-5)


def test_a_prefix_the_model_finds_unlikely_is_still_taken_and_costs_its_log_probability():
    # LONG: "c" follows "c" (0.8); the forced "c c" then continues as greedy would.
    ids, scores = run(GreedySearch(), [1], [4], [[C, C, C]])
    assert ids[0][0] == [C, C, C, C]  # at the limit: no room left to end
    assert scores[0, 0] == pytest.approx(math.log(0.9 * 0.8**3), abs=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_every_beam_hypothesis_starts_with_the_prefix_and_its_score_counts_it(alpha):
    ids, scores = run(BeamSearch(beam=3, nbest=3, length_penalty=alpha), [0, 2], [6, 6], [[A, B], [B]])
    first = [[text(row) for row in sentence] for sentence in ids]
    found = [(t, s) for t, s in zip(first[0], scores[0]) if s > -1e8]
    assert found and all(t.startswith("ab") for t, _ in found)
    assert all(t.startswith("b") for t, s in zip(first[1], scores[1]) if s > -1e8)
    # "ab" then the end: 0.6 x 0.3 x 0.9, normalised by the length with its end (3 tokens).
    assert dict(found)["ab"] == pytest.approx(
        math.log(0.6 * 0.3 * 0.9) / float(gnmt_length_penalty(3, alpha)), abs=1e-5
    )


def test_beams_never_filled_during_a_prefix_do_not_finish_as_hypotheses():
    # The prefix takes all but one step of the limit: only the forced hypothesis can end. (The
    # others' scores, divided by a length penalty above 2, would otherwise pass for real ones.)
    ids, scores = run(BeamSearch(beam=3, nbest=3, length_penalty=1.0), [2], [9], [[A] * 8])
    real = [text(row) for row, score in zip(ids[0], scores[0]) if score > IMPOSSIBLE / 2]
    assert real == ["a" * 8]


def test_blocking_and_min_length_never_hold_back_a_prefix_token_and_min_length_counts_the_prefix():
    # REPEAT: "a" after anything; a prefix that repeats the bigram "a a" is forced all the same.
    ids, _ = run(BeamSearch(beam=2, no_repeat_ngram=2, min_length=4), [2], [8], [[A, A, A]])
    assert ids[0][0][:3] == [A, A, A] and END not in ids[0][0][:4]


def test_sampling_takes_the_prefix_before_it_draws():
    ids, _ = run(Sampling(), [1, 1], [5, 5], [[C, C], [C]])
    assert ids[0][0][:2] == [C, C] and ids[1][0][:1] == [C]


def test_forced_tokens_are_none_without_a_prefix_and_each_rows_token_at_a_step_with_one():
    assert forced_tokens((), 0) is None
    assert to_host(forced_tokens(np.array([[4, 5], [6, 0]], dtype="int32"), 1)).tolist() == [5, 0]
