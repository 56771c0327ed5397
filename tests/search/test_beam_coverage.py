"""The coverage penalty adds up attention in float32, whatever precision the model's step computes in."""

from __future__ import annotations

import math

import numpy as np
import pytest
from keras import ops

from seq2seq.host import to_host
from seq2seq.search import BeamSearch
from seq2seq.search.state import run_search
from tests.search.test_search import END, START, attending_step, text


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_attention_weights_of_a_lower_precision_step_give_the_float32_coverage_penalty(dtype):
    def step(tokens, states, memory=()):  # a bfloat16 model returns its attention weights in bfloat16
        log_probs, states, weights = attending_step(tokens, states, memory)
        return log_probs, states, ops.cast(weights, dtype)

    search = BeamSearch(beam=2, coverage_penalty=0.2)
    state = search.begin([np.zeros((1, 1), "float32")], START, np.array([5], "int32"), 5, source_mask=np.ones((1, 2)))
    found = search.result(run_search(search, step, state, END))
    assert found[0].dtype == "int32" and ops.convert_to_numpy(found[1]).dtype == np.float32
    ids, scores = to_host(found[0]), to_host(found[1])
    assert text(ids[0, 0].tolist()) == "b"  # the hypothesis that attends to both source tokens, as in float32
    assert float(scores[0, 0]) == pytest.approx(math.log(0.4 * 0.9), rel=1e-4)
