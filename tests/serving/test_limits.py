"""The service's caps: settings validated, and each cap refused naming the field, the value and the limit."""

from __future__ import annotations

import pytest

from seq2seq.errors import ConfigError
from seq2seq.search.config import SearchConfig
from seq2seq.serving.limits import RequestError, ServeSettings, check_search, check_work, checked_texts

SETTINGS = ServeSettings(
    max_texts=3, max_chars=9, max_beam=5, max_nbest=2, max_min_length=4, max_output_tokens=50, max_work=400
)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"max_texts": 0}, "max_texts must be a positive integer"),
        ({"max_work": -5}, "max_work must be a positive integer"),
        ({"max_min_length": -1}, "max_min_length must be an integer >= 0"),
        ({"deadline_s": 0}, "deadline_s must be a number of seconds > 0"),
        ({"read_timeout_s": float("nan")}, "read_timeout_s must be a number of seconds > 0"),
        ({"token": " "}, "the token must be a non-empty string"),
    ],
)
def test_impossible_settings_are_refused_in_one_sentence(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ServeSettings(**overrides)


def test_the_token_is_never_among_the_limits_shown():
    settings = ServeSettings(token="s3cret")
    assert "token" not in settings.limits() and "s3cret" not in repr(settings)
    assert settings.limits()["deadline_s"] == 30.0 and settings.limits()["max_body_bytes"] == 1 << 20


@pytest.mark.parametrize(
    "search, message",
    [
        (SearchConfig(beam=6), "beam is 6, at most 5 on this server."),
        (SearchConfig(beam=3, nbest=3), "nbest is 3, at most 2 on this server."),
        (SearchConfig(beam=2, min_length=5), "min_length is 5, at most 4 on this server."),
        (SearchConfig(max_length=51), "max_length is 51, at most 50 on this server."),
    ],
)
def test_each_cap_names_the_field_the_value_and_the_limit(search, message):
    with pytest.raises(RequestError) as refused:
        check_search(search, SETTINGS)
    assert str(refused.value) == message and refused.value.status == 422


def test_the_work_is_beam_times_output_tokens_over_the_texts():
    # Without max_length an output may hold 2 x its source tokens + 10.
    assert check_work(SearchConfig(beam=2), [[5, 6], [7]], SETTINGS) == [2 * 14, 2 * 12]
    assert check_work(SearchConfig(beam=4, max_length=50), [[5], [6]], SETTINGS) == [200, 200]
    expected = r"^work is 600 \(beam 4 × 150 output tokens over 3 text\(s\)\), at most 400 on this server"
    with pytest.raises(RequestError, match=expected):
        check_work(SearchConfig(beam=4, max_length=50), [[5], [6], [7]], SETTINGS)


def test_a_min_length_no_output_can_reach_is_refused():
    settings = ServeSettings(max_work=10**6)
    assert check_work(SearchConfig(beam=2, min_length=11), [[1, 2, 3], [1]], settings) == [2 * 16, 2 * 12]
    with pytest.raises(RequestError, match=r"min_length is 12, but an output may hold only 12 tokens for texts\[1\]"):
        check_work(SearchConfig(beam=2, min_length=12), [[1, 2, 3], [1]], settings)


def test_texts_are_checked_for_count_length_and_encoding():
    assert checked_texts(["\ufeffGo."], SETTINGS) == ["Go."]  # a byte-order mark is dropped
    for texts, status, message in [
        ([], 422, "texts is empty"),
        (["a"] * 4, 413, "too many texts: 4, at most 3"),
        (["a", "b" * 10], 413, "texts[1] has 10 characters, at most 9"),
        (["a", "b\udcff"], 422, "texts[1]: not UTF-8 text (byte 0xff at character 1)"),
    ]:
        with pytest.raises(RequestError) as refused:
            checked_texts(texts, SETTINGS)
        assert refused.value.status == status and message in str(refused.value)
