"""Pretrained word vectors (GloVe / word2vec text) as the starting embeddings of a new model."""

from __future__ import annotations

from seq2seq.config import TrainConfig
from seq2seq.data.embeddings import embedding_matrix
from seq2seq.errors import ConfigError


def load_pretrained_embeddings(model, train_config: TrainConfig) -> dict:
    """Initialise the embeddings from word-vector files (GloVe / word2vec text); report coverage."""
    report = {}
    config = model.model_config
    if (
        config.joint_vocab
        and config.tie_embeddings
        and train_config.source_embeddings
        and train_config.target_embeddings
    ):
        raise ConfigError(
            "a joint vocabulary with tied embeddings has one matrix for both sides: give --source-embeddings or "
            "--target-embeddings, not both (or train separate ones: --no-joint-vocab --no-tie-embeddings)."
        )
    sides = (("source", model.encoder, model.source_vocab), ("target", model.decoder, model.target_vocab))
    for side, stack, vocabulary in sides:
        path = getattr(train_config, f"{side}_embeddings")
        if path is None:
            continue
        if model.model_config.embedding_dim is None:
            raise ConfigError(
                f"--{side}-embeddings needs embedded inputs; pass --embedding-dim with the vectors' size."
            )
        matrix, found = embedding_matrix(vocabulary, path, model.model_config.embedding_dim, seed=train_config.seed)
        stack.token_input.embeddings.assign(matrix)
        report[f"{side}_embeddings"] = f"{path}: {found} of {len(vocabulary) - 4} tokens found"
    return report
