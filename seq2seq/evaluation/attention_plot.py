"""Attention pictures: which source tokens each output token looked at."""

from __future__ import annotations

import numpy as np

from seq2seq.atomic_files import write_atomically_with
from seq2seq.errors import Seq2SeqError
from seq2seq.host import to_host_tree
from seq2seq.translation.translator import default_max_length


class NoAttentionError(Seq2SeqError):
    """The model has no attention, so there is no picture to draw."""


def attention_matrix(model, text: str, max_length: int | None = None):
    """Greedy-translate `text` step by step with the inference models.

    Returns (source tokens, output ids, weights `(outputs, sources)`); the output ids end with
    the end id where the translation ended.
    """
    if not model.has_attention:
        raise NoAttentionError(
            f"this model has no attention (preset {model.model_config.preset}, attention none), so it has no "
            "attention picture; train one with --attention luong-general (or --preset attention)."
        )
    ids = model.source_vocab.encode(text)
    limit = max_length or default_max_length(len(ids))
    # On the host between steps: one sentence, and on PyTorch no autograd graph grows through the loop.
    encoded = to_host_tree(list(model.encoder_model(np.array([ids], dtype="int32"))))
    count = len(model.state_names)
    states, memory = encoded[:count], encoded[count:]
    token, tokens, rows = model.target_vocab.start_id, [], []
    for _ in range(limit):
        outputs = to_host_tree(list(model.decoder_model([np.array([[token]], dtype="int32")] + states + memory)))
        probabilities, states, weights = outputs[0], outputs[1 : 1 + count], outputs[-1]
        token = int(np.argmax(probabilities[0, -1]))
        rows.append(weights[0, -1, : len(ids)])
        tokens.append(token)
        if token == model.target_vocab.end_id:
            break
    source_tokens = [display_token(t) for t in model.source_vocab.tokenizer.tokenize(text)]
    return source_tokens, tokens, np.stack(rows) if rows else np.zeros((0, len(ids)))


def plot_attention(model, text: str, path, max_length: int | None = None) -> str:
    """Draw the attention matrix of `text`'s greedy translation to an image file; return the translation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source_tokens, output_ids, weights = attention_matrix(model, text, max_length)
    output_tokens = [display_token(model.target_vocab.tokens[t]) for t in output_ids]
    figure, axes = plt.subplots(figsize=(max(4, 0.45 * len(source_tokens) + 2), max(3, 0.4 * len(output_tokens) + 1.5)))
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(source_tokens)), source_tokens, rotation=90)
    axes.set_yticks(range(len(output_tokens)), output_tokens)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    write_atomically_with(path, lambda temporary: figure.savefig(temporary, dpi=120, format=_format(path)))
    plt.close(figure)
    return model.target_vocab.decode(output_ids)


def display_token(token: str) -> str:
    """A token as a reader should see it (without word-joiner or subword markers)."""
    return token.replace("\uffed", "").replace("\u2581", "") or token


def _format(path) -> str:
    suffix = str(path).rsplit(".", 1)[-1].lower()
    return suffix if suffix in ("png", "svg", "pdf", "jpg", "jpeg") else "png"
