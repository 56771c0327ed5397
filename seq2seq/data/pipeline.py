"""The training input pipeline: integer ids streamed in length buckets with `tf.data`.

Only the ids are held in memory (one flat int32 array per side and the sentence lengths);
batches are cut from sentences of similar length and padded to their own longest sentence,
so little padding is computed. Where the backend compiles one step per shape (JAX), lengths
are rounded up to a multiple of 8 to keep the set of shapes small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seq2seq.data.vocabulary import Vocabulary



def default_pad_multiple() -> int:
    """1 on TensorFlow (one trace serves every shape); 8 where each new shape compiles anew."""
    import keras

    return 1 if keras.backend.backend() == "tensorflow" else 8


@dataclass(frozen=True)
class EncodedPairs:
    """Source and target ids of sentence pairs, stored flat with row lengths."""

    source_ids: np.ndarray  # int32, every source sentence's ids concatenated
    source_lengths: np.ndarray  # int64, ids per source sentence
    target_ids: np.ndarray
    target_lengths: np.ndarray

    @classmethod
    def encode(cls, pairs: Sequence[tuple[str, str]], source_vocab: Vocabulary, target_vocab: Vocabulary) -> "EncodedPairs":
        """Encode `pairs` (no start or end ids; those are added per batch)."""
        sources = [source_vocab.encode(source) for source, _ in pairs]
        targets = [target_vocab.encode(target) for _, target in pairs]
        return cls(*_flatten(sources), *_flatten(targets))

    def __len__(self) -> int:
        return len(self.source_lengths)

    @property
    def example_lengths(self) -> np.ndarray:
        """The time steps each pair needs: its source, or its target plus the start/end id."""
        return np.maximum(self.source_lengths, self.target_lengths + 1)


def _flatten(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter((token for s in sequences for token in s), dtype=np.int32, count=int(lengths.sum()))
    return flat, lengths


def bucket_boundaries(lengths: np.ndarray, batch_size: int, max_buckets: int = 16) -> list[int]:
    """Length boundaries that split `lengths` into about equally full buckets.

    Each bucket holds at least a few batches, so batches rarely end up partly filled.
    """
    if len(lengths) == 0:
        return []
    buckets = int(min(max_buckets, max(1, len(lengths) // (4 * batch_size))))
    quantiles = np.quantile(lengths, np.linspace(0, 1, buckets + 1)[1:-1])
    return sorted({int(q) + 1 for q in quantiles})


def bucket_batch_sizes(lengths: np.ndarray, boundaries: Sequence[int], batch_size: int) -> list[int]:
    """Sentences per batch in each bucket, so every batch holds about the same number of tokens.

    The budget is `batch_size` sentences of the mean length: buckets of short sentences get
    larger batches, long ones smaller, and an epoch still takes about `len / batch_size` steps.
    Every token then weighs the same in the gradient, wherever its sentence falls.
    """
    if len(lengths) == 0:
        return [batch_size] * (len(boundaries) + 1)
    budget = batch_size * float(lengths.mean())
    bucket_of = np.searchsorted(np.asarray(boundaries), lengths, side="right")
    sizes = []
    for bucket in range(len(boundaries) + 1):
        members = lengths[bucket_of == bucket]
        typical = float(members.mean()) if len(members) else float(boundaries[min(bucket, len(boundaries) - 1)])
        sizes.append(max(1, int(round(budget / max(typical, 1.0)))))
    return sizes


def training_dataset(
    encoded: EncodedPairs,
    batch_size: int,
    *,
    start_id: int,
    end_id: int,
    shuffle: bool = True,
    seed: int = 0,
    boundaries: Sequence[int] | None = None,
    pad_multiple: int | None = None,
):
    """A `tf.data.Dataset` of `({"encoder_tokens", "decoder_tokens"}, targets)` batches.

    Pairs are shuffled (seeded, anew each epoch) and grouped by length into buckets; each batch
    is padded with 0 to its longest sentence rounded up to `pad_multiple`. Decoder inputs
    start with `start_id`; targets end with `end_id`. The number of batches is known, so
    progress bars show it.
    """
    import tensorflow as tf

    lengths = encoded.example_lengths
    if boundaries is None:
        boundaries = bucket_boundaries(lengths, batch_size)
    sizes = bucket_batch_sizes(lengths, boundaries, batch_size)
    multiple = pad_multiple or default_pad_multiple()
    sources = tf.RaggedTensor.from_row_lengths(encoded.source_ids, encoded.source_lengths)
    targets = tf.RaggedTensor.from_row_lengths(encoded.target_ids, encoded.target_lengths)
    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    if shuffle:
        dataset = dataset.shuffle(len(encoded), seed=seed, reshuffle_each_iteration=True)

    def teacher_forcing(source, target):
        start = tf.constant([start_id], tf.int32)
        end = tf.constant([end_id], tf.int32)
        return source, tf.concat([start, target], 0), tf.concat([target, end], 0)

    dataset = dataset.map(teacher_forcing, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.bucket_by_sequence_length(
        lambda source, decoder_input, _: tf.maximum(tf.shape(source)[0], tf.shape(decoder_input)[0]),
        bucket_boundaries=list(boundaries),
        bucket_batch_sizes=sizes,
        no_padding=False,
    )

    def round_up_and_name(source, decoder_input, decoder_target):
        source, decoder_input, decoder_target = (_pad_time_to(b, multiple) for b in (source, decoder_input, decoder_target))
        return {"encoder_tokens": source, "decoder_tokens": decoder_input}, decoder_target

    dataset = dataset.map(round_up_and_name)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batch_count(lengths, boundaries, sizes)))
    return dataset.prefetch(tf.data.AUTOTUNE)


def batch_count(lengths: np.ndarray, boundaries: Sequence[int], sizes: Sequence[int]) -> int:
    """Batches in one epoch: each bucket gives its full batches and then one partial batch."""
    counts = np.bincount(np.searchsorted(np.asarray(boundaries), lengths, side="right"), minlength=len(sizes))
    return int(sum(-(-int(count) // size) for count, size in zip(counts, sizes)))


def _pad_time_to(batch, multiple: int):
    """`batch` right-padded with 0 to a length that is a positive multiple of `multiple`."""
    import tensorflow as tf

    length = tf.shape(batch)[1]
    padded = tf.maximum(multiple, (length + multiple - 1) // multiple * multiple)
    return tf.pad(batch, [[0, 0], [0, padded - length]])
