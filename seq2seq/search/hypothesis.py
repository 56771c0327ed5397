"""What a search gives per sentence, and how long an output may grow: shared by the Keras and exported searches.

Kept apart from `seq2seq.translation.translator` (which imports Keras) so that the exported
runner (`seq2seq.export.translator`) gives the same `Hypothesis` and the same default limit
without importing Keras.
"""

from __future__ import annotations

from typing import NamedTuple


class Hypothesis(NamedTuple):
    """One output sentence and its score (log-probability, length-normalised for beam search)."""

    text: str
    score: float


def default_max_length(source_length: int) -> int:
    """The longest output allowed for a source of `source_length` tokens."""
    return 2 * source_length + 10
