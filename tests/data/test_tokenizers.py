"""Tests of seq2seq.data.tokenizers: normalisation, the char and word schemes, configuration."""

from __future__ import annotations

import random

import pytest

from seq2seq.data.tokenizers import CharTokenizer, WordTokenizer, tokenizer_from_config
from seq2seq.errors import ConfigError

J = WordTokenizer.JOINER

SENTENCES = [
    "Go.",
    "Va-t'en !",
    "I'm 25 years old.",
    "J'ai vingt-cinq ans.",
    "It's 10:30, isn't it?",
    "Il est 10 h 30, n'est-ce pas ?",
    'He said, "Come here!"',
    "Il a dit : « Viens ici ! »",
    "Qu’est-ce que c’est ?",
    "The price is $3.50 (tax included).",
    "Le prix est de 3,50 € (taxes comprises).",
    "Don't touch my well-being...",
    "Où est l'hôtel ? À gauche.",
    "snake_case stays whole",
]


def tokenizers():
    return [CharTokenizer(), CharTokenizer(lowercase=True), WordTokenizer(), WordTokenizer(lowercase=True)]


# Normalisation


@pytest.mark.parametrize("tokenizer", tokenizers(), ids=lambda t: f"{t.name}-lower{t.lowercase}")
def test_normalize_composes_a_decomposed_accent_into_one_character(tokenizer):
    assert tokenizer.normalize("cafe\u0301") == "caf\u00e9"
    assert len(tokenizer.normalize("e\u0301")) == 1


@pytest.mark.parametrize("tokenizer", tokenizers(), ids=lambda t: f"{t.name}-lower{t.lowercase}")
def test_normalize_folds_runs_of_white_space_and_strips_the_ends(tokenizer):
    text = "  a \t b\n\nc\u00a0d\u202f!  "
    assert tokenizer.normalize(text) == "a b c d !"


def test_char_tokenizer_splits_decomposed_text_into_composed_characters():
    assert CharTokenizer().tokenize("e\u0301te\u0301") == ["\u00e9", "t", "\u00e9"]


def test_char_tokenizer_keeps_single_spaces_as_tokens():
    assert CharTokenizer().tokenize(" Hi,\t  you ") == ["H", "i", ",", " ", "y", "o", "u"]


def test_char_tokenizer_keeps_case_by_default():
    assert CharTokenizer().tokenize("Ab") == ["A", "b"]


def test_char_tokenizer_lowercase_option_lowers_every_character():
    assert CharTokenizer(lowercase=True).tokenize("ÀB c") == ["à", "b", " ", "c"]


def test_word_tokenizer_lowercase_option_lowers_every_word():
    assert WordTokenizer(lowercase=True).tokenize("Bonjour MARIE.") == ["bonjour", "marie", J + "."]
    assert WordTokenizer().tokenize("Bonjour MARIE.") == ["Bonjour", "MARIE", J + "."]


# The word tokenizer's joiner scheme


def test_word_tokenizer_glues_a_final_full_stop_with_the_joiner():
    assert WordTokenizer().tokenize("Go.") == ["Go", "\uffed."]


def test_word_tokenizer_splits_french_hyphen_and_apostrophe_with_joiners():
    assert WordTokenizer().tokenize("Va-t'en !") == ["Va", J + "-", J + "t", J + "'", J + "en", "!"]


def test_word_tokenizer_keeps_guillemets_separated_by_spaces_as_plain_tokens():
    tokens = WordTokenizer().tokenize("Il a dit « bonjour ».")
    assert tokens == ["Il", "a", "dit", "«", "bonjour", "»", J + "."]


def test_word_tokenizer_splits_digits_from_punctuation_but_not_from_each_other():
    assert WordTokenizer().tokenize("Il a 3,50 €.") == ["Il", "a", "3", J + ",", J + "50", "€", J + "."]


def test_word_tokenizer_gives_each_punctuation_mark_its_own_token():
    assert WordTokenizer().tokenize("Quoi?!...") == ["Quoi", J + "?", J + "!", J + ".", J + ".", J + "."]


def test_word_tokenizer_treats_a_typographic_apostrophe_as_punctuation():
    assert WordTokenizer().tokenize("C’est") == ["C", J + "’", J + "est"]


def test_word_tokenizer_keeps_accented_letters_and_underscores_inside_words():
    assert WordTokenizer().tokenize("Où est_il ?") == ["Où", "est_il", "?"]


def test_word_tokenizer_gives_no_tokens_for_empty_or_blank_text():
    assert WordTokenizer().tokenize("") == []
    assert WordTokenizer().tokenize(" \t\n ") == []
    assert WordTokenizer().detokenize([]) == ""


def test_word_tokenizer_drops_a_joiner_character_found_in_the_input():
    tokenizer = WordTokenizer()
    assert tokenizer.normalize(f"a{J}b {J}c") == "ab c"
    assert tokenizer.tokenize(f"Go{J}.") == ["Go", J + "."]
    assert tokenizer.tokenize(f"{J}") == []


def test_word_tokenizer_detokenizes_a_hand_written_token_list():
    tokens = ["«", "Oui", "»", J + ",", "dit", J + "-", J + "il", J + "."]
    assert WordTokenizer().detokenize(tokens) == "« Oui », dit-il."


@pytest.mark.parametrize("sentence", SENTENCES)
@pytest.mark.parametrize("tokenizer", tokenizers(), ids=lambda t: f"{t.name}-lower{t.lowercase}")
def test_detokenize_of_tokenize_gives_back_the_normalised_sentence(tokenizer, sentence):
    assert tokenizer.detokenize(tokenizer.tokenize(sentence)) == tokenizer.normalize(sentence)


def test_word_tokenizer_round_trips_messy_french_spacing_to_the_normalised_form():
    tokenizer = WordTokenizer()
    text = "  «\u00a0Va-t'en\u202f!\u00a0»  dit-il,\n  en 2024. "
    assert tokenizer.detokenize(tokenizer.tokenize(text)) == "« Va-t'en ! » dit-il, en 2024."


@pytest.mark.parametrize("sentence", SENTENCES)
def test_word_tokens_are_never_empty_and_never_contain_white_space(sentence):
    for token in WordTokenizer().tokenize(sentence):
        assert token and token != J
        assert not any(character.isspace() for character in token)


# Configuration


@pytest.mark.parametrize("tokenizer", tokenizers(), ids=lambda t: f"{t.name}-lower{t.lowercase}")
def test_tokenizer_from_config_rebuilds_the_same_kind_of_tokenizer(tokenizer):
    rebuilt = tokenizer_from_config(tokenizer.get_config())
    assert type(rebuilt) is type(tokenizer)
    assert rebuilt.lowercase == tokenizer.lowercase
    assert rebuilt.tokenize("Va-t'en, MARIE !") == tokenizer.tokenize("Va-t'en, MARIE !")


def test_get_config_names_the_tokenizer_and_its_case_setting():
    assert WordTokenizer(lowercase=True).get_config() == {"name": "word", "lowercase": True}
    assert CharTokenizer().get_config() == {"name": "char", "lowercase": False}


def test_tokenizer_from_config_does_not_modify_the_given_dict():
    config = {"name": "word", "lowercase": True}
    tokenizer_from_config(config)
    assert config == {"name": "word", "lowercase": True}


def test_tokenizer_from_config_rejects_an_unknown_name_and_lists_the_choices():
    with pytest.raises(ConfigError) as info:
        tokenizer_from_config({"name": "bpe", "lowercase": False})
    message = str(info.value)
    assert "'bpe'" in message and "char" in message and "word" in message


def test_tokenizer_from_config_rejects_a_config_without_a_name():
    with pytest.raises(ConfigError):
        tokenizer_from_config({"lowercase": False})


# Round-trip property on arbitrary text

# Characters chosen to stress the scheme: letters, digits, combining marks, punctuation,
# the joiner itself, every kind of white space, CJK, emoji and uppercase Greek.
ALPHABET = list("aZé9_-'’.,!?«»€$ \t\n") + [
    "\u0301",
    "\u0308",
    "\u00a0",
    "\u202f",
    "\u2028",
    J,
    "日",
    "本",
    "😀",
    "Σ",
    "İ",
    "ß",
    "\x1f",
]


def check_round_trip(text: str) -> None:
    for tokenizer in tokenizers():
        assert tokenizer.detokenize(tokenizer.tokenize(text)) == tokenizer.normalize(text), repr(text)


def test_round_trip_holds_on_seeded_random_strings():
    generator = random.Random(1234)
    for _ in range(400):
        length = generator.randint(0, 12)
        check_round_trip("".join(generator.choice(ALPHABET) for _ in range(length)))


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - depends on the environment

    def test_round_trip_holds_for_arbitrary_text_hypothesis():
        pytest.importorskip("hypothesis")

else:

    @settings(max_examples=200, deadline=None)
    @given(st.text())
    def test_round_trip_holds_for_arbitrary_text_hypothesis(text):
        check_round_trip(text)

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet=st.sampled_from(ALPHABET)))
    def test_round_trip_holds_for_text_made_of_tricky_characters_hypothesis(text):
        check_round_trip(text)
