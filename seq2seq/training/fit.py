"""Training: vocabularies from the training pairs, `keras.Model.fit`, the best epoch kept."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import keras

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.data import vocabulary
from seq2seq.data.corpus import split_pairs
from seq2seq.data.pipeline import EncodedPairs, training_dataset
from seq2seq.data.vocabulary import Vocabulary
from seq2seq.errors import ConfigError
from seq2seq.models.compile_objects import Adam, SmoothedTokenCrossentropy, TokenAccuracy
from seq2seq.models.loading import load
from seq2seq.models.seq2seq import Seq2Seq
from seq2seq.training.callbacks import training_callbacks
from seq2seq.training.checkpoints import (
    STATE_FILE,
    CheckpointError,
    best_checkpoint,
    read_state,
    remove_leftovers,
)
from seq2seq.training.distribution import placement_for, precision_policy
from seq2seq.training.pretrained import load_pretrained_embeddings
from seq2seq.training.process_setup import enable_compilation_cache
from seq2seq.training.selection import (
    MONITORS,
    KeepBestWeights,
    RememberLast,
    StepValidation,
    ValidationScores,
    Validator,
    average_into_best,
)
from seq2seq.training.stopping import StopTraining
from seq2seq.training.workers import AgreeToStop, build_before_fit, stop_on_lost_peers, worker_settings


def validation_split(pairs, train_config: TrainConfig) -> tuple[list, list]:
    """(training pairs, validation pairs): the pairs of `validation_file` where one is given, else
    `validation_split` of the sources, at most `max_validation_sources`."""
    if train_config.validation_file:
        from seq2seq.data.corpus import read_corpus

        return list(pairs), read_corpus(train_config.validation_file).pairs
    return split_pairs(
        list(pairs),
        train_config.validation_split,
        seed=train_config.seed,
        most_sources=train_config.max_validation_sources,
    )


def new_run_split(pairs, train_config: TrainConfig) -> tuple[list, list]:
    """`validation_split` for a run that starts afresh: refused where its checkpoint folder holds an earlier run's,
    or where no training pair is left."""
    if train_config.checkpoint_dir and (Path(train_config.checkpoint_dir) / STATE_FILE).exists():
        raise CheckpointError(
            f"{train_config.checkpoint_dir} holds checkpoints of an earlier run; pass --resume to continue it, "
            "or remove it (or choose another --checkpoint-dir) to start again."
        )
    train_pairs, validation_pairs = validation_split(pairs, train_config)
    if not train_pairs:
        raise ConfigError("there are no training pairs left; give more data or a smaller validation split.")
    return train_pairs, validation_pairs


def build_vocabularies(pairs, model_config: ModelConfig, train_config: TrainConfig) -> tuple[Vocabulary, Vocabulary]:
    """Source and target vocabularies counted on `pairs` (one shared by both sides with `joint_vocab`)."""
    return vocabulary.build_vocabularies(
        [pair[0] for pair in pairs],
        [pair[1] for pair in pairs],
        model_config.tokenizer,
        model_config.lowercase,
        model_config.effective_vocab_size,
        train_config.min_frequency,
        joint=model_config.joint_vocab,
    )


def training_loss(train_config: TrainConfig) -> keras.losses.Loss:
    """Cross-entropy (label-smoothed if asked), the mean over real target tokens: padding (id 0) counts for nothing."""
    if train_config.label_smoothing or keras.backend.backend() == "torch":  # Keras' moves the vocabulary axis there
        return SmoothedTokenCrossentropy(train_config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)


def compile_for_training(model: Seq2Seq, train_config: TrainConfig) -> None:
    """Adam on dense gradients (clipped to a global norm if asked), cross-entropy over real tokens, token accuracy."""
    model.compile(
        optimizer=Adam(learning_rate=train_config.learning_rate, global_clipnorm=train_config.clip_norm),
        loss=training_loss(train_config),
        metrics=[TokenAccuracy()],
    )


def train(
    pairs: Sequence[tuple[str, str]],
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    data_description: str = "",
) -> Seq2Seq:
    """Train a new model on `pairs` and return it with the weights of its best epoch."""
    model_config = model_config or ModelConfig()
    train_config = train_config or TrainConfig()
    train_pairs, validation_pairs = new_run_split(pairs, train_config)
    enable_compilation_cache()
    keras.utils.set_random_seed(train_config.seed)
    source_vocab, target_vocab = build_vocabularies(train_pairs, model_config, train_config)
    summary = {
        "data": data_description,
        "training_pairs": len(train_pairs),
        "validation_pairs": len(validation_pairs),
        "source_vocabulary": len(source_vocab),
        "target_vocabulary": len(target_vocab),
        **train_config.extra,
    }
    placement = placement_for(train_config.distribute)
    with placement.scope(), precision_policy(train_config.mixed_precision):
        model = Seq2Seq(model_config, source_vocab, target_vocab, training_summary=summary)
        model.training_summary.update(load_pretrained_embeddings(model, train_config))
        compile_for_training(model, train_config)
    encoded_train = EncodedPairs.encode(train_pairs, source_vocab, target_vocab)
    model.decoder.start_from_token_prior(encoded_train.target_token_counts(len(target_vocab), target_vocab.end_id))
    model.training_summary["replicas"] = placement.replicas
    return fit(model, encoded_train, validation_pairs, train_config, callbacks)


def resume(
    pairs: Sequence[tuple[str, str]],
    checkpoint_dir,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    epochs: int | None = None,
    verbose: int | str | None = None,
) -> Seq2Seq:
    """Continue an interrupted training from the newest checkpoint in `checkpoint_dir`.

    The model (with its optimizer state and vocabularies) and the settings come from the
    checkpoint; `pairs` must be the same corpus, which is split the same seeded way.
    """
    state = read_state(checkpoint_dir)
    # Runs checkpointed before validation was capped held out the whole share: split them the same way.
    # Runs from before the learning-rate decay kept a constant rate.
    settings = {
        "max_validation_sources": None,
        "lr_schedule": "constant",
        **state["train_config"],
        "checkpoint_dir": str(checkpoint_dir),
    }
    if epochs is not None:
        settings["epochs"] = epochs
    if verbose is not None:
        settings["verbose"] = verbose
    train_config = TrainConfig(**settings)
    enable_compilation_cache()
    placement = placement_for(train_config.distribute)
    if placement.chief:  # the others may share the folder: it is the chief's
        remove_leftovers(checkpoint_dir)
    keras.utils.set_random_seed(train_config.seed + state["epoch"])  # every worker builds the same random state
    with placement.scope():
        model = load(Path(checkpoint_dir) / state["checkpoint"])
    train_pairs, validation_pairs = validation_split(pairs, train_config)
    keras.utils.set_random_seed(train_config.seed + state["epoch"])
    best = {
        "best_value": state["best_value"],
        "best_epoch": state["best_epoch"],
        "best_step": state.get("best_step"),
        "best_file": best_checkpoint(checkpoint_dir, state),
    }
    return fit(model, train_pairs, validation_pairs, train_config, callbacks, state["epoch"], state["history"], best)


def compiles_per_shape(model) -> bool:
    """Whether `model`'s training and validation steps are compiled once per input shape.

    So they are under XLA (JAX; TensorFlow where Keras turns `jit_compile` on, as on a GPU
    without cuDNN layers) and `torch.compile`; TensorFlow on a CPU traces once for all shapes.
    """
    return bool(model.jit_compile)


def training_batches(
    model: Seq2Seq,
    pairs,
    batch_size: int,
    seed: int | None = None,
    first_epoch: int = 0,
    fixed_shapes=None,
    placement=None,
    batch_tokens=None,
):
    """Length-bucketed teacher-forcing batches of `pairs` (texts, or `EncodedPairs`) for `model`, from epoch
    `first_epoch` on.

    Shuffled when `seed` is given, each epoch by `(seed, epoch)`. With `fixed_shapes` (default:
    where the model compiles per shape, and on several replicas) one shape per bucket (see
    `seq2seq.data.pipeline`). A `placement` of several replicas gets batch sizes it divides, and
    on JAX each process its own rows; with `batch_tokens`, at most that many target positions (not `batch_size`).
    """
    replicas = placement.replicas if placement else 1
    encoded = (
        pairs if isinstance(pairs, EncodedPairs) else EncodedPairs.encode(pairs, model.source_vocab, model.target_vocab)
    )
    return training_dataset(
        encoded,
        batch_size,
        start_id=model.target_vocab.start_id,
        end_id=model.target_vocab.end_id,
        shuffle=seed is not None,
        seed=seed or 0,
        fixed_shapes=(compiles_per_shape(model) or replicas > 1) if fixed_shapes is None else fixed_shapes,
        first_epoch=first_epoch,
        replicas=replicas,
        shard=placement.shard if placement else (0, 1),
        batch_tokens=batch_tokens,
    )


def fit(model, train_pairs, validation_pairs, train_config, callbacks=(), initial_epoch=0, history=None, best=None):
    """Teacher-forced `keras.Model.fit` from `initial_epoch`; the best weights are kept (see
    `seq2seq.training.selection`); on several workers, each as its place says (`seq2seq.training.workers`)."""
    placement = placement_for(train_config.distribute)
    with worker_settings(train_config, placement) as settings:
        return _fit(model, train_pairs, validation_pairs, settings, callbacks, initial_epoch, history, best, placement)


def _fit(model, train_pairs, validation_pairs, train_config, callbacks, initial_epoch, history, best, placement):
    size, tokens = train_config.batch_size, train_config.batch_tokens
    batches = training_batches(
        model, train_pairs, size, train_config.seed, initial_epoch, placement=placement, batch_tokens=tokens
    )
    validation = (
        training_batches(model, validation_pairs, size, placement=placement, batch_tokens=tokens)
        if validation_pairs
        else None
    )
    select_by = train_config.select_by if validation else "loss"
    monitor = MONITORS[select_by] if validation else "loss"
    keep_best = KeepBestWeights(monitor, mode="min" if select_by == "loss" else "max", **(best or {}))
    if validation and placement.shard[1] > 1:  # each process reads its own rows; a validator reads them all
        validator = Validator(training_batches(model, validation_pairs, size, batch_tokens=tokens), validation_pairs)
    else:
        validator = Validator(validation, validation_pairs) if validation else None
    selection, remembered, between = [], None, None
    if validator and select_by != "loss":
        selection.append(ValidationScores(validator))  # before keep_best: it adds the scores to the epoch's logs
    if validator and train_config.validate_every:
        between = StepValidation(
            train_config.validate_every, validator, keep_best, select_by, verbose=train_config.verbose != 0
        )
        selection.append(between)
    if validator and train_config.average_last:
        remembered = RememberLast(train_config.average_last)
        selection.append(remembered)
    callbacks = list(callbacks)
    stopper = next((c for c in callbacks if isinstance(c, StopTraining)), None)
    if stopper is None and (train_config.max_time or placement.workers > 1):  # a worker learns why it stopped
        stopper = StopTraining(train_config.max_time)
        callbacks.append(stopper)
    callbacks.append(AgreeToStop(placement, stopper))  # last: after any callback that asks to stop
    build_before_fit(model, placement)
    started = time.perf_counter()
    with placement.scope(), stop_on_lost_peers(placement):
        fitted = model.fit(
            batches,
            validation_data=validation,
            epochs=train_config.epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # the dataset shuffles itself, seeded
            callbacks=selection + training_callbacks(train_config, keep_best, monitor, history or {}) + callbacks,
            verbose=train_config.verbose,
        )
    averaged = average_into_best(model, remembered, validator, keep_best, select_by) if remembered else None
    history = {
        key: list((history or {}).get(key, [])) + [float(v) for v in values] for key, values in fitted.history.items()
    }
    found = keep_best.best_epoch is not None
    model.training_summary.update(
        {
            "epochs": initial_epoch + len(fitted.epoch),
            "seconds": round(time.perf_counter() - started, 1),
            "best_epoch": keep_best.best_epoch,
            "best_step": keep_best.best_step,
            "averaged_epochs": averaged,
            "validations_between_epochs": None if between is None else [list(point) for point in between.measured],
            "selected_by": select_by,
            "stopped_early": None if stopper is None else stopper.reason,
            "best_validation_loss": round(keep_best.best_value, 4) if found and select_by == "loss" else None,
            "best_validation_score": round(keep_best.best_value, 2) if found and select_by != "loss" else None,
            "final_training_loss": round(history["loss"][-1], 4) if history.get("loss") else None,
            "history": history,
        }
    )
    return model
