"""Integer id arrays for training and search: padding and the teacher-forcing shift."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seq2seq.data.vocabulary import Vocabulary


def round_up(length: int, multiple: int) -> int:
    """`length` rounded up to a positive multiple of `multiple`."""
    return max(multiple, -(-length // multiple) * multiple)


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
