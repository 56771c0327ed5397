"""Property tests of tokenizers and vocabularies: text -> tokens -> ids -> text gives the normalised text."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seq2seq.data.tokenizers import CharTokenizer, SpaceTokenizer, SubwordTokenizer, WordTokenizer
from seq2seq.data.vocabulary import SPECIAL_TOKENS, UNK, Vocabulary
from seq2seq.errors import ConfigError

# Any text Python can hold except lone surrogates (which no file or socket can carry):
# control characters, NUL, combining marks, the joiner and SentencePiece's space mark included.
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
tricky = st.text(
    st.sampled_from("aZ é\u0301\u0308İßΣ\x00\x1f\x1c\x85\u2028\u00a0\t\n.,'-«»日😀\uffed\u2581<>/"), max_size=40
)
any_text = texts | tricky
CHAR_AND_WORD = [CharTokenizer(), CharTokenizer(lowercase=True), WordTokenizer(), WordTokenizer(lowercase=True)]
tokenizers = st.sampled_from(CHAR_AND_WORD)


@given(tokenizers, any_text)
def test_normalising_twice_changes_nothing(tokenizer, text):
    once = tokenizer.normalize(text)
    assert tokenizer.normalize(once) == once
    assert tokenizer.tokenize(once) == tokenizer.tokenize(text)


@given(tokenizers, st.lists(any_text, min_size=1, max_size=4), st.data())
def test_text_of_known_tokens_round_trips_through_ids(tokenizer, corpus, data):
    vocabulary = Vocabulary.build(corpus, tokenizer)
    text = data.draw(st.sampled_from(corpus))
    ids = vocabulary.encode(text)
    assert vocabulary.unk_id not in ids and all(id_ >= len(SPECIAL_TOKENS) for id_ in ids)
    assert vocabulary.decode(ids) == tokenizer.normalize(text)


@given(tokenizers, st.lists(any_text, min_size=1, max_size=4), any_text)
def test_only_unknown_tokens_become_unk(tokenizer, corpus, text):
    vocabulary = Vocabulary.build(corpus, tokenizer)
    tokens = tokenizer.tokenize(text)
    ids = vocabulary.encode(text)
    assert len(ids) == len(tokens)
    assert [vocabulary.tokens[i] if i != vocabulary.unk_id else None for i in ids] == [
        token if token in vocabulary.token_to_id else None for token in tokens
    ]
    assert vocabulary.unknown_tokens(text) == list(dict.fromkeys(t for t in tokens if t not in vocabulary.token_to_id))


@given(tokenizers, st.lists(any_text, min_size=1, max_size=4), st.data())
def test_any_string_of_vocabulary_symbols_round_trips(tokenizer, corpus, data):
    """Symbols may merge when joined (NFC composes "a" + U+0307 into one character, the word
    tokenizer reads "Va" + "￭t" as "Vat"); the string round-trips whenever its tokens are known."""
    vocabulary = Vocabulary.build(corpus, tokenizer)
    symbols = [token for token in vocabulary.tokens if token not in SPECIAL_TOKENS]
    text = tokenizer.detokenize(data.draw(st.lists(st.sampled_from(symbols), max_size=20)) if symbols else [])
    assume(not vocabulary.unknown_tokens(text))
    assert vocabulary.decode(vocabulary.encode(text)) == tokenizer.normalize(text)


@given(st.lists(st.integers(-5, 50), max_size=20))
def test_decoding_any_ids_gives_text_and_stops_at_the_end_id(ids):
    vocabulary = Vocabulary.build(["Va-t'en !", "Qui êtes-vous ?"], WordTokenizer())
    text = vocabulary.decode(ids)
    assert isinstance(text, str)
    kept = ids[: ids.index(vocabulary.end_id)] if vocabulary.end_id in ids else ids
    assert text.count(UNK) >= sum(1 for i in kept if not 0 <= i < len(vocabulary) or i == vocabulary.unk_id)


# SentencePiece, trained once on a fixed alphabet. Any text round-trips through its pieces to the
# normalised text (NFC, white space folded, "\u2581" read as a space); through ids only text made of
# trained characters does, since a piece holding any other character is not in the vocabulary.
SUBWORD_TRAINING = [
    "Qu'est-ce que c'est ? Où est l'hôtel ?",
    "Va-t'en ! 25 ans, n'est-ce pas ?",
    "über, naïve, 日本, 😀",
]
SUBWORD = SubwordTokenizer.train(SUBWORD_TRAINING, vocab_size=60)
SUBWORD_CHARS = sorted(set("".join(SUBWORD_TRAINING)) | {"\u2581", "\t", "\n", "\u00a0"})


@given(st.text(st.sampled_from(SUBWORD_CHARS), max_size=40))
def test_subword_text_of_trained_characters_round_trips(text):
    tokens = SUBWORD.tokenize(text)
    assert SUBWORD.detokenize(tokens) == SUBWORD.normalize(text)
    vocabulary = Vocabulary.build(SUBWORD_TRAINING + [text], SUBWORD)
    assert vocabulary.decode(vocabulary.encode(text)) == SUBWORD.normalize(text)


@given(any_text)
def test_subword_pieces_of_any_text_round_trip_and_unseen_characters_become_unk(text):
    tokens = SUBWORD.tokenize(text)
    assert all(isinstance(token, str) and token for token in tokens)
    assert SUBWORD.detokenize(tokens) == SUBWORD.normalize(text)
    vocabulary = Vocabulary.build(SUBWORD_TRAINING, SUBWORD)
    unseen = set(SUBWORD.normalize(text)) - set(SUBWORD_CHARS) - {" "}
    if unseen:
        assert vocabulary.unk_id in vocabulary.encode(text)


@settings(max_examples=40)
@given(st.lists(any_text, min_size=1, max_size=5), st.integers(1, 80))
def test_subword_training_on_any_text_gives_a_round_tripping_tokenizer_or_a_config_error(corpus, vocab_size):
    try:
        tokenizer = SubwordTokenizer.train(corpus, vocab_size=vocab_size)
    except ConfigError as error:
        assert "\n" not in str(error)
        return
    for text in corpus:
        assert tokenizer.detokenize(tokenizer.tokenize(text)) == tokenizer.normalize(text)


@given(st.lists(any_text, min_size=1, max_size=4), st.data())
def test_space_items_round_trip_exactly_with_no_normalisation(corpus, data):
    tokenizer = SpaceTokenizer()
    text = data.draw(st.sampled_from(corpus))
    assume(not set(text.split(" ")) & set(SPECIAL_TOKENS))  # an item named like "<s>" is that token
    vocabulary = Vocabulary.build(corpus, tokenizer)
    assert tokenizer.detokenize(tokenizer.tokenize(text)) == text
    assert vocabulary.decode(vocabulary.encode(text)) == text
