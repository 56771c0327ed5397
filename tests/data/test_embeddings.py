"""Tests of seq2seq.data.embeddings: reading GloVe/word2vec text files, embedding matrices."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.data.embeddings import embedding_matrix, lookup_keys, read_vectors, vector_dimension
from seq2seq.data.tokenizers import SubwordTokenizer, WordTokenizer
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.errors import ConfigError, CorpusError

J = WordTokenizer.JOINER

GLOVE = "the 0.1 0.2 0.3\ncat -1 2.5 3e-2\nsat 0 0 1\n"


def write(tmp_path, text: str, name: str = "vectors.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# Reading


def test_reads_glove_format(tmp_path):
    vectors, dim = read_vectors(write(tmp_path, GLOVE))
    assert dim == 3
    assert sorted(vectors) == ["cat", "sat", "the"]
    assert vectors["cat"].dtype == np.float32
    np.testing.assert_allclose(vectors["cat"], [-1.0, 2.5, 0.03], rtol=1e-6)


def test_reads_only_the_wanted_tokens(tmp_path):
    vectors, dim = read_vectors(write(tmp_path, GLOVE), wanted={"cat", "dog"})
    assert dim == 3 and list(vectors) == ["cat"]


def test_recognises_and_skips_a_word2vec_header(tmp_path):
    path = write(tmp_path, "3 3\n" + GLOVE)
    vectors, dim = read_vectors(path)
    assert dim == 3 and sorted(vectors) == ["cat", "sat", "the"]
    assert vector_dimension(path) == 3


def test_word2vec_trailing_spaces_crlf_bom_and_blank_lines_are_accepted(tmp_path):
    path = write(tmp_path, "\ufeff2 2\r\nthé 1 2 \r\n\r\nchat 3 4 \r\n")
    vectors, dim = read_vectors(path)
    assert dim == 2
    np.testing.assert_array_equal(vectors["thé"], [1, 2])
    np.testing.assert_array_equal(vectors["chat"], [3, 4])


def test_a_token_with_spaces_inside_is_read_whole(tmp_path):
    vectors, _ = read_vectors(write(tmp_path, "a 1 2\n. . . 3 4\n"))
    np.testing.assert_array_equal(vectors[". . ."], [3, 4])


def test_the_first_vector_of_a_repeated_token_is_kept(tmp_path):
    vectors, _ = read_vectors(write(tmp_path, "a 1 2\na 3 4\n"))
    np.testing.assert_array_equal(vectors["a"], [1, 2])


def test_a_line_of_another_dimension_names_file_line_and_expectation(tmp_path):
    path = write(tmp_path, GLOVE + "dog 1 2\n")
    with pytest.raises(CorpusError) as caught:
        read_vectors(path)
    message = str(caught.value)
    assert f"{path}, line 4:" in message and "3 numbers" in message and "found 2" in message
    assert "\n" not in message


def test_a_line_with_too_many_numbers_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="line 2: expected a token followed by 3 numbers"):
        read_vectors(write(tmp_path, "the 1 2 3\ncat 1 2 3 4\n"))


def test_a_line_against_the_header_dimension_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="line 2: expected a token followed by 4 numbers"):
        read_vectors(write(tmp_path, "3 4\n" + GLOVE))


def test_a_bad_number_names_file_line_and_value(tmp_path):
    path = write(tmp_path, "the 0.1 0.2 0.3\ncat 1 two 3\n")
    with pytest.raises(CorpusError) as caught:
        read_vectors(path)
    message = str(caught.value)
    assert f"{path}, line 2:" in message and "'two' is not a number" in message
    assert "\n" not in message


def test_a_missing_file_says_so(tmp_path):
    path = tmp_path / "nowhere.txt"
    with pytest.raises(CorpusError, match="no such file") as caught:
        read_vectors(path)
    assert str(caught.value) == f"{path}: no such file"


@pytest.mark.parametrize("text", ["", "\n\n", "5 3\n"])
def test_a_file_without_vectors_is_an_error(tmp_path, text):
    with pytest.raises(CorpusError, match="holds no vectors"):
        read_vectors(write(tmp_path, text))


def test_a_line_with_no_numbers_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="line 1: expected a token followed by its numbers"):
        read_vectors(write(tmp_path, "lonely\n"))


def test_text_that_is_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("the 1 2\ncaf\u00e9 3 4\n".encode("latin-1"))
    with pytest.raises(CorpusError, match="line 2: not UTF-8"):
        read_vectors(path)


# Embedding matrices


def word_vocabulary(texts, lowercase=False) -> Vocabulary:
    return Vocabulary.build(texts, WordTokenizer(lowercase=lowercase))


def test_matrix_rows_for_found_unfound_and_special_tokens(tmp_path):
    path = write(tmp_path, GLOVE)
    vocabulary = word_vocabulary(["the cat sat", "the dog"])
    matrix, found = embedding_matrix(vocabulary, path, dim=3, seed=1)
    assert matrix.shape == (len(vocabulary), 3) and matrix.dtype == np.float32
    assert found == 3
    row = vocabulary.token_to_id
    np.testing.assert_allclose(matrix[row["cat"]], [-1.0, 2.5, 0.03], rtol=1e-6)
    np.testing.assert_allclose(matrix[row["the"]], [0.1, 0.2, 0.3], rtol=1e-6)
    np.testing.assert_array_equal(matrix[vocabulary.pad_id], np.zeros(3))
    for index in (vocabulary.unk_id, vocabulary.start_id, vocabulary.end_id, row["dog"]):
        assert 0 < np.abs(matrix[index]).max() < 0.5


def test_random_rows_are_seeded(tmp_path):
    path = write(tmp_path, GLOVE)
    vocabulary = word_vocabulary(["the dog ran"])
    first, _ = embedding_matrix(vocabulary, path, dim=3, seed=7)
    again, _ = embedding_matrix(vocabulary, path, dim=3, seed=7)
    other, _ = embedding_matrix(vocabulary, path, dim=3, seed=8)
    np.testing.assert_array_equal(first, again)
    dog = vocabulary.token_to_id["dog"]
    assert not np.array_equal(first[dog], other[dog])


def test_random_rows_have_a_small_spread(tmp_path):
    path = write(tmp_path, GLOVE)
    vocabulary = word_vocabulary([" ".join(f"w{i}" for i in range(2000))])
    matrix, found = embedding_matrix(vocabulary, path, dim=3)
    assert found == 0
    assert abs(float(matrix[1:].std()) - 0.05) < 0.005


def test_joiner_tokens_are_looked_up_without_the_joiner(tmp_path):
    path = write(tmp_path, "- 1 1\nen 2 2\nva 3 3\n")
    vocabulary = word_vocabulary(["va-t'en"])
    assert f"{J}en" in vocabulary.token_to_id and f"{J}-" in vocabulary.token_to_id
    matrix, found = embedding_matrix(vocabulary, path, dim=2)
    np.testing.assert_array_equal(matrix[vocabulary.token_to_id[f"{J}en"]], [2, 2])
    np.testing.assert_array_equal(matrix[vocabulary.token_to_id[f"{J}-"]], [1, 1])
    assert found == 3


def test_lower_case_is_the_fallback(tmp_path):
    path = write(tmp_path, "the 1 1\nThe 9 9\ncat 2 2\nparis 3 3\n")
    vocabulary = word_vocabulary(["The Cat the Paris"])
    matrix, found = embedding_matrix(vocabulary, path, dim=2)
    row = vocabulary.token_to_id
    np.testing.assert_array_equal(matrix[row["The"]], [9, 9])  # as written first
    np.testing.assert_array_equal(matrix[row["the"]], [1, 1])
    np.testing.assert_array_equal(matrix[row["Cat"]], [2, 2])
    np.testing.assert_array_equal(matrix[row["Paris"]], [3, 3])
    assert found == 4


def test_subword_pieces_are_looked_up_without_the_word_start_mark(tmp_path):
    tokenizer = SubwordTokenizer.train(["the cat", "the cat sat"], vocab_size=30)
    vocabulary = Vocabulary.build(["the cat sat"], tokenizer)
    marked = [token for token in vocabulary.tokens if token.startswith(SubwordTokenizer.SPACE) and len(token) > 1]
    assert marked
    bare = marked[0][1:]
    matrix, found = embedding_matrix(vocabulary, write(tmp_path, f"{bare} 5 5\n"), dim=2)
    np.testing.assert_array_equal(matrix[vocabulary.token_to_id[marked[0]]], [5, 5])
    assert found >= 1


def test_lookup_keys_order():
    assert lookup_keys("Word") == ["Word", "word"]
    assert lookup_keys(f"{J}Tu") == [f"{J}Tu", f"{J}tu", "Tu", "tu"]
    assert lookup_keys(J) == [J]


def test_dimension_mismatch_says_which_embedding_dim_to_pass(tmp_path):
    path = write(tmp_path, GLOVE)
    with pytest.raises(ConfigError) as caught:
        embedding_matrix(word_vocabulary(["the cat"]), path, dim=5)
    assert str(caught.value) == (
        f"{path} has vectors of dimension 3, but the model's embedding_dim is 5; pass --embedding-dim 3"
    )


def test_dimension_mismatch_uses_the_word2vec_header(tmp_path):
    path = write(tmp_path, "2 3\n" + GLOVE)
    with pytest.raises(ConfigError, match="dimension 3, but the model's embedding_dim is 4"):
        embedding_matrix(word_vocabulary(["the cat"]), path, dim=4)


@pytest.mark.parametrize("dim", [0, -1, 2.0, None])
def test_embedding_dim_must_be_a_positive_integer(tmp_path, dim):
    with pytest.raises(ConfigError, match="embedding_dim must be a positive integer"):
        embedding_matrix(word_vocabulary(["the"]), write(tmp_path, GLOVE), dim=dim)


def test_matrix_from_a_missing_file_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        embedding_matrix(word_vocabulary(["the"]), tmp_path / "none.txt", dim=3)
