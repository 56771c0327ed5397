"""Evaluation: translation scores (BLEU, chrF, TER), and the attention as numbers and pictures."""

from seq2seq import lazy_attributes

# When this package was one module, these were its names; they still import from here, lazily.
__getattr__ = lazy_attributes(
    __name__,
    {
        "evaluate_model": "seq2seq.evaluation.scores",
        "score_translations": "seq2seq.evaluation.scores",
        "group_references": "seq2seq.evaluation.scores",
    },
)
