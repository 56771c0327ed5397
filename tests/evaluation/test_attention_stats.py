"""Attention health figures: on made-up weight matrices, and on a real model trained briefly."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.evaluation.attention_plot import NoAttentionError
from seq2seq.evaluation.attention_stats import attention_statistics, format_statistics, summarise
from tests.conftest import tiny_model


def test_a_collapsed_attention_scores_first_token_one_entropy_zero_and_no_monotonicity():
    collapsed = np.zeros((6, 5))
    collapsed[:, 0] = 1.0
    stats = summarise([collapsed])
    assert stats == {"first_token_weight": 1.0, "entropy": 0.0, "max_weight": 1.0, "monotonicity": 0.0, "sentences": 1}


def test_a_diagonal_attention_is_monotonic_and_uniform_weights_have_entropy_one():
    diagonal = summarise([np.eye(5)])
    assert diagonal["monotonicity"] == pytest.approx(1.0)
    assert diagonal["first_token_weight"] == pytest.approx(0.2)
    assert diagonal["entropy"] == pytest.approx(0.0, abs=1e-6)
    uniform = summarise([np.full((4, 8), 1 / 8)])
    assert uniform["entropy"] == pytest.approx(1.0)
    assert uniform["max_weight"] == pytest.approx(1 / 8)


def test_a_backwards_alignment_has_monotonicity_minus_one():
    assert summarise([np.eye(4)[::-1]])["monotonicity"] == pytest.approx(-1.0)


def test_a_model_without_attention_is_refused_in_one_sentence():
    with pytest.raises(NoAttentionError, match="has no attention"):
        attention_statistics(tiny_model(), ["Go."])


def test_the_weights_are_those_of_the_greedy_steps():
    from seq2seq.evaluation.attention_plot import attention_matrix
    from seq2seq.evaluation.attention_stats import _batch_weights, greedy_output_ids

    model = tiny_model(attention="luong-general", embedding_dim=5)
    keys = model.decoder.attention_layer.key_projection.kernel
    keys.assign(keys * 3000.0)  # sharpen the untrained attention, so the weights differ from step to step
    texts = ["Who are you?", "Go."]
    outputs = greedy_output_ids(model, texts)
    weights = _batch_weights(model, texts, outputs)
    for text, batch_weights in zip(texts, weights):
        _, ids, step_weights = attention_matrix(model, text)
        assert [i for i in ids if i != model.target_vocab.end_id] == outputs[texts.index(text)]
        steps = min(len(step_weights), len(batch_weights))
        assert steps >= 2 and np.ptp(batch_weights[:steps]) > 0.1
        np.testing.assert_allclose(batch_weights[:steps], np.asarray(step_weights)[:steps], atol=1e-3)


def test_the_line_for_people_names_every_figure():
    line = format_statistics(
        {"first_token_weight": 0.5, "entropy": 0.25, "max_weight": 0.75, "monotonicity": None, "sentences": 3}
    )
    assert (
        line == "attention: first-token weight 0.500, entropy 0.250, max weight 0.750, monotonicity n/a (3 sentences)"
    )
