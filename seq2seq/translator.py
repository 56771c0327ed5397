"""Text in, text out: tokenize, batch by length, search, detokenize, restore the caller's order."""

from __future__ import annotations

import numpy as np

from seq2seq.backend import compile_search
from seq2seq.data.batching import pad_batch
from seq2seq.errors import ConfigError
from seq2seq.search.greedy import GreedySearch

LENGTH_BUCKET = 8  # source lengths are padded up to a multiple of this


def default_max_length(source_length: int) -> int:
    """The longest output allowed for a source of `source_length` tokens."""
    return 2 * source_length + 10


class Translator:
    """Fast batched translation with a trained `Seq2Seq` model."""

    def __init__(self, model):
        self.model = model
        self.search = GreedySearch()
        self._decode = compile_search(self._decode_batch)

    def _decode_batch(self, source_ids, max_lengths):
        states, memory = self.model.encode(source_ids)
        prepared = self.model.decoder.prepare_memory(memory)

        def step(tokens, states):
            return self.model.search_step(tokens, states, prepared)

        vocab = self.model.target_vocab
        return self.search(step, states, vocab.start_id, vocab.end_id, max_lengths)

    def translate(self, texts, batch_size: int = 256, max_length: int | None = None) -> list[str]:
        """Translations of `texts`, in the same order."""
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of texts; wrap a single text in a list.")
        for name, value in (("batch_size", batch_size), ("max_length", max_length)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        encoded = [self.model.source_vocab.encode(text) for text in texts]
        results: list[str] = [""] * len(encoded)
        for rows in length_sorted_batches(encoded, batch_size):
            batch = pad_batch([encoded[i] for i in rows], LENGTH_BUCKET)
            limits = [max_length or default_max_length(len(encoded[i])) for i in rows]
            output = np.asarray(self._decode(batch, np.asarray(limits, dtype=np.int32)))
            for position, row in enumerate(rows):
                results[row] = self.model.target_vocab.decode(output[position])
        return results


def length_sorted_batches(sequences: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of `sequences` sorted by length (stable), cut into batches."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

