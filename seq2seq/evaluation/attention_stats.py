"""Attention health as numbers: does the attention move along the source as the output advances?

A working alignment spreads over the source and advances with the output; a collapsed one
puts all its weight on one fixed position (often the first or the last token) whatever the
output step. Over a set of sentences and the model's own greedy translations of them:

- `first_token_weight`: the mean weight on the first source token;
- `entropy`: the mean entropy of each step's weights over `log(source length)` (0: one-hot, 1: uniform);
- `max_weight`: the mean largest weight of a step;
- `monotonicity`: the mean rank correlation (Spearman) between the output step and the most
  attended source position, over sentences of at least three output steps (0 where that
  position never moves).

The weights are those the search saw: the model is run with teacher forcing on its own
greedy output, which gives exactly the weights of the greedy steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from seq2seq.data.batching import pad_batch
from seq2seq.evaluation.attention_plot import NoAttentionError
from seq2seq.host import to_host
from seq2seq.search.config import SearchConfig

STAT_NAMES = ("first_token_weight", "entropy", "max_weight", "monotonicity")


def attention_statistics(model, texts: Sequence[str], batch_size: int = 128) -> dict:
    """The attention health of `model` over `texts` (see the module docstring), plus `sentences`."""
    if not model.has_attention:
        raise NoAttentionError(
            f"this model has no attention (preset {model.model_config.preset}, attention none), so it has no "
            "attention statistics; train one with --attention luong-general (or --preset attention)."
        )
    texts = [text for text in texts if model.source_vocab.encode(text)]
    outputs = greedy_output_ids(model, texts)
    per_sentence = []
    for start in range(0, len(texts), batch_size):
        per_sentence.extend(
            _batch_weights(model, texts[start : start + batch_size], outputs[start : start + batch_size])
        )
    return summarise(per_sentence)


def greedy_output_ids(model, texts) -> list[list[int]]:
    """The ids of each text's greedy translation, without the end id."""
    vocab = model.target_vocab
    outputs = []
    for ids, _ in model.translator.search_ids(texts, SearchConfig()):
        row = []
        for token in ids[0]:
            if int(token) in (vocab.end_id, vocab.pad_id):
                break
            row.append(int(token))
        outputs.append(row)
    return outputs


def _batch_weights(model, texts, outputs) -> list[np.ndarray]:
    """Each sentence's weights `(output steps, source length)` over its real tokens, given its output ids."""
    sources = [model.source_vocab.encode(text) for text in texts]
    targets = [[model.target_vocab.start_id] + list(output) for output in outputs]
    states, memory = model.encode(pad_batch(sources))
    weights = to_host(model.decoder(pad_batch(targets), states, memory)[2], dtype="float64")
    return [weights[i, : len(target), : len(source)] for i, (source, target) in enumerate(zip(sources, targets))]


def summarise(per_sentence: Sequence[np.ndarray]) -> dict:
    """The statistics of per-sentence weight matrices `(output steps, source length)`."""
    first, entropy, largest, monotonicity = [], [], [], []
    for weights in per_sentence:
        first.append(weights[:, 0].mean())
        largest.append(weights.max(axis=1).mean())
        if weights.shape[1] > 1:
            step_entropy = -(weights * np.log(np.clip(weights, 1e-12, None))).sum(axis=1)
            entropy.append(float(step_entropy.mean() / np.log(weights.shape[1])))
        if weights.shape[0] >= 3 and weights.shape[1] > 1:
            monotonicity.append(_rank_correlation(np.arange(weights.shape[0]), weights.argmax(axis=1)))
    values = (first, entropy, largest, monotonicity)
    stats = {name: round(float(np.mean(v)), 4) if v else None for name, v in zip(STAT_NAMES, values)}
    return {**stats, "sentences": len(per_sentence)}


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); 0 where either side is constant."""
    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def format_statistics(stats: dict) -> str:
    """One line for people: `attention: first-token weight 0.12, entropy 0.41, ...`."""

    def shown(value):
        return "n/a" if value is None else f"{value:.3f}"

    return (
        f"attention: first-token weight {shown(stats['first_token_weight'])}, entropy {shown(stats['entropy'])}, "
        f"max weight {shown(stats['max_weight'])}, monotonicity {shown(stats['monotonicity'])} "
        f"({stats['sentences']} sentences)"
    )
