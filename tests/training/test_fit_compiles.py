"""JAX compiles a fixed, small number of programs per training, whatever the order of its batches.

The bound: a training compiles at most one training-step program per length bucket of its
training pairs and one validation-step program per bucket of its validation pairs, for any
number of epochs. Before batches came in fixed shapes, each bucket compiled a program per
width (lengths rounded up to multiples of 8) and another for its smaller last batch: on the
slice below, 12 training and 4 validation programs against the bound's 4 and 1 (now met).
Batches sized by target tokens (`batch_tokens`) keep the bound: one batch size per bucket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Runs in a process of its own: the suite's backend is fixed per process, and this needs JAX.
COUNT_COMPILATIONS = """
import collections, json, sys
from jax import monitoring

compiled = collections.Counter()

def heard(event, seconds, **details):
    if event == "/jax/core/compile/backend_compile_duration":
        compiled[details.get("fun_name", "")] += 1

monitoring.register_event_duration_secs_listener(heard)

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data.corpus import read_tatoeba
from seq2seq.data.pipeline import BucketedBatches, EncodedPairs
from seq2seq.training.fit import build_vocabularies, train, validation_split

pairs = read_tatoeba(sys.argv[1], limit=400).pairs
model_config = ModelConfig(units=6, embedding_dim=5, attention="luong-dot")
sizes = json.loads(sys.argv[2])
train_config = TrainConfig(epochs=2, verbose=0, max_validation_sources=60, **sizes)
sides = validation_split(pairs, train_config)
vocabularies = build_vocabularies(sides[0], model_config, train_config)
ids = dict(start_id=vocabularies[1].start_id, end_id=vocabularies[1].end_id, shuffle=False, seed=0,
           boundaries=None, pad_multiple=8, fixed_shapes=True)
buckets = [len(BucketedBatches(EncodedPairs.encode(side, *vocabularies), train_config.batch_size,
                               batch_tokens=train_config.batch_tokens, **ids).shapes()) for side in sides]
train(pairs, model_config, train_config)
print(json.dumps({"train_buckets": buckets[0], "validation_buckets": buckets[1],
                  "train_programs": compiled["jit(train_step)"], "validation_programs": compiled["jit(test_step)"]}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("sizes", [{"batch_size": 16}, {"batch_tokens": 400}], ids=["by sentences", "by tokens"])
def test_two_epochs_with_validation_compile_one_program_per_bucket_on_jax(tatoeba_path, sizes):
    pytest.importorskip("jax")
    environment = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "SEQ2SEQ_COMPILATION_CACHE": "off",
    }
    result = subprocess.run(
        [sys.executable, "-c", COUNT_COMPILATIONS, str(tatoeba_path), json.dumps(sizes)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["train_buckets"] > 1 and counts["train_programs"] >= 1 and counts["validation_programs"] >= 1, counts
    assert counts["train_programs"] <= counts["train_buckets"], counts
    assert counts["validation_programs"] <= counts["validation_buckets"], counts
