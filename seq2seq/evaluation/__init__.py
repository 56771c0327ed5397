"""Evaluation: translation scores (BLEU, chrF, TER), and the attention as numbers and pictures."""

from importlib import import_module

# When this package was one module, these were its names; they still import from here, lazily.
_FORMER_NAMES = {"evaluate_model": "seq2seq.evaluation.scores", "score_translations": "seq2seq.evaluation.scores", "group_references": "seq2seq.evaluation.scores"}


def __getattr__(name):
    if name in _FORMER_NAMES:
        return getattr(import_module(_FORMER_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
