"""What a search needs of a model: the step interface that a `Seq2Seq` and an `Ensemble` both offer.

Translating depends on this interface, not on `seq2seq.models`: anything with these members
can be searched by a `Translator`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class StepModel(Protocol):
    """A model that a search can run one step at a time.

    Besides these members, a search turns the dropout of the model's recurrent cells off while
    it runs (`seq2seq.layers.recurrent.recurrent_dropout_off`), which reads the Keras layers of
    the model, or of each of its `models` where it has them (an ensemble).
    """

    source_vocab: Any  # a `Vocabulary`: `encode`, `unk_id`, `unknown_tokens`
    target_vocab: Any  # a `Vocabulary`: `start_id`, `end_id`, `decode`

    @property
    def has_attention(self) -> bool:
        """Whether the step can return attention weights (`attended_search_step`)."""
        ...

    def search_start(self, source_ids, beam: int = 1) -> tuple:
        """`(decoder states, memory)` for `source_ids (batch, src_len)`: one state row per sentence, `beam`
        memory rows per sentence (one per hypothesis); the memory is None (or `()`) where the step reads none."""
        ...

    def search_step(self, token_ids, states, memory=None) -> tuple:
        """`token_ids (rows,)` and the states to `(log_probs (rows, vocab), new states)`."""
        ...

    def attended_search_step(self, token_ids, states, memory) -> tuple:
        """`search_step` that also returns the step's attention weights `(rows, src_len)`."""
        ...
