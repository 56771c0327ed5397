"""Tests of the SentencePiece subword tokenizer: training, round trips, configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seq2seq.data.tokenizers import SubwordTokenizer, tokenizer_from_config
from seq2seq.data.vocabulary import UNK, Vocabulary
from seq2seq.errors import ConfigError

TATOEBA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tatoeba" / "fra-eng.txt"
SPACE = SubwordTokenizer.SPACE

INLINE = [
    "Go.",
    "Va-t'en !",
    "I'm 25 years old.",
    "J'ai vingt-cinq ans.",
    "Où est l'hôtel ? À gauche.",
    "Il a dit : « Viens ici ! »",
    "Qu’est-ce que c’est ?",
    "Hello… wide\u00a0space and café\u0301.",
    "The cat sat on the mat; the dog sat on the log.",
    "Les chats dorment, les chiens dorment aussi.",
]


@pytest.fixture(scope="module")
def real_sentences() -> list[str]:
    """About 200 distinct English and French sentences from the first 300 lines of Tatoeba."""
    if not TATOEBA.is_file():
        pytest.skip(f"the Tatoeba corpus is not at {TATOEBA}; tests on real data are skipped")
    lines = TATOEBA.read_text(encoding="utf-8").splitlines()[:300]
    texts = [text for line in lines for text in line.split("\t")[:2]]
    return sorted(set(texts))[:200]


@pytest.fixture(scope="module")
def real_tokenizer(real_sentences) -> SubwordTokenizer:
    return SubwordTokenizer.train(real_sentences, vocab_size=300)


@pytest.fixture(scope="module")
def inline_tokenizer() -> SubwordTokenizer:
    return SubwordTokenizer.train(INLINE, vocab_size=120)


# Training and round trips


def test_training_on_inline_sentences_round_trips_them(inline_tokenizer):
    for text in INLINE:
        tokens = inline_tokenizer.tokenize(text)
        assert tokens and all(isinstance(token, str) for token in tokens)
        assert inline_tokenizer.detokenize(tokens) == inline_tokenizer.normalize(text)


def test_pieces_are_subwords_marked_at_word_starts(inline_tokenizer):
    tokens = inline_tokenizer.tokenize("the cat sat")
    assert tokens[0].startswith(SPACE)
    assert "".join(tokens).replace(SPACE, " ").strip() == "the cat sat"


def test_normalization_is_nfc_with_folded_white_space(inline_tokenizer):
    assert inline_tokenizer.normalize("  cafe\u0301\t\u00a0ici ") == "caf\u00e9 ici"
    assert inline_tokenizer.detokenize(inline_tokenizer.tokenize("cafe\u0301  ici")) == "caf\u00e9 ici"


def test_ellipsis_and_wide_letters_are_not_rewritten_by_sentencepiece(inline_tokenizer):
    # SentencePiece's default NFKC rules would turn "…" into "..." and break the round trip.
    assert inline_tokenizer.detokenize(inline_tokenizer.tokenize("Hello…")) == "Hello…"


def test_a_literal_word_start_mark_is_read_as_a_space(inline_tokenizer):
    text = f"the{SPACE}cat"
    assert inline_tokenizer.normalize(text) == "the cat"
    assert inline_tokenizer.detokenize(inline_tokenizer.tokenize(text)) == "the cat"


def test_real_sentences_round_trip(real_tokenizer, real_sentences):
    for text in real_sentences:
        assert real_tokenizer.detokenize(real_tokenizer.tokenize(text)) == real_tokenizer.normalize(text)


def test_new_sentences_of_seen_characters_round_trip(real_tokenizer):
    for text in ["Who ran home?", "Je suis allé au marché.", "Stop that, now!", "Attends-moi ici."]:
        tokens = real_tokenizer.tokenize(text)
        assert real_tokenizer.detokenize(tokens) == text


def test_unseen_characters_stay_as_written(inline_tokenizer):
    text = "Ωmega ≠ zèbre"
    assert inline_tokenizer.detokenize(inline_tokenizer.tokenize(text)) == text


def test_real_tokenizer_splits_words_into_fewer_pieces_than_characters(real_tokenizer):
    text = "I'm going home."
    assert len(real_tokenizer.tokenize(text)) < len(text)


def test_empty_text_has_no_tokens(inline_tokenizer):
    assert inline_tokenizer.tokenize("  ") == []
    assert inline_tokenizer.detokenize([]) == ""


def test_the_vocabulary_unknown_token_detokenizes_as_written(inline_tokenizer):
    tokens = inline_tokenizer.tokenize("the cat") + [UNK]
    assert inline_tokenizer.detokenize(tokens) == f"the cat{UNK}"


# Size and determinism


def test_distinct_pieces_do_not_exceed_the_vocab_size(real_sentences):
    for vocab_size in (120, 300):
        tokenizer = SubwordTokenizer.train(real_sentences, vocab_size=vocab_size)
        pieces = {token for text in real_sentences for token in tokenizer.tokenize(text)}
        assert len(pieces) <= vocab_size
        assert tokenizer.processor.get_piece_size() <= vocab_size


def test_a_larger_vocab_size_gives_fewer_tokens(real_sentences):
    small = SubwordTokenizer.train(real_sentences, vocab_size=100)
    large = SubwordTokenizer.train(real_sentences, vocab_size=400)
    count = lambda tokenizer: sum(len(tokenizer.tokenize(text)) for text in real_sentences)  # noqa: E731
    assert count(large) < count(small)


def test_a_vocab_size_larger_than_the_corpus_allows_still_trains():
    tokenizer = SubwordTokenizer.train(["a small corpus", "tiny"], vocab_size=8000)
    assert tokenizer.processor.get_piece_size() < 8000
    assert tokenizer.detokenize(tokenizer.tokenize("a tiny corpus")) == "a tiny corpus"


def test_the_same_texts_give_the_same_model(real_sentences):
    first = SubwordTokenizer.train(real_sentences, vocab_size=200)
    second = SubwordTokenizer.train(list(real_sentences), vocab_size=200)
    assert first.model_proto == second.model_proto
    assert first.get_config() == second.get_config()


def test_training_accepts_a_generator_and_skips_blank_texts():
    from_list = SubwordTokenizer.train(["hello world", "hello there"], vocab_size=30)
    from_generator = SubwordTokenizer.train((t for t in ["", "hello  world", " ", "hello there"]), vocab_size=30)
    assert from_list.model_proto == from_generator.model_proto


def test_a_very_long_sentence_is_not_dropped():
    tokenizer = SubwordTokenizer.train(["word " * 2000], vocab_size=20)
    assert tokenizer.tokenize("word word") == [f"{SPACE}word", f"{SPACE}word"]


# Configuration


def test_config_survives_json_and_gives_identical_tokens(real_tokenizer, real_sentences):
    config = json.loads(json.dumps(real_tokenizer.get_config()))
    assert config["name"] == "subword" and config["lowercase"] is False
    assert isinstance(config["model_proto"], str)
    rebuilt = tokenizer_from_config(config)
    assert isinstance(rebuilt, SubwordTokenizer)
    assert rebuilt.model_proto == real_tokenizer.model_proto
    for text in real_sentences[:50] + ["Something new, maybe?"]:
        assert rebuilt.tokenize(text) == real_tokenizer.tokenize(text)


def test_constructor_accepts_bytes_and_base64(inline_tokenizer):
    from_bytes = SubwordTokenizer(inline_tokenizer.model_proto)
    from_text = SubwordTokenizer(inline_tokenizer.get_config()["model_proto"])
    assert from_bytes.tokenize("the cat") == from_text.tokenize("the cat") == inline_tokenizer.tokenize("the cat")


def test_lowercase_option_lowers_before_training_and_tokenizing():
    tokenizer = SubwordTokenizer.train(["Hello World", "HELLO again"], vocab_size=30, lowercase=True)
    assert tokenizer.lowercase
    assert tokenizer.detokenize(tokenizer.tokenize("HeLLo WORLD")) == "hello world"
    assert tokenizer.tokenize("Hello") == tokenizer.tokenize("hello")
    pieces = {tokenizer.processor.id_to_piece(i) for i in range(tokenizer.processor.get_piece_size())}
    assert not any(piece != piece.lower() for piece in pieces if piece != "<unk>")
    assert tokenizer_from_config(tokenizer.get_config()).lowercase


def test_case_is_kept_by_default(inline_tokenizer):
    assert inline_tokenizer.detokenize(inline_tokenizer.tokenize("The Cat")) == "The Cat"


# With a vocabulary


def test_vocabulary_of_subwords_encodes_and_decodes(real_tokenizer, real_sentences):
    vocabulary = Vocabulary.build(real_sentences, real_tokenizer)
    for text in real_sentences:
        ids = vocabulary.encode(text)
        assert vocabulary.unk_id not in ids
        assert vocabulary.decode(ids) == real_tokenizer.normalize(text)
    restored = Vocabulary.from_config(json.loads(json.dumps(vocabulary.get_config())))
    assert restored.tokens == vocabulary.tokens
    assert restored.encode(real_sentences[0]) == vocabulary.encode(real_sentences[0])


def test_vocabulary_decodes_unknown_pieces_as_the_unknown_token(inline_tokenizer):
    vocabulary = Vocabulary.build(["the cat"], inline_tokenizer)
    ids = vocabulary.encode("the dog")
    assert vocabulary.unk_id in ids
    assert UNK in vocabulary.decode(ids)


# Mistakes


def test_no_text_is_a_config_error():
    with pytest.raises(ConfigError, match="no text"):
        SubwordTokenizer.train([])
    with pytest.raises(ConfigError, match="no text"):
        SubwordTokenizer.train(["", "   "])


@pytest.mark.parametrize("vocab_size", [0, -5, 2.5, "100", True])
def test_vocab_size_must_be_a_positive_integer(vocab_size):
    with pytest.raises(ConfigError, match="vocab_size must be a positive integer"):
        SubwordTokenizer.train(["hello"], vocab_size=vocab_size)


def test_a_vocab_size_below_the_number_of_characters_says_the_minimum():
    with pytest.raises(ConfigError, match="at least 8"):
        SubwordTokenizer.train(["ab cd", "ef"], vocab_size=5)
    assert SubwordTokenizer.train(["ab cd", "ef"], vocab_size=8).processor.get_piece_size() == 8


def test_one_string_instead_of_a_list_is_a_config_error():
    with pytest.raises(ConfigError, match="not one string"):
        SubwordTokenizer.train("hello world")


@pytest.mark.parametrize("proto", ["not base64!", "aGVsbG8=", b"", b"garbage"])
def test_a_bad_model_proto_is_a_config_error(proto):
    with pytest.raises(ConfigError, match="model_proto"):
        SubwordTokenizer(proto)


def test_a_config_without_the_model_says_how_to_train_one():
    with pytest.raises(ConfigError, match=r"SubwordTokenizer\.train"):
        tokenizer_from_config({"name": "subword", "lowercase": False})
