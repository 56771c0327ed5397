"""Translation quality as the field measures it: corpus BLEU, chrF and TER (sacrebleu), exact match."""

from __future__ import annotations

from collections.abc import Sequence

from sacrebleu.metrics import BLEU, CHRF, TER


def group_references(pairs: Sequence[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Unique sources in first-appearance order, each with all of its targets as references."""
    references: dict[str, list[str]] = {}
    for source, target in pairs:
        references.setdefault(source, []).append(target)
    return list(references), list(references.values())


def score_translations(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> dict:
    """Corpus BLEU, chrF, TER and exact-match accuracy; a sentence may have several references."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists.")
    streams = reference_streams(references)
    exact = sum(hypothesis in refs for hypothesis, refs in zip(hypotheses, references))
    return {
        "bleu": round(BLEU().corpus_score(list(hypotheses), streams).score, 2),
        "chrf": round(CHRF().corpus_score(list(hypotheses), streams).score, 2),
        "ter": round(TER().corpus_score(list(hypotheses), streams).score, 2),
        "exact_match": round(exact / max(len(hypotheses), 1), 4),
        "sentences": len(hypotheses),
    }


def reference_streams(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """sacrebleu's layout: stream k holds every sentence's k-th reference (None where it has fewer)."""
    depth = max((len(refs) for refs in references), default=0)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(depth)]


def evaluate_model(model, pairs: Sequence[tuple[str, str]], search=None, **overrides) -> tuple[dict, list[dict]]:
    """Translate each distinct source of `pairs` and score it against all of its targets.

    Returns the corpus scores and one row per source: source, hypothesis, references and the
    sentence-level chrF.
    """
    sources, references = group_references(pairs)
    hypotheses = model.translate(sources, search, **overrides)
    scores = score_translations(hypotheses, references)
    chrf = CHRF()
    rows = [
        {"source": s, "hypothesis": h, "references": r, "chrf": round(chrf.sentence_score(h, r).score, 2)}
        for s, h, r in zip(sources, hypotheses, references)
    ]
    return scores, rows
