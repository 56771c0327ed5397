"""`translate`, `translate_nbest`, `score` and a kept `Translator` for anything that can be searched step by step.

A `Seq2Seq` model and an `Ensemble` of models both offer the step interface that the searches
call (`StepModel` in `steps.py`: `source_vocab`, `target_vocab`, `has_attention`,
`search_start`, `search_step`, `attended_search_step`); this mixin turns that interface into translations, so neither
repeats the other and translating never needs to know which one it holds.
"""

from __future__ import annotations

from functools import cached_property

from seq2seq.translation.scoring import Scorer, score_pairs
from seq2seq.translation.translator import Translator, search_config


class Translating:
    """Translation methods for a class that has the step interface (see the module docstring)."""

    @cached_property
    def translator(self) -> Translator:
        """The `Translator` of this object: its compiled search functions, built on first use and kept.

        It is kept in the instance's `__dict__` (as `cached_property` does), out of Keras'
        attribute tracking where the class is a Keras model.
        """
        return Translator(self)

    def forget_translator(self) -> None:
        """Build the `Translator` anew on next use (after a change its compiled searches would not see)."""
        self.__dict__.pop("translator", None)
        self.__dict__.pop("scorer", None)

    @cached_property
    def scorer(self) -> Scorer:
        """The `Scorer` of this object: its compiled teacher-forced scoring, built on first use and kept."""
        return Scorer(self)

    def score(self, pairs, search=None, progress=None, **overrides) -> list:
        """A `PairScore(total, tokens, per_token, normalised)` per `(source, target)` pair.

        `total` is the log-probability of the target's tokens and its end as the searches count it;
        `normalised` is the score the search `search` (with `overrides`) would report for it.
        """
        return score_pairs(self, pairs, search, progress, **overrides)

    def translate(self, texts, search=None, *, prefixes=None, **overrides) -> list[str]:
        """Translate many texts at once; the best hypothesis of each.

        `search` is a `SearchConfig`; keyword arguments override its fields (`beam=5`,
        `max_length=40`, `sample=True, seed=1`, ...). Default: compiled batched greedy search.
        `prefixes` (one text for every input, or one per input, None or "" for none): each
        output starts with its prefix (read with the target tokenizer) and the search continues it.
        """
        results = self.translate_nbest(texts, search, prefixes=prefixes, **overrides)
        return [hypotheses[0].text if hypotheses else "" for hypotheses in results]

    def translate_nbest(self, texts, search=None, progress=None, *, prefixes=None, **overrides) -> list:
        """The `nbest` best hypotheses `(text, score)` of each text, best first.

        `progress(count)`, where given, hears after each batch how many more texts are done.
        With `prefixes` (as for `translate`) a score counts the prefix's log-probability too, so
        it is what `score` gives the whole output.
        """
        return self.translator.search(texts, search_config(search, **overrides), progress, prefixes)
