"""Tests of seq2seq.data.batching: padding, the teacher-forcing arrays, and batches sized by target tokens."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.data.batching import pad_batch, round_up, sentences_within, teacher_forcing_arrays, token_batch_sizes
from seq2seq.data.pipeline import BucketedBatches, EncodedPairs
from seq2seq.data.tokenizers import CharTokenizer, WordTokenizer
from seq2seq.data.vocabulary import Vocabulary

# round_up


@pytest.mark.parametrize(
    ("length", "multiple", "expected"),
    [(5, 4, 8), (8, 4, 8), (9, 4, 12), (1, 1, 1), (7, 1, 7), (0, 1, 1), (0, 8, 8), (3, 8, 8)],
)
def test_round_up_gives_the_smallest_positive_multiple_not_below_length(length, multiple, expected):
    assert round_up(length, multiple) == expected


# pad_batch


def test_pad_batch_right_pads_with_zeros_to_the_longest_sequence():
    batch = pad_batch([[5, 6, 7], [8], [9, 10]])
    assert batch.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]


def test_pad_batch_returns_int32():
    assert pad_batch([[1, 2], [3]]).dtype == np.int32
    assert pad_batch([np.array([1, 2], dtype=np.int64)]).dtype == np.int32


def test_pad_batch_rounds_the_length_up_to_the_multiple():
    batch = pad_batch([[1, 2, 3, 4, 5], [6]], multiple=4)
    assert batch.tolist() == [[1, 2, 3, 4, 5, 0, 0, 0], [6, 0, 0, 0, 0, 0, 0, 0]]


def test_pad_batch_keeps_a_length_that_is_already_a_multiple():
    assert pad_batch([[1, 2, 3, 4]], multiple=4).shape == (1, 4)


def test_pad_batch_uses_an_explicit_length_and_ignores_the_multiple():
    batch = pad_batch([[1, 2], [3]], multiple=4, length=5)
    assert batch.tolist() == [[1, 2, 0, 0, 0], [3, 0, 0, 0, 0]]


def test_pad_batch_of_empty_sequences_is_one_column_of_padding():
    batch = pad_batch([[], []])
    assert batch.shape == (2, 1)
    assert batch.tolist() == [[0], [0]]
    assert pad_batch([[], [4]]).tolist() == [[0], [4]]


def test_pad_batch_of_no_sequences_has_no_rows():
    batch = pad_batch([])
    assert batch.shape[0] == 0
    assert batch.dtype == np.int32


def test_pad_batch_does_not_modify_its_input():
    sequences = [[1, 2], [3]]
    pad_batch(sequences, multiple=4)
    assert sequences == [[1, 2], [3]]


# teacher_forcing_arrays


@pytest.fixture
def vocabs():
    # Source: b twice, a once -> b=4, a=5. Target: y twice, x once -> y=4, x=5.
    source = Vocabulary.build(["ab", "b"], CharTokenizer())
    target = Vocabulary.build(["xy", "y"], CharTokenizer())
    assert source.tokens[4:] == ["b", "a"] and target.tokens[4:] == ["y", "x"]
    return source, target


def test_teacher_forcing_arrays_have_the_exact_expected_ids(vocabs):
    inputs, targets = teacher_forcing_arrays([("ab", "xy"), ("b", "y")], *vocabs)
    assert sorted(inputs) == ["decoder_tokens", "encoder_tokens"]
    assert inputs["encoder_tokens"].tolist() == [[5, 4], [4, 0]]
    assert inputs["decoder_tokens"].tolist() == [[2, 5, 4], [2, 4, 0]]
    assert targets.tolist() == [[5, 4, 3], [4, 3, 0]]


def test_teacher_forcing_maps_unknown_characters_to_the_unknown_id(vocabs):
    inputs, targets = teacher_forcing_arrays([("a?", "z")], *vocabs)
    assert inputs["encoder_tokens"].tolist() == [[5, 1]]
    assert inputs["decoder_tokens"].tolist() == [[2, 1]]
    assert targets.tolist() == [[1, 3]]


def test_teacher_forcing_handles_an_empty_target(vocabs):
    inputs, targets = teacher_forcing_arrays([("a", "")], *vocabs)
    assert inputs["decoder_tokens"].tolist() == [[2]]
    assert targets.tolist() == [[3]]


@pytest.fixture
def word_arrays():
    pairs = [("Go.", "Va !"), ("Hi.", "Salut."), ("Run!", "Cours !"), ("Who?", "Qui ?"), ("Wow!", "Ça alors !")]
    source = Vocabulary.build([s for s, _ in pairs], WordTokenizer())
    target = Vocabulary.build([t for _, t in pairs], WordTokenizer())
    inputs, targets = teacher_forcing_arrays(pairs, source, target)
    return pairs, source, target, inputs, targets


def test_decoder_inputs_start_with_the_start_id(word_arrays):
    _, _, target, inputs, _ = word_arrays
    assert (inputs["decoder_tokens"][:, 0] == target.start_id).all()


def test_targets_end_with_the_end_id_before_any_padding(word_arrays):
    pairs, _, target, _, targets = word_arrays
    for row, (_, text) in zip(targets, pairs):
        length = len(target.encode(text))
        assert row[length] == target.end_id
        assert (row[length + 1 :] == target.pad_id).all()
        assert target.end_id not in row[:length]


def test_target_at_position_t_is_the_decoder_input_at_t_plus_one(word_arrays):
    _, _, target, inputs, targets = word_arrays
    decoder = inputs["decoder_tokens"]
    for row in range(len(targets)):
        length = int((decoder[row] != target.pad_id).sum())
        assert (targets[row, : length - 1] == decoder[row, 1:length]).all()


def test_padding_positions_align_between_decoder_inputs_and_targets(word_arrays):
    _, _, target, inputs, targets = word_arrays
    assert inputs["decoder_tokens"].shape == targets.shape
    assert ((inputs["decoder_tokens"] == target.pad_id) == (targets == target.pad_id)).all()


def test_decoder_rows_decode_back_to_the_target_sentences(word_arrays):
    pairs, source, target, inputs, targets = word_arrays
    assert [target.decode(row) for row in inputs["decoder_tokens"]] == [t for _, t in pairs]
    assert [target.decode(row) for row in targets] == [t for _, t in pairs]
    assert [source.decode(row) for row in inputs["encoder_tokens"]] == [s for s, _ in pairs]


def test_teacher_forcing_arrays_are_two_dimensional_int32_id_arrays(word_arrays):
    pairs, _, _, inputs, targets = word_arrays
    # "Ça alors !" is the longest target: 3 tokens, plus the start or end id.
    assert inputs["decoder_tokens"].shape == targets.shape == (len(pairs), 4)
    # "Run!", "Who?", "Wow!" and the others are two word tokens each.
    assert inputs["encoder_tokens"].shape == (len(pairs), 2)
    for array in (inputs["encoder_tokens"], inputs["decoder_tokens"], targets):
        assert array.ndim == 2
        assert array.dtype == np.int32


# token_batch_sizes, sentences_within


def test_token_batch_sizes_fit_as_many_rows_as_the_budget_holds_for_each_width():
    assert token_batch_sizes([7, 10, 13], 100) == [14, 10, 7]


def test_token_batch_sizes_give_one_row_where_the_width_exceeds_the_budget():
    assert token_batch_sizes([9, 250], 30) == [3, 1]


def test_token_batch_sizes_round_down_to_a_multiple_of_the_replicas_but_never_below_them():
    assert token_batch_sizes([7, 10, 60], 100, replicas=3) == [12, 9, 3]


def test_sentences_within_divides_the_budget_by_the_mean_target_width():
    assert sentences_within(np.array([3, 5, 7]), 50) == 8  # mean 5 plus the end id: 6 per sentence
    assert sentences_within(np.array([40]), 20) == 1
    assert sentences_within(np.array([], dtype=np.int64), 9) == 9


# BucketedBatches with batch_tokens


@pytest.fixture(scope="module")
def real_encoded(tatoeba_path):
    from seq2seq.data.corpus import read_tatoeba

    pairs = read_tatoeba(tatoeba_path, limit=1500).pairs[::3]  # 500 pairs of every length of the slice
    source = Vocabulary.build([s for s, _ in pairs], WordTokenizer())
    target = Vocabulary.build([t for _, t in pairs], WordTokenizer())
    return EncodedPairs.encode(pairs, source, target), target


def _token_batches(real_encoded, tokens, fixed_shapes, pad_multiple=1, replicas=1):
    encoded, target = real_encoded
    return BucketedBatches(
        encoded,
        64,  # left aside: the tokens size the batches
        start_id=target.start_id,
        end_id=target.end_id,
        shuffle=True,
        seed=5,
        boundaries=None,
        pad_multiple=pad_multiple,
        fixed_shapes=fixed_shapes,
        replicas=replicas,
        batch_tokens=tokens,
    )


def test_fixed_shape_token_batches_have_one_shape_per_bucket_within_the_token_budget(real_encoded):
    batches = _token_batches(real_encoded, 70, fixed_shapes=True)
    shapes = {}
    for index in range(len(batches)):
        inputs, targets = batches[index]
        shape = (*inputs["encoder_tokens"].shape, targets.shape[1])
        assert inputs["decoder_tokens"].shape == targets.shape and targets.size <= 70
        shapes.setdefault(shape, 0)
        shapes[shape] += 1
    assert set(shapes) == batches.shapes()
    assert len(batches.shapes()) == sum(1 for members in batches.buckets if len(members)) > 1
    for rows, _, width in batches.shapes():
        assert rows == max(1, 70 // width)  # as many rows as the budget holds at the bucket's width


def test_token_batches_hold_every_pair_once_and_longer_targets_get_fewer_rows(real_encoded):
    batches = _token_batches(real_encoded, 70, fixed_shapes=True)
    rows_seen = sum(int((batches[i][1] != 0).any(axis=1).sum()) for i in range(len(batches)))
    assert rows_seen == len(real_encoded[0])
    widths = [width for _, width in batches.widths]
    assert widths == sorted(widths) and batches.sizes == sorted(batches.sizes, reverse=True)
    assert batches.sizes[0] > batches.sizes[-1]


def test_token_batches_padded_to_their_own_length_stay_within_the_budget_after_rounding(real_encoded):
    batches = _token_batches(real_encoded, 45, fixed_shapes=False, pad_multiple=8)
    sizes = [batches[i][1].size for i in range(len(batches))]
    assert max(sizes) <= 45 and sum(sizes) > 0
    assert all(batches[i][1].shape[1] % 8 == 0 for i in range(len(batches)))


def test_token_batches_for_three_replicas_have_row_counts_they_divide(real_encoded):
    batches = _token_batches(real_encoded, 90, fixed_shapes=True, replicas=3)
    assert all(size % 3 == 0 for size in batches.sizes)
    assert all(batches[i][1].shape[0] % 3 == 0 and batches[i][1].size <= 90 for i in range(len(batches)))
