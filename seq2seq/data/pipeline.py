"""The training input pipeline: integer ids streamed in length buckets.

Only the ids are held in memory (one flat int32 array per side and the lengths); batches are
cut with NumPy from sentences of similar length, padded to their own longest sentence. Where the
training step is compiled per input shape (XLA: JAX, and TensorFlow or PyTorch with
`jit_compile`), batches come in fixed shapes instead (`fixed_shapes`): every batch of a bucket
has the bucket's batch size and widths (its longest source, its longest target plus the
start/end id), the last one filled with rows of padding only, masked in the encoder, the
decoder, the attention and the loss (so no change to the loss or the gradients): an epoch runs
one program per bucket, whatever the order of its batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from seq2seq.data.batching import round_up, sentences_within, token_batch_sizes
from seq2seq.data.vocabulary import Vocabulary


def default_pad_multiple() -> int:
    """1 on TensorFlow (one trace serves every shape); 8 elsewhere, where batches are not of fixed shapes."""
    return 1 if keras.backend.backend() == "tensorflow" else 8


def default_fixed_shapes() -> bool:
    """Whether batches come in fixed shapes by default: on JAX, which compiles every step per shape."""
    return keras.backend.backend() == "jax"


@dataclass(frozen=True)
class EncodedPairs:
    """Source and target ids of sentence pairs, stored flat with row lengths."""

    source_ids: np.ndarray  # int32, every source sentence's ids concatenated
    source_lengths: np.ndarray  # int64, ids per source sentence
    target_ids: np.ndarray
    target_lengths: np.ndarray

    @classmethod
    def encode(
        cls, pairs: Sequence[tuple[str, str]], source_vocab: Vocabulary, target_vocab: Vocabulary
    ) -> "EncodedPairs":
        """Encode `pairs` (no start or end ids; those are added per batch)."""
        sources = [source_vocab.encode(source) for source, _ in pairs]
        targets = [target_vocab.encode(target) for _, target in pairs]
        return cls(*_flatten(sources), *_flatten(targets))

    def __len__(self) -> int:
        return len(self.source_lengths)

    def target_token_counts(self, vocab_size: int, end_id: int) -> np.ndarray:
        """How often each target id is to be predicted: every target id, and one end id per sentence."""
        counts = np.bincount(self.target_ids, minlength=vocab_size).astype(np.int64)
        counts[end_id] += len(self.target_lengths)
        return counts

    @property
    def example_lengths(self) -> np.ndarray:
        """The time steps each pair needs: its source, or its target plus the start/end id."""
        return np.maximum(self.source_lengths, self.target_lengths + 1)


def _flatten(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter((token for s in sequences for token in s), dtype=np.int32, count=int(lengths.sum()))
    return flat, lengths


MAX_BUCKETS = 16  # length buckets of an epoch: with fixed shapes, also the most programs it compiles


def bucket_boundaries(lengths: np.ndarray, batch_size: int, max_buckets: int = MAX_BUCKETS) -> list[int]:
    """Length boundaries that split `lengths` into about equally full buckets.

    Each bucket holds at least a few batches, so batches rarely end up partly filled.
    """
    if len(lengths) == 0:
        return []
    buckets = int(min(max_buckets, max(1, len(lengths) // (4 * batch_size))))
    quantiles = np.quantile(lengths, np.linspace(0, 1, buckets + 1)[1:-1])
    return sorted({int(q) + 1 for q in quantiles})


def bucket_batch_sizes(lengths: np.ndarray, boundaries: Sequence[int], batch_size: int) -> list[int]:
    """Sentences per batch in each bucket, so every batch holds about `batch_size` sentences of the mean length.

    Short sentences get larger batches, long ones smaller (every token weighs the same in the
    gradient), and an epoch still takes about `len / batch_size` steps.
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


class BucketedBatches(keras.utils.PyDataset):
    """The teacher-forcing batches of one epoch after another, cut from the flat ids with NumPy.

    Each epoch shuffles every bucket's pairs and the order of the batches with a generator
    seeded by `(seed, epoch)`, so epoch k holds the same batches whether or not the training
    was interrupted before it. A batch is padded with 0 to its longest sentence rounded up to
    `pad_multiple`; decoder inputs start with `start_id` and targets end with `end_id`.

    With `fixed_shapes`, every batch of bucket b has `sizes[b]` rows and the bucket's
    `widths[b]` (its longest source; its longest target plus one), the last batch of a bucket
    filled with rows of padding only: `shapes()` is then every shape an epoch holds. Each size
    is rounded up to a multiple of `replicas` (data-parallel training: equal shares); with
    `shard=(index, count)` a batch is the index-th of `count` equal parts of its rows. With
    `batch_tokens`, sizes keep rows x padded target width within it (`batching.token_batch_sizes`).
    Keras reads it as a `PyDataset`; `epoch_batches()` yields a whole epoch (the next each call) for `tf.data`.
    """

    def __init__(
        self,
        encoded,
        batch_size,
        *,
        start_id,
        end_id,
        shuffle,
        seed,
        boundaries,
        pad_multiple,
        fixed_shapes=False,
        first_epoch=0,
        replicas=1,
        shard=(0, 1),
        batch_tokens=None,
    ):
        super().__init__()
        self.encoded = encoded
        self.start_id, self.end_id = start_id, end_id
        self.shuffle, self.seed = shuffle, seed
        self.pad_multiple, self.fixed_shapes = pad_multiple, fixed_shapes
        self.next_epoch, self.shard = first_epoch, shard
        lengths = encoded.example_lengths
        if batch_tokens:  # the buckets are cut for batches of about this many sentences
            batch_size = sentences_within(encoded.target_lengths, batch_tokens)
        if boundaries is None:
            boundaries = bucket_boundaries(lengths, batch_size)
        bucket_of = np.searchsorted(np.asarray(boundaries, dtype=np.int64), lengths, side="right")
        self.buckets = [np.flatnonzero(bucket_of == bucket) for bucket in range(len(boundaries) + 1)]
        sources, targets = encoded.source_lengths, encoded.target_lengths
        # Each bucket's (source, target) width: its longest source, its longest target plus the start/end id.
        self.widths = [
            (max(1, int(sources[rows].max(initial=0))), int(targets[rows].max(initial=0)) + 1) for rows in self.buckets
        ]
        if batch_tokens:  # a batch padded to a multiple is at most its bucket's width rounded up to it
            widths = [width if fixed_shapes else round_up(width, pad_multiple) for _, width in self.widths]
            self.sizes = token_batch_sizes(widths, batch_tokens, replicas)
        else:
            self.sizes = [
                -(-size // replicas) * replicas for size in bucket_batch_sizes(lengths, boundaries, batch_size)
            ]
        self.source_starts = np.concatenate([[0], np.cumsum(encoded.source_lengths)[:-1]]).astype(np.int64)
        self.target_starts = np.concatenate([[0], np.cumsum(encoded.target_lengths)[:-1]]).astype(np.int64)
        self._plan = None  # the (bucket, rows) of each batch of the current epoch

    def __len__(self) -> int:
        return sum(-(-len(members) // size) for members, size in zip(self.buckets, self.sizes))

    def __getitem__(self, index: int):
        if self._plan is None:
            self._plan = self.epoch_plan(self.next_epoch)
        return self.batch(*self._plan[index])

    def on_epoch_end(self) -> None:
        self.next_epoch += 1
        self._plan = None

    def epoch_batches(self):
        """Yield the next epoch's batches: `({"encoder_tokens", "decoder_tokens"}, targets)`, int32."""
        plan = self.epoch_plan(self.next_epoch)
        self.next_epoch += 1
        for bucket, rows in plan:
            yield self.batch(bucket, rows)

    def epoch_plan(self, epoch: int) -> list[tuple[int, np.ndarray]]:
        """The bucket and the pair indices of every batch of `epoch`, in order."""
        random = np.random.default_rng([self.seed, epoch]) if self.shuffle else None
        batches = []
        for bucket, (members, size) in enumerate(zip(self.buckets, self.sizes)):
            if random is not None:
                members = random.permutation(members)
            batches.extend((bucket, members[start : start + size]) for start in range(0, len(members), size))
        if random is not None:
            batches = [batches[index] for index in random.permutation(len(batches))]
        return batches

    def shapes(self) -> set[tuple[int, int, int]]:
        """The `(rows, source width, target width)` of the batches, with `fixed_shapes`: one per non-empty bucket."""
        return {(size, *widths) for members, size, widths in zip(self.buckets, self.sizes, self.widths) if len(members)}

    def batch(self, bucket: int, rows: np.ndarray):
        """The padded teacher-forcing arrays of the pairs `rows` of `bucket`."""
        encoded = self.encoded
        source_lengths, target_lengths = encoded.source_lengths[rows], encoded.target_lengths[rows]
        if self.fixed_shapes:
            (source_width, width), filler = self.widths[bucket], self.sizes[bucket] - len(rows)
        else:
            source_width = round_up(int(source_lengths.max(initial=0)), self.pad_multiple)
            width, filler = round_up(int(target_lengths.max(initial=0)) + 1, self.pad_multiple), 0
        source = _gather_padded(encoded.source_ids, self.source_starts[rows], source_lengths, source_width)
        decoder_input = np.zeros((len(rows), width), np.int32)
        decoder_input[:, 0] = self.start_id
        decoder_input[:, 1:] = _gather_padded(encoded.target_ids, self.target_starts[rows], target_lengths, width - 1)
        decoder_target = _gather_padded(encoded.target_ids, self.target_starts[rows], target_lengths, width)
        decoder_target[np.arange(len(rows)), target_lengths] = self.end_id
        if filler:  # rows of padding only: masked everywhere, so no loss and no gradient
            source, decoder_input, decoder_target = (
                np.pad(ids, ((0, filler), (0, 0))) for ids in (source, decoder_input, decoder_target)
            )
        index, count = self.shard
        if count > 1:  # this process's rows of the global batch
            part = slice(index * len(source) // count, (index + 1) * len(source) // count)
            source, decoder_input, decoder_target = source[part], decoder_input[part], decoder_target[part]
        return {"encoder_tokens": source, "decoder_tokens": decoder_input}, decoder_target


def _gather_padded(flat, starts, lengths, width) -> np.ndarray:
    """Rows `flat[start : start + length]` right-padded with 0 to `width`."""
    positions = np.arange(width)[None, :]
    real = positions < lengths[:, None]
    indices = np.where(real, starts[:, None] + positions, 0)
    return np.where(real, flat[indices] if len(flat) else 0, 0).astype(np.int32)


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
    fixed_shapes: bool | None = None,
    first_epoch: int = 0,
    replicas: int = 1,
    shard: tuple[int, int] = (0, 1),
    batch_tokens: int | None = None,
):
    """Batches `({"encoder_tokens", "decoder_tokens"}, targets)` for `fit`, epoch after epoch.

    Every pass is the next epoch of `BucketedBatches` (the first being `first_epoch`): pairs
    shuffled (seeded) and grouped by length into buckets, each batch padded to its own longest
    sentence, or with `fixed_shapes` (default: on JAX) to its bucket's fixed shape. The number
    of batches is known, so progress bars show it. On TensorFlow this is a `tf.data.Dataset`
    (which `tf.distribute` splits between replicas) with autotuning off: its sleeping thread held
    the end of an epoch for up to seconds. Elsewhere it is the `PyDataset` itself: in Keras' own
    loop it trained the classic model on JAX in half the time per epoch of `tf.data`.
    `replicas` and `shard` serve data-parallel training; `batch_tokens` sizes batches by target
    tokens instead of `batch_size` (see `BucketedBatches`).
    """
    batches = BucketedBatches(
        encoded,
        batch_size,
        start_id=start_id,
        end_id=end_id,
        shuffle=shuffle,
        seed=seed,
        boundaries=boundaries,
        pad_multiple=pad_multiple or default_pad_multiple(),
        fixed_shapes=default_fixed_shapes() if fixed_shapes is None else fixed_shapes,
        first_epoch=first_epoch,
        replicas=replicas,
        shard=shard,
        batch_tokens=batch_tokens,
    )
    if keras.backend.backend() != "tensorflow":
        return batches
    import tensorflow as tf

    ids = tf.TensorSpec([None, None], tf.int32)
    dataset = tf.data.Dataset.from_generator(
        batches.epoch_batches, output_signature=({"encoder_tokens": ids, "decoder_tokens": ids}, ids)
    )
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.prefetch(2).with_options(options)


def batch_count(lengths: np.ndarray, boundaries: Sequence[int], sizes: Sequence[int]) -> int:
    """Batches in one epoch: each bucket gives its full batches and then one partial batch."""
    counts = np.bincount(np.searchsorted(np.asarray(boundaries), lengths, side="right"), minlength=len(sizes))
    return int(sum(-(-int(count) // size) for count, size in zip(counts, sizes)))
