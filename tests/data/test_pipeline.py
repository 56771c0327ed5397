"""The streaming, length-bucketed training pipeline."""

import numpy as np
import pytest

from seq2seq.data.pipeline import EncodedPairs, batch_count, bucket_batch_sizes, bucket_boundaries, training_dataset
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


def _sentences(dataset):
    """Every (source ids, decoder input ids, target ids) of one epoch, padding removed."""
    rows = []
    for inputs, targets in dataset:
        for source, decoder, target in zip(inputs["encoder_tokens"].numpy(), inputs["decoder_tokens"].numpy(), targets.numpy()):
            rows.append((tuple(source[source != 0]), tuple(decoder[decoder != 0]), tuple(target[target != 0])))
    return rows


def test_one_epoch_holds_every_pair_once_with_start_and_end_ids(real_pairs, vocabularies):
    source_vocab, target_vocab = vocabularies
    rows = _sentences(_dataset(real_pairs, vocabularies))
    expected = [
        (tuple(source_vocab.encode(s)), (2, *target_vocab.encode(t)), (*target_vocab.encode(t), 3)) for s, t in real_pairs
    ]
    assert sorted(rows) == sorted(expected)


def test_batches_hold_sentences_of_similar_length_so_little_padding_is_computed(real_pairs, vocabularies):
    source_vocab, target_vocab = vocabularies
    computed = real = 0
    for inputs, targets in _dataset(real_pairs, vocabularies):
        computed += int(np.prod(inputs["encoder_tokens"].shape) + np.prod(targets.shape))
        real += int(np.count_nonzero(inputs["encoder_tokens"]) + np.count_nonzero(targets))
    globally_padded = len(real_pairs) * (
        max(len(source_vocab.encode(s)) for s, _ in real_pairs) + max(len(target_vocab.encode(t)) + 1 for _, t in real_pairs)
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
    assert int(dataset.cardinality()) == sum(1 for _ in dataset)


def test_lengths_are_rounded_up_to_the_pad_multiple(real_pairs, vocabularies):
    for inputs, targets in _dataset(real_pairs[:700], vocabularies, pad_multiple=8):
        assert inputs["encoder_tokens"].shape[1] % 8 == 0
        assert inputs["decoder_tokens"].shape[1] % 8 == 0 == targets.shape[1] % 8


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
