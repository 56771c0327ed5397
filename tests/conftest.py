"""Shared fixtures: the real corpus (skipped where absent) and tiny models."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# `seq2seq translate MODEL.keras` would export each model it meets once (seconds each); only
# tests/cli/test_translate_cache.py turns the cached export on.
os.environ.setdefault("SEQ2SEQ_EXPORT_CACHE", "off")

import keras  # noqa: E402,F401  (imported first, so the CLI under test leaves stderr alone)
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run and keep no example database, so a CI
# failure reproduces locally; HYPOTHESIS_PROFILE=explore searches afresh with more examples.
settings.register_profile("repeatable", max_examples=100, derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

TATOEBA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tatoeba" / "fra-eng.txt"


@pytest.fixture(scope="session")
def tatoeba_path() -> Path:
    """The real English-French corpus beside the checkout; tests that need it skip without it."""
    if not TATOEBA.is_file():
        pytest.skip(f"the Tatoeba corpus is not at {TATOEBA}; tests on real data are skipped")
    return TATOEBA


def one_line_error(error_type: type[Exception], call, *args, **kwargs) -> str:
    """Run a call that must raise `error_type` with a one-line message, and return the message."""
    with pytest.raises(error_type) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def tiny_model(seed: int = 0, **config):
    """An untrained model with small, all-different sizes, over real sentences' characters."""

    from seq2seq.config import ModelConfig
    from seq2seq.data.tokenizers import tokenizer_from_config
    from seq2seq.data.vocabulary import Vocabulary
    from seq2seq.models.seq2seq import Seq2Seq

    settings = {"units": 7, "embedding_dim": None, **config}
    model_config = ModelConfig(**settings)
    keras.utils.set_random_seed(seed)
    tokenizer = {"name": model_config.tokenizer, "lowercase": model_config.lowercase}
    source = Vocabulary.build(["Go.", "Hi.", "Run!", "Who are you?"], tokenizer_from_config(tokenizer))
    target = Vocabulary.build(["Va !", "Salut !", "Cours !", "Qui êtes-vous ?"], tokenizer_from_config(tokenizer))
    model = Seq2Seq(model_config, source, target)
    # Sharpen the untrained output layer: near-uniform probabilities would make greedy
    # choices hinge on rounding, while a trained model's choices do not.
    kernel = model.decoder.output_projection.kernel
    kernel.assign(kernel * 25.0)
    return model
