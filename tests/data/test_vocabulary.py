"""Tests of seq2seq.data.vocabulary: ids, building, encoding, decoding, configuration."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from seq2seq.data.tokenizers import CharTokenizer, WordTokenizer
from seq2seq.data.vocabulary import SPECIAL_TOKENS, Vocabulary

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


def char_vocab(*texts: str, **kwargs) -> Vocabulary:
    return Vocabulary.build(texts, CharTokenizer(), **kwargs)


def word_vocab(*texts: str, **kwargs) -> Vocabulary:
    return Vocabulary.build(texts, WordTokenizer(), **kwargs)


# Special tokens


def test_special_tokens_take_ids_zero_to_three():
    vocab = char_vocab("ab")
    assert SPECIAL_TOKENS == ("<pad>", "<unk>", "<s>", "</s>")
    assert vocab.tokens[:4] == SPECIALS
    assert (vocab.pad_id, vocab.unk_id, vocab.start_id, vocab.end_id) == (0, 1, 2, 3)
    assert [vocab.token_to_id[token] for token in SPECIALS] == [0, 1, 2, 3]


def test_an_empty_corpus_gives_a_vocabulary_of_the_specials_only():
    vocab = char_vocab()
    assert vocab.tokens == SPECIALS
    assert len(vocab) == 4


def test_constructor_puts_the_specials_first_when_they_are_missing_or_misplaced():
    vocab = Vocabulary(["b", "</s>", "a"], CharTokenizer())
    assert vocab.tokens == SPECIALS + ["b", "a"]


def test_constructor_rejects_a_token_listed_twice():
    with pytest.raises(ValueError):
        Vocabulary(["a", "b", "a"], CharTokenizer())


def test_a_special_token_spelled_in_the_text_is_not_counted_as_a_special():
    vocab = word_vocab("<s> hi")
    assert vocab.tokens.count("<s>") == 1
    assert vocab.encode("<s>") == [vocab.token_to_id["<"], vocab.token_to_id["\uffeds"], vocab.token_to_id["\uffed>"]]


# Order, size and frequency


def test_tokens_follow_falling_frequency():
    vocab = char_vocab("cbb", "bca", "c")
    # b: 3, c: 3, a: 1 -> b and c tie and are ordered by the token itself.
    assert vocab.tokens == SPECIALS + ["b", "c", "a"]


def test_ties_are_broken_by_the_token_string_not_by_first_appearance():
    vocab = word_vocab("zebra mango apple", "Zoo")
    assert vocab.tokens == SPECIALS + ["Zoo", "apple", "mango", "zebra"]


def test_space_is_a_counted_token_for_the_char_tokenizer():
    vocab = char_vocab("a a", "b")
    assert vocab.tokens == SPECIALS + ["a", " ", "b"]


def test_max_size_keeps_the_most_frequent_tokens_besides_the_specials():
    texts = ("the cat sat on the mat", "the cat ran")
    # the: 3, cat: 2, then mat, on, ran, sat once each (ties in string order).
    assert word_vocab(*texts).tokens == SPECIALS + ["the", "cat", "mat", "on", "ran", "sat"]
    assert word_vocab(*texts, max_size=3).tokens == SPECIALS + ["the", "cat", "mat"]
    assert len(word_vocab(*texts, max_size=2)) == 6
    assert word_vocab(*texts, max_size=100).tokens == word_vocab(*texts).tokens


def test_min_frequency_drops_tokens_seen_fewer_times():
    texts = ("the cat sat", "the cat ran", "the dog")
    assert word_vocab(*texts, min_frequency=2).tokens == SPECIALS + ["the", "cat"]
    assert word_vocab(*texts, min_frequency=3).tokens == SPECIALS + ["the"]
    assert word_vocab(*texts, min_frequency=4).tokens == SPECIALS


def test_min_frequency_is_applied_before_max_size():
    texts = ("a a a b b c", "c d")
    assert word_vocab(*texts, max_size=5, min_frequency=2).tokens == SPECIALS + ["a", "b", "c"]
    assert word_vocab(*texts, max_size=2, min_frequency=2).tokens == SPECIALS + ["a", "b"]


def test_the_same_texts_in_any_order_give_the_same_ids():
    texts = ["Va-t'en !", "Go.", "Cours !", "Courez !", "Who?", "Wow!", "Fire!", "Au feu !", "Hi."]
    reference = word_vocab(*texts).tokens
    generator = random.Random(7)
    for _ in range(20):
        shuffled = texts[:]
        generator.shuffle(shuffled)
        assert word_vocab(*shuffled).tokens == reference
        assert char_vocab(*shuffled).tokens == char_vocab(*texts).tokens


def test_vocabulary_is_the_same_under_different_hash_seeds():
    script = (
        "from seq2seq.data.tokenizers import WordTokenizer\n"
        "from seq2seq.data.vocabulary import Vocabulary\n"
        "texts = ['x y z w', 'q r s t', 'u v k l', 'm n o p']\n"
        "print(repr(Vocabulary.build(set(texts), WordTokenizer()).tokens))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outputs.add(result.stdout)
    assert outputs == {repr(SPECIALS + list("klmnopqrstuvwxyz")) + "\n"}


# Encoding


def test_encode_gives_token_ids_without_start_or_end():
    vocab = char_vocab("abba")
    assert vocab.tokens == SPECIALS + ["a", "b"]
    assert vocab.encode("baab") == [5, 4, 4, 5]
    assert vocab.encode("") == []


def test_encode_maps_unknown_tokens_to_the_unknown_id():
    vocab = char_vocab("ab")
    assert vocab.encode("axb!") == [4, 1, 5, 1]


def test_encode_normalises_the_text_first():
    vocab = char_vocab("caf\u00e9 au lait")
    assert vocab.encode("cafe\u0301") == vocab.encode("caf\u00e9")
    assert vocab.encode("au   lait") == vocab.encode("au lait")


def test_unknown_tokens_lists_them_in_order_of_appearance_without_duplicates():
    vocab = word_vocab("the cat")
    assert vocab.unknown_tokens("the dog saw a dog and a cat") == ["dog", "saw", "a", "and"]
    assert vocab.unknown_tokens("the cat") == []


# Decoding


def test_decode_stops_at_the_first_end_id():
    vocab = char_vocab("abba")
    assert vocab.decode([4, 5, 3, 4, 4]) == "ab"


def test_decode_skips_padding_and_start_ids():
    vocab = char_vocab("abba")
    assert vocab.decode([2, 4, 0, 5, 0, 0]) == "ab"


def test_decode_writes_the_unknown_token_for_the_unknown_id_and_out_of_range_ids():
    vocab = char_vocab("ab")
    assert vocab.decode([4, 1, 5, 99, -1]) == "a<unk>b<unk><unk>"


def test_decode_accepts_numpy_integer_arrays():
    vocab = char_vocab("abba")
    assert vocab.decode(np.array([2, 5, 4, 3, 0], dtype=np.int32)) == "ba"


def test_word_vocabulary_decode_restores_the_glued_punctuation():
    vocab = word_vocab("Va-t'en !", "Go.")
    assert vocab.decode([vocab.start_id] + vocab.encode("Go !") + [vocab.end_id]) == "Go !"
    assert vocab.decode(vocab.encode("Va-t'en !")) == "Va-t'en !"


@pytest.mark.parametrize("text", ["Va-t'en !", "Il a dit « oui ».", "J'ai 3 chats.", "Go."])
@pytest.mark.parametrize("build", [char_vocab, word_vocab], ids=["char", "word"])
def test_encode_then_decode_gives_back_in_vocabulary_text(build, text):
    corpus = ("Va-t'en !", "Il a dit « oui ».", "J'ai 3 chats.", "Go.")
    vocab = build(*corpus)
    ids = vocab.encode(text)
    assert vocab.unk_id not in ids
    assert vocab.decode(ids + [vocab.end_id, 7]) == text


# Configuration


def test_get_config_lists_the_tokens_and_the_tokenizer():
    vocab = Vocabulary.build(["Ba"], CharTokenizer(lowercase=True))
    assert vocab.get_config() == {
        "tokens": SPECIALS + ["a", "b"],
        "tokenizer": {"name": "char", "lowercase": True},
    }


def test_config_survives_json_and_rebuilds_identical_ids():
    vocab = Vocabulary.build(["Va-t'en !", "Au feu !", "À l'aide !"], WordTokenizer(lowercase=True))
    config = json.loads(json.dumps(vocab.get_config()))
    rebuilt = Vocabulary.from_config(config)
    assert rebuilt.tokens == vocab.tokens
    assert rebuilt.token_to_id == vocab.token_to_id
    assert isinstance(rebuilt.tokenizer, WordTokenizer) and rebuilt.tokenizer.lowercase
    text = "AU FEU, à l'aide !"
    assert rebuilt.encode(text) == vocab.encode(text)
    assert rebuilt.decode(rebuilt.encode(text)) == vocab.decode(vocab.encode(text))


def test_get_config_returns_a_copy_of_the_tokens():
    vocab = char_vocab("ab")
    vocab.get_config()["tokens"].append("z")
    assert vocab.tokens == SPECIALS + ["a", "b"]


def test_repr_names_size_and_tokenizer():
    assert repr(word_vocab("a b")) == "Vocabulary(size=6, tokenizer='word')"
