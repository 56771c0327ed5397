"""`seq2seq train --from BASE.keras [--freeze embeddings|encoder]`: fine-tune a trained model on new data.

The base model's vocabularies and architecture are kept (`seq2seq.training.finetuning`), so an
option that would change them is refused by name rather than silently ignored.
"""

from __future__ import annotations

from seq2seq.cli.arguments import UsageError
from seq2seq.config import ModelConfig

KEPT_FROM_BASE = (*ModelConfig.field_names(), "preset", "min_frequency", "source_embeddings", "target_embeddings")


def add_tuning_options(train) -> None:
    """The fine-tuning group of `seq2seq train`'s options."""
    tuning = train.add_argument_group("fine-tuning")
    tuning.add_argument(
        "--from",
        dest="base_model",
        metavar="MODEL.keras",
        help="fine-tune this trained model on the data: its vocabularies and architecture are kept; "
        "--learning-rate defaults to 0.001 (a third of a new training's)",
    )
    tuning.add_argument(
        "--freeze",
        choices=["embeddings", "encoder"],
        help="with --from: keep the token embeddings, or the embeddings and the encoder, as they are",
    )


def load_base_model(args, settings: dict):
    """The model `--from` names, loaded (None without `--from`); options that would change it are refused."""
    from seq2seq.errors import ModelFileError
    from seq2seq.models.loading import load

    if args.base_model is None:
        if args.freeze:
            raise UsageError("seq2seq train: --freeze needs --from MODEL.keras, the trained model to fine-tune")
        return None
    given = [key for key in KEPT_FROM_BASE if key in settings]
    if given:
        key = given[0]
        value = getattr(args, key, None)  # None: not on the command line, so from the settings file
        switch = "--no-" if value is False else "--"  # --no-joint-vocab and --no-tie-embeddings give False
        flag = f"{switch}{key.replace('_', '-')}" if value is not None else f"`{key}:` in {args.config}"
        raise UsageError(
            f"seq2seq train: {flag} cannot be combined with --from: a fine-tuning keeps the base model's "
            "architecture and vocabularies; leave it out, or train a new model without --from"
        )
    if args.resume:
        raise UsageError("seq2seq train: --resume continues a fine-tuning from its checkpoints; leave out --from")
    try:
        return load(args.base_model)
    except ModelFileError as error:
        raise ModelFileError(f"--from: {error}") from None


def tune(base, args, settings: dict, corpus, verbose, stopper):
    """Fine-tune `base` on the corpus with the training settings given (a lower learning rate by default)."""
    from seq2seq.config import TrainConfig
    from seq2seq.training.finetuning import coverage_message, fine_tune, fine_tuning_config, vocabulary_coverage

    values = {key: settings[key] for key in TrainConfig.field_names() if key in settings}
    print(coverage_message(vocabulary_coverage(base, corpus.pairs)), flush=True)
    return fine_tune(
        base,
        corpus.pairs,
        fine_tuning_config(**values, verbose=verbose),
        args.freeze,
        callbacks=[stopper],
        data_description=f"{len(corpus)} pairs from {', '.join(corpus.sources)}",
    )
