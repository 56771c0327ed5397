"""The streaming, length-bucketed training pipeline."""

import numpy as np
import pytest

from seq2seq.data.pipeline import (
    BucketedBatches,
    EncodedPairs,
    batch_count,
    bucket_batch_sizes,
    bucket_boundaries,
    training_dataset,
)
from seq2seq.data.tokenizers import tokenizer_from_config
from seq2seq.data.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def real_pairs(tatoeba_path):
    from seq2seq.data.corpus import read_tatoeba

    return read_tatoeba(tatoeba_path, limit=3000).pairs


@pytest.fixture(scope="module")
def vocabularies(real_pairs):
    char = tokenizer_from_config({"name": "char"})
    return (
        Vocabulary.build([s for s, _ in real_pairs], char),
        Vocabulary.build([t for _, t in real_pairs], char),
    )


def _dataset(pairs, vocabularies, **options):
    source_vocab, target_vocab = vocabularies
    encoded = EncodedPairs.encode(pairs, source_vocab, target_vocab)
    options.setdefault("seed", 3)
    return training_dataset(encoded, 64, start_id=target_vocab.start_id, end_id=target_vocab.end_id, **options)


def _epoch(dataset) -> list:
    """One epoch's batches, the next epoch on the next call: from `tf.data` (TensorFlow) or the `PyDataset`
    (elsewhere)."""
    if hasattr(dataset, "cardinality"):
        return list(dataset)
    batches = [dataset[index] for index in range(len(dataset))]
    dataset.on_epoch_end()  # as Keras' fit calls it
    return batches


def _sentences(dataset):
    """Every (source ids, decoder input ids, target ids) of one epoch, padding (and rows of padding only) removed."""
    rows = []
    for inputs, targets in _epoch(dataset):
        arrays = (np.asarray(inputs["encoder_tokens"]), np.asarray(inputs["decoder_tokens"]), np.asarray(targets))
        for source, decoder, target in zip(*arrays):
            if decoder.any():
                rows.append((tuple(source[source != 0]), tuple(decoder[decoder != 0]), tuple(target[target != 0])))
    return rows


def _shapes(dataset) -> set:
    """The distinct (source, decoder input, target) shapes of one epoch's batches."""
    arrays = ((inputs["encoder_tokens"], inputs["decoder_tokens"], targets) for inputs, targets in _epoch(dataset))
    return {tuple(tuple(int(size) for size in array.shape) for array in batch) for batch in arrays}


def test_one_epoch_holds_every_pair_once_with_start_and_end_ids(real_pairs, vocabularies):
    source_vocab, target_vocab = vocabularies
    rows = _sentences(_dataset(real_pairs, vocabularies))
    expected = [
        (tuple(source_vocab.encode(s)), (2, *target_vocab.encode(t)), (*target_vocab.encode(t), 3))
        for s, t in real_pairs
    ]
    assert sorted(rows) == sorted(expected)


def test_batches_hold_sentences_of_similar_length_so_little_padding_is_computed(real_pairs, vocabularies):
    source_vocab, target_vocab = vocabularies
    computed = real = 0
    for inputs, targets in _epoch(_dataset(real_pairs, vocabularies)):
        computed += int(np.prod(inputs["encoder_tokens"].shape) + np.prod(targets.shape))
        real += int(np.count_nonzero(inputs["encoder_tokens"]) + np.count_nonzero(targets))
    globally_padded = len(real_pairs) * (
        max(len(source_vocab.encode(s)) for s, _ in real_pairs)
        + max(len(target_vocab.encode(t)) + 1 for _, t in real_pairs)
    )
    assert computed < 1.3 * real
    assert computed < 0.6 * globally_padded


def test_shuffling_is_seeded_and_differs_between_epochs(real_pairs, vocabularies):
    first = _dataset(real_pairs, vocabularies, seed=5)
    epoch_one, epoch_two = _sentences(first), _sentences(first)
    assert epoch_one == _sentences(_dataset(real_pairs, vocabularies, seed=5))
    assert epoch_one != epoch_two
    assert epoch_one != _sentences(_dataset(real_pairs, vocabularies, seed=6))


def test_without_shuffling_the_order_is_the_same_each_time(real_pairs, vocabularies):
    dataset = _dataset(real_pairs[:500], vocabularies, shuffle=False)
    assert _sentences(dataset) == _sentences(dataset)


def test_the_announced_number_of_batches_is_the_real_one(real_pairs, vocabularies):
    dataset = _dataset(real_pairs, vocabularies)
    announced = int(dataset.cardinality()) if hasattr(dataset, "cardinality") else len(dataset)  # tf.data or PyDataset
    assert announced == len(_epoch(dataset))


def test_lengths_are_rounded_up_to_the_pad_multiple(real_pairs, vocabularies):
    for inputs, targets in _epoch(_dataset(real_pairs[:700], vocabularies, pad_multiple=8, fixed_shapes=False)):
        assert inputs["encoder_tokens"].shape[1] % 8 == 0
        assert inputs["decoder_tokens"].shape[1] % 8 == 0 == targets.shape[1] % 8


def test_with_fixed_shapes_each_bucket_has_one_shape_and_an_epoch_holds_the_same_sentences(real_pairs, vocabularies):
    pairs = real_pairs[:900]
    fixed, free = (_dataset(pairs, vocabularies, fixed_shapes=fixed, seed=2) for fixed in (True, False))
    fixed_shapes, free_shapes = _shapes(fixed) | _shapes(fixed), _shapes(free) | _shapes(free)  # two epochs each
    buckets = len(bucket_boundaries(EncodedPairs.encode(pairs, *vocabularies).example_lengths, 64)) + 1
    assert 1 < len(fixed_shapes) <= buckets < len(free_shapes)
    for source, decoder, target in fixed_shapes:
        assert source[0] == decoder[0] == target[0] and decoder == target
    assert _sentences(fixed) == _sentences(free)  # the third epoch of each


def test_a_fixed_shape_fills_the_last_batch_of_a_bucket_with_rows_of_padding_only(real_pairs, vocabularies):
    source_vocab, target_vocab = vocabularies
    encoded = EncodedPairs.encode(real_pairs[:300], source_vocab, target_vocab)
    batches = BucketedBatches(
        encoded, 24, start_id=2, end_id=3, shuffle=True, seed=1, boundaries=[9, 14], pad_multiple=1, fixed_shapes=True
    )
    sizes, members = batches.sizes, [len(rows) for rows in batches.buckets]
    assert len(batches) == batch_count(encoded.example_lengths, [9, 14], sizes)
    fillers = 0
    for bucket, rows in batches.epoch_plan(0):
        inputs, targets = batches.batch(bucket, rows)
        shape = (sizes[bucket], *batches.widths[bucket])
        assert (inputs["encoder_tokens"].shape[0], inputs["encoder_tokens"].shape[1], targets.shape[1]) == shape
        assert (inputs["decoder_tokens"][: len(rows), 0] == 2).all()  # real rows start with the start id
        assert not inputs["encoder_tokens"][len(rows) :].any() and not inputs["decoder_tokens"][len(rows) :].any()
        assert not targets[len(rows) :].any()
        fillers += sizes[bucket] - len(rows)
    assert fillers == sum(-m % s for m, s in zip(members, sizes)) > 0
    assert batches.shapes() == {(size, *widths) for size, widths in zip(sizes, batches.widths)}


def test_short_buckets_get_larger_batches_of_about_the_same_token_count():
    lengths = np.repeat([5, 10, 20, 40], 1000)
    boundaries = bucket_boundaries(lengths, 64)
    sizes = bucket_batch_sizes(lengths, boundaries, 64)
    assert sizes == sorted(sizes, reverse=True)
    tokens = [size * length for size, length in zip(sizes, [5, 10, 20, 40])]
    assert max(tokens) < 1.1 * min(tokens)
    assert abs(batch_count(lengths, boundaries, sizes) - len(lengths) / 64) <= len(sizes)


def test_a_handful_of_pairs_is_one_bucket_and_one_batch():
    char = tokenizer_from_config({"name": "char"})
    vocabularies = (Vocabulary.build(["ab"], char), Vocabulary.build(["xy"], char))
    rows = _sentences(_dataset([("ab", "xy"), ("b", ""), ("", "y")], vocabularies))
    assert sorted(rows) == sorted([((4, 5), (2, 4, 5), (4, 5, 3)), ((5,), (2,), (3,)), ((), (2, 5), (5, 3))])


def test_only_the_ids_are_stored(real_pairs, vocabularies):
    encoded = EncodedPairs.encode(real_pairs, *vocabularies)
    tokens = int(encoded.source_lengths.sum() + encoded.target_lengths.sum())
    assert encoded.source_ids.dtype == np.int32
    assert encoded.source_ids.nbytes + encoded.target_ids.nbytes == 4 * tokens


def test_an_epoch_holds_the_same_batches_whether_or_not_the_epochs_before_it_ran(real_pairs, vocabularies):
    uninterrupted = _dataset(real_pairs[:800], vocabularies, seed=4)
    _sentences(uninterrupted)
    _sentences(uninterrupted)
    resumed = _dataset(real_pairs[:800], vocabularies, seed=4, first_epoch=2)
    assert _sentences(resumed) == _sentences(uninterrupted)


def test_for_three_replicas_every_batch_size_divides_by_three_and_the_shards_make_up_each_batch(
    real_pairs, vocabularies
):
    encoded = EncodedPairs.encode(real_pairs[:300], *vocabularies)
    options = {"start_id": 2, "end_id": 3, "shuffle": True, "seed": 5, "boundaries": [9, 14], "pad_multiple": 1}
    whole = BucketedBatches(encoded, 20, fixed_shapes=True, replicas=3, **options)
    single = BucketedBatches(encoded, 20, fixed_shapes=True, **options)
    assert all(size % 3 == 0 for size in whole.sizes) and whole.sizes != single.sizes
    assert all(size - 3 < one <= size for size, one in zip(whole.sizes, single.sizes))  # rounded up, never down
    shards = [BucketedBatches(encoded, 20, fixed_shapes=True, replicas=3, shard=(i, 3), **options) for i in range(3)]
    for bucket, rows in whole.epoch_plan(0):
        inputs, targets = whole.batch(bucket, rows)
        parts = [shard.batch(bucket, rows) for shard in shards]
        assert {len(part[1]) for part in parts} == {len(targets) // 3}
        np.testing.assert_array_equal(np.concatenate([part[1] for part in parts]), targets)
        np.testing.assert_array_equal(
            np.concatenate([part[0]["encoder_tokens"] for part in parts]), inputs["encoder_tokens"]
        )
