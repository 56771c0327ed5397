"""SearchConfig: caps that keep one search within memory and time, and min_length only where a search honours it."""

from __future__ import annotations

import pytest

from seq2seq.errors import ConfigError
from seq2seq.search.config import MAX_BEAM, MAX_OUTPUT_LENGTH, SearchConfig
from tests.conftest import one_line_error


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"beam": MAX_BEAM + 1}, f"beam must be at most {MAX_BEAM}, got {MAX_BEAM + 1}"),
        ({"max_length": 10**9}, f"max_length must be at most {MAX_OUTPUT_LENGTH} tokens, got 1000000000"),
        ({"beam": 3, "min_length": MAX_OUTPUT_LENGTH + 1}, f"min_length must be at most {MAX_OUTPUT_LENGTH} tokens"),
        ({"min_length": 3}, "min_length (3) holds back the end in beam search only; pass --beam 2 or more"),
        ({"min_length": 3, "sample": True}, "min_length (3) holds back the end in beam search only"),
        ({"beam": 3, "min_length": 7, "max_length": 7}, "min_length (7) must be below max_length (7)"),
    ],
)
def test_settings_past_a_cap_or_never_honoured_are_refused(settings, expected):
    assert expected in one_line_error(ConfigError, SearchConfig, **settings)


def test_the_largest_allowed_settings_are_accepted():
    config = SearchConfig(beam=MAX_BEAM, nbest=MAX_BEAM, min_length=MAX_OUTPUT_LENGTH - 1, max_length=MAX_OUTPUT_LENGTH)
    assert (config.beam, config.max_length) == (MAX_BEAM, MAX_OUTPUT_LENGTH)
    assert SearchConfig().replace(beam=2, min_length=5).min_length == 5
