"""Tests of seq2seq.data.builtin_tasks: the generated number-words and digit-sequence tasks."""

from __future__ import annotations

import pytest

from seq2seq.data.builtin_tasks import digit_sequence_pairs, number_words_pairs


def test_number_words_pairs_are_the_same_for_the_same_seed():
    assert number_words_pairs(20, seed=3) == number_words_pairs(20, seed=3)


def test_number_words_pairs_differ_between_seeds():
    assert number_words_pairs(20, seed=0) != number_words_pairs(20, seed=1)


def test_number_words_pairs_returns_count_distinct_pairs_of_strings():
    pairs = number_words_pairs(50, seed=5, largest=99)
    assert len(pairs) == 50
    assert len({english for english, _ in pairs}) == 50
    assert len({french for _, french in pairs}) == 50
    assert all(isinstance(english, str) and isinstance(french, str) for english, french in pairs)


def test_number_words_pairs_covers_every_number_when_count_is_largest_plus_one():
    pairs = dict(number_words_pairs(11, seed=2, largest=10))
    assert pairs == {
        "zero": "zéro",
        "one": "un",
        "two": "deux",
        "three": "trois",
        "four": "quatre",
        "five": "cinq",
        "six": "six",
        "seven": "sept",
        "eight": "huit",
        "nine": "neuf",
        "ten": "dix",
    }


@pytest.fixture(scope="module")
def all_below_a_thousand():
    pairs = dict(number_words_pairs(1000, seed=0, largest=999))
    assert len(pairs) == 1000
    return pairs


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("three hundred and forty-two", "trois cent quarante-deux"),
        ("twenty-one", "vingt et un"),
        ("seventy-one", "soixante et onze"),
        ("eighty", "quatre-vingts"),
        ("ninety-nine", "quatre-vingt-dix-neuf"),
        ("one hundred", "cent"),
        ("nine hundred and ninety-nine", "neuf cent quatre-vingt-dix-neuf"),
    ],
)
def test_number_words_pairs_gives_known_english_and_french_words(all_below_a_thousand, english, french):
    assert all_below_a_thousand[english] == french


def test_number_words_pairs_stays_within_largest():
    englishes = {english for english, _ in number_words_pairs(10, seed=0, largest=9)}
    assert "ten" not in englishes and len(englishes) == 10


@pytest.mark.parametrize(("count", "largest"), [(0, 10), (-1, 10), (12, 10), (1, -1)])
def test_number_words_pairs_rejects_an_impossible_count(count, largest):
    with pytest.raises(ValueError, match=str(largest + 1)):
        number_words_pairs(count, largest=largest)


@pytest.mark.parametrize("task", ["reverse", "sort"])
def test_digit_sequences_are_distinct_repeatable_and_their_targets_are_the_task_done(task):
    pairs = digit_sequence_pairs(500, task, seed=3)
    assert pairs == digit_sequence_pairs(500, task, seed=3) and pairs != digit_sequence_pairs(500, task, seed=4)
    assert len({source for source, _ in pairs}) == 500
    for source, target in pairs:
        digits = source.split(" ")
        assert 3 <= len(digits) <= 12 and all(d in "0123456789" for d in digits)
        assert target.split(" ") == (digits[::-1] if task == "reverse" else sorted(digits))


def test_digit_sequence_pairs_refuses_an_unknown_task():
    with pytest.raises(ValueError, match="reverse, sort"):
        digit_sequence_pairs(10, "shuffle")
