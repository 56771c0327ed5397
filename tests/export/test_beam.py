"""The NumPy searches of the exported runner find what the Keras searches find, on a stub step with no model."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from seq2seq.export.beam import BeamSearch, greedy_search
from seq2seq.export.step import Step, top_k
from seq2seq.search import make_strategy
from seq2seq.search.config import SearchConfig
from seq2seq.search.state import run_search

VOCAB, UNITS, SOURCE = 11, 5, 7  # tokens (0 padding, 1 start, 2 end), state width, source positions
START, END = 1, 2
rng = np.random.default_rng(3)
TABLE = (rng.normal(size=(VOCAB, VOCAB)) * 2.5).astype(np.float32)  # token -> logits
TABLE[:, 0] = -30.0  # padding is never chosen
MIX = rng.normal(size=(UNITS, VOCAB)).astype(np.float32)
EMBED = rng.normal(size=(VOCAB, UNITS)).astype(np.float32)
ATTEND = rng.normal(size=(UNITS, SOURCE)).astype(np.float32)


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def numpy_step(tokens, states, memory, k):
    """The stub as the runner's searches call a step: each row's k best tokens."""
    hidden = states[0]
    log_probs = log_softmax(TABLE[tokens] + hidden @ MIX).astype(np.float32)
    new = np.tanh(hidden * np.float32(0.5) + EMBED[tokens])
    scores = np.exp(new @ ATTEND) * memory["mask"]
    values, ids = top_k(log_probs, min(k, VOCAB))
    return Step(values, ids.astype(np.int32), log_probs[:, END], [new], scores / scores.sum(-1, keepdims=True))


def keras_step(tokens, states, memory=None):
    """The same stub as the Keras strategies call it: log-probabilities, states and attention weights."""
    hidden = states[0]
    logits = ops.take(TABLE, tokens, axis=0) + ops.matmul(hidden, MIX)
    new = ops.tanh(hidden * 0.5 + ops.take(EMBED, tokens, axis=0))
    scores = ops.exp(ops.matmul(new, ATTEND)) * memory[0]
    return ops.log_softmax(logits, axis=-1), [new], scores / ops.sum(scores, axis=-1, keepdims=True)


def keras_search(config: SearchConfig, hidden, mask, limits):
    """What the Keras strategy for `config` finds with the stub: `(ids (batch, n, width), scores (batch, n))`."""
    strategy = make_strategy(config)
    rows = strategy.beam
    step = (
        keras_step
        if config.coverage_penalty
        else (lambda tokens, states, memory: keras_step(tokens, states, memory)[:2])
    )
    state = strategy.begin([hidden], START, limits, None, (np.repeat(mask, rows, axis=0),), mask > 0)
    return tuple(np.asarray(x) for x in strategy.result(run_search(strategy, step, state, END)))


def sentences(batch: int):
    hidden = rng.normal(size=(batch, UNITS)).astype(np.float32)
    lengths = np.arange(batch) % SOURCE + 1
    mask = (np.arange(SOURCE)[None] < lengths[:, None]).astype(np.float32)
    limits = (np.arange(batch) * 2 + 3).astype(np.int32)  # 3, 5, 7, ...: some sentences end at their limit
    return hidden, mask, limits


@pytest.mark.parametrize(
    "beam, nbest, alpha, beta, min_length",
    [(3, 2, 0.0, 0.0, 0), (5, 2, 0.6, 0.0, 0), (4, 3, 1.0, 0.4, 0), (3, 1, 0.0, 0.0, 4), (2, 2, 0.3, 0.2, 2)],
)
def test_the_numpy_beam_search_finds_the_hypotheses_and_scores_of_the_keras_one(beam, nbest, alpha, beta, min_length):
    hidden, mask, limits = sentences(9)
    config = SearchConfig(beam=beam, nbest=nbest, length_penalty=alpha, coverage_penalty=beta, min_length=min_length)
    keras_ids, keras_scores = keras_search(config, hidden, mask, limits)

    found = BeamSearch(beam, nbest, alpha, beta, min_length)(
        numpy_step, [hidden], {"mask": mask}, mask > 0, START, END, limits
    )
    for sentence, (ids, scores) in enumerate(found):
        real = keras_scores[sentence] > -5e8
        width = ids.shape[1]
        assert np.array_equal(ids[real], keras_ids[sentence][real][:, :width])
        assert np.allclose(scores[real], keras_scores[sentence][real], atol=1e-5)
        assert not keras_ids[sentence][real][:, width:].any()  # nothing past the longest limit


def test_the_numpy_greedy_search_finds_the_tokens_and_scores_of_the_keras_one():
    hidden, mask, limits = sentences(6)
    keras_ids, keras_scores = keras_search(SearchConfig(), hidden, mask, limits)
    found = greedy_search(numpy_step, [hidden], {"mask": mask}, START, END, limits)
    for sentence, (ids, scores) in enumerate(found):
        assert np.array_equal(ids, keras_ids[sentence])
        assert np.allclose(scores, keras_scores[sentence], atol=1e-5)


def test_a_sentence_gets_the_same_hypotheses_alone_as_in_a_batch_whose_other_sentences_end_sooner():
    hidden, mask, limits = sentences(8)
    search = BeamSearch(3, 2, 0.5)
    together = search(numpy_step, [hidden], {"mask": mask}, mask > 0, START, END, limits)
    for sentence in (0, 5, 7):
        alone = search(
            numpy_step,
            [hidden[sentence : sentence + 1]],
            {"mask": mask[sentence : sentence + 1]},
            mask[sentence : sentence + 1] > 0,
            START,
            END,
            limits[sentence : sentence + 1],
        )[0]
        width = alone[0].shape[1]
        assert np.array_equal(alone[0], together[sentence][0][:, :width])
        assert np.array_equal(alone[1], together[sentence][1])


@pytest.mark.parametrize("k", [2, 4, 6])
def test_top_k_orders_the_best_first_and_ties_by_lower_index_as_tensorflow_does(k):
    values = np.array([[0.5, 2.0, 0.5, 2.0, -1.0, 0.5], [3.0, 3.0, 3.0, 1.0, 3.0, 0.0]], np.float32)
    found, at = top_k(values, k)
    expected_values, expected_at = (np.asarray(x) for x in ops.top_k(values, k))
    assert np.array_equal(at, expected_at) and np.array_equal(found, expected_values)
