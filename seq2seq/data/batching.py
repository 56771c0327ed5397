"""Integer id arrays for training and search: padding, the teacher-forcing shift, and batches sized by tokens."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seq2seq.data.vocabulary import Vocabulary


def round_up(length: int, multiple: int) -> int:
    """`length` rounded up to a positive multiple of `multiple`."""
    return max(multiple, -(-length // multiple) * multiple)


def sentences_within(target_lengths: np.ndarray, batch_tokens: int) -> int:
    """About how many sentences of these target lengths (plus the end id) fill `batch_tokens`: at least 1."""
    mean_width = float(np.mean(target_lengths)) + 1.0 if len(target_lengths) else 1.0
    return max(1, int(batch_tokens // mean_width))


def token_batch_sizes(target_widths: Sequence[int], batch_tokens: int, replicas: int = 1) -> list[int]:
    """Rows per batch of each bucket, so that a batch holds at most `batch_tokens` target positions.

    `target_widths` are the buckets' padded target widths (every batch of a bucket is at most
    that wide). A bucket's size is `batch_tokens // width`, at least 1, rounded down to a multiple
    of `replicas` (at least `replicas`), so every batch of a bucket keeps one shape and one
    size; only a width over `batch_tokens` (or a share of it under `replicas`) exceeds the budget.
    """
    sizes = []
    for width in target_widths:
        rows = max(1, batch_tokens // max(int(width), 1))
        sizes.append(max(replicas, rows // replicas * replicas))
    return sizes


def pad_batch(sequences: Sequence[Sequence[int]], multiple: int = 1, length: int | None = None) -> np.ndarray:
    """Right-pad `sequences` with 0 to `length` (default: the longest, rounded up to `multiple`).

    Returns `(batch, length)` int32.
    """
    if length is None:
        length = round_up(max((len(s) for s in sequences), default=0), multiple)
    batch = np.zeros((len(sequences), length), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        batch[row, : len(sequence)] = sequence
    return batch


def teacher_forcing_arrays(
    pairs: Sequence[tuple[str, str]], source_vocab: Vocabulary, target_vocab: Vocabulary
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Training arrays of sparse ids, never one-hot.

    Inputs: `encoder_tokens` (the source ids) and `decoder_tokens` (start id + target ids);
    targets: target ids + end id, so position t of the decoder predicts token t + 1.
    """
    sources = [source_vocab.encode(source) for source, _ in pairs]
    targets = [target_vocab.encode(target) for _, target in pairs]
    decoder_inputs = pad_batch([[target_vocab.start_id] + ids for ids in targets])
    decoder_targets = pad_batch([ids + [target_vocab.end_id] for ids in targets])
    return {"encoder_tokens": pad_batch(sources), "decoder_tokens": decoder_inputs}, decoder_targets
