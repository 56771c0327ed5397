"""`seq2seq train`: train a model on a corpus and save it; a time budget or Ctrl-C writes the best model."""

from __future__ import annotations

import contextlib
import sys
from argparse import BooleanOptionalAction

from seq2seq.cli.arguments import UsageError, add_force_option, positive_int, read_corpus_given
from seq2seq.cli.tuning import add_tuning_options, load_base_model, tune
from seq2seq.config import ATTENTIONS, BRIDGES, CELLS, LR_SCHEDULES, SELECT_BY, TOKENIZERS, settings_keys

_SETTING_FLAGS = set(settings_keys())  # `train` flags that may also come from --config
UNTIL_TIME_IS_UP = 100_000  # the epochs of a training given --max-time but no --epochs
MAX_LINE_LENGTH = 1000  # characters per side before a pair is left out: 13 times the real corpus's longest (78)
INPUT_SETTINGS = ("data", "source_file", "target_file", "validation_file", "source_embeddings", "target_embeddings")
DEFAULT_PRESET = "attention"  # it beat `classic` on held-out BLEU at equal training time (18.1 against 5.0 greedy)


def add_command(commands) -> None:
    train = commands.add_parser("train", help="train a model on a corpus and save it")
    train.add_argument("data", nargs="?", help="a Tatoeba/Anki file: source<TAB>target[<TAB>attribution] per line")
    train.add_argument("--config", help="a YAML file of settings (see examples/train.yaml); flags override it")
    data = train.add_argument_group("data")
    data.add_argument("--source-file", help="line-aligned parallel files: the source side")
    data.add_argument("--target-file", help="line-aligned parallel files: the target side")
    data.add_argument("--out", help="where to write the model (.keras)")
    data.add_argument("--limit", type=positive_int, help="use only the first N pairs")
    data.add_argument("--skip-bad-lines", action="store_true", default=None, help="skip and count malformed lines")
    data.add_argument(
        "--max-source-length",
        type=positive_int,
        default=MAX_LINE_LENGTH,
        metavar="CHARS",
        help=f"leave out pairs whose source is longer ({MAX_LINE_LENGTH:,})",
    )
    data.add_argument(
        "--max-target-length",
        type=positive_int,
        default=MAX_LINE_LENGTH,
        metavar="CHARS",
        help=f"leave out pairs whose target is longer ({MAX_LINE_LENGTH:,})",
    )
    data.add_argument(
        "--overlong",
        choices=["skip", "refuse"],
        default="skip",
        help="skip and count pairs over those lengths (default), or stop at the first with its line",
    )
    add_force_option(data)
    model = train.add_argument_group("model")
    model.add_argument("--preset", help="named architecture: attention (default), bidirectional, classic")
    model.add_argument("--cell", choices=CELLS)
    model.add_argument("--units", type=positive_int, help="width of each encoder layer (per direction)")
    model.add_argument("--layers", type=positive_int, help="encoder depth (and decoder depth)")
    model.add_argument("--decoder-layers", type=positive_int, help="decoder depth, where it differs")
    model.add_argument("--bidirectional", action="store_true", default=None, help="bidirectional encoder")
    model.add_argument("--bridge", choices=BRIDGES, help="encoder final states -> decoder initial states")
    model.add_argument("--attention", choices=ATTENTIONS)
    model.add_argument("--embedding-dim", type=positive_int, help="embed tokens (default: one-hot)")
    model.add_argument("--dropout", type=float)
    model.add_argument("--tokenizer", choices=TOKENIZERS)
    model.add_argument("--lowercase", action="store_true", default=None)
    model.add_argument("--vocab-size", type=positive_int, help="word: most frequent kept; subword: pieces (8000)")
    # On with the attention preset; --no-... switches off; not given (None, argparse's default) leaves it to the preset.
    model.add_argument(
        "--joint-vocab", action=BooleanOptionalAction, help="one vocabulary of both sides' text (same ids)"
    )
    model.add_argument(
        "--tie-embeddings",
        action=BooleanOptionalAction,
        help="the target embedding is the output projection (and the source's too with --joint-vocab)",
    )
    training = train.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int)
    sizes = training.add_mutually_exclusive_group()  # a settings file giving both: batch_tokens wins
    sizes.add_argument("--batch-size", type=positive_int, help="pairs per step (64)")
    sizes.add_argument("--batch-tokens", type=positive_int, metavar="N", help="or: steps of at most N target tokens")
    training.add_argument("--learning-rate", type=float, help="Adam's base rate (default 0.003)")
    training.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES, help="decay to zero at the end: linear (default), cosine, or constant"
    )
    training.add_argument(
        "--lr-decay-start", type=float, help="share of the training at the base rate before the decay (default 0.5)"
    )
    training.add_argument(
        "--validate-every", type=positive_int, metavar="N", help="also validate every N steps, keeping the best"
    )
    training.add_argument(
        "--select-by", choices=SELECT_BY, help="keep the best validation loss (default), or greedy BLEU or chrF"
    )
    training.add_argument(
        "--average-last", type=positive_int, metavar="K", help="try the mean of the last K epochs' weights at the end"
    )
    training.add_argument("--validation-split", type=float, help="share of source sentences held out (0.2)")
    training.add_argument("--max-validation-sources", type=positive_int, help="but at most this many (1000)")
    training.add_argument("--validation-file", help="validate on this Tatoeba/Anki file instead (nothing is split off)")
    training.add_argument("--seed", type=int)
    training.add_argument("--min-frequency", type=positive_int)
    training.add_argument("--source-embeddings", help="word vectors (GloVe/word2vec text) for the source side")
    training.add_argument("--target-embeddings", help="word vectors (GloVe/word2vec text) for the target side")
    training.add_argument(
        "--patience", type=positive_int, help="early stopping: epochs without a better validation loss"
    )
    training.add_argument("--reduce-lr-patience", type=positive_int, help="halve the learning rate after N flat epochs")
    training.add_argument("--clip-norm", type=float, help="clip gradients to this global norm")
    training.add_argument("--max-time", help="stop after this long (90s, 20m, 1.5h) and write the best model")
    training.add_argument("--label-smoothing", type=float, help="e.g. 0.1")
    training.add_argument("--checkpoint-dir", help="checkpoint every epoch here (default: <out>.checkpoints)")
    training.add_argument("--logdir", help="write TensorBoard logs here")
    training.add_argument("--resume", action="store_true", help="continue from the last checkpoint of this run")
    training.add_argument(
        "--distribute",
        choices=["mirrored", "multi-worker"],
        help="train on all local devices, or on several workers (TF_CONFIG, or JAX's --coordinator)",
    )
    training.add_argument("--coordinator", metavar="HOST:PORT", help="JAX multi-worker: process 0's address")
    training.add_argument("--num-processes", type=positive_int, help="JAX multi-worker: how many processes")
    training.add_argument("--process-id", type=int, help="JAX multi-worker: this process's index, 0 to N-1")
    training.add_argument(
        "--mixed-precision", action="store_true", default=None, help="bfloat16 maths, float32 weights"
    )
    add_tuning_options(train)
    train.set_defaults(run=run_train)


def run_train(args) -> int:
    from seq2seq.atomic_files import exclusive_use, prepare_destination, prepare_folder
    from seq2seq.config import parse_duration, read_settings_file
    from seq2seq.devices import device_line
    from seq2seq.errors import ModelFileError
    from seq2seq.models.format import prepare_model_destination
    from seq2seq.training.distribution import is_chief, join_cluster, split_cpu_from_environment
    from seq2seq.training.process_setup import configure_training_threads
    from seq2seq.training.stopping import StopTraining, stop_on_signals
    from seq2seq.training.workers import save_nowhere

    split_cpu_from_environment()
    join_cluster(args.coordinator, args.num_processes, args.process_id)  # before JAX computes anything
    configure_training_threads()
    settings = read_settings_file(args.config) if args.config else {}
    settings.update({key: value for key, value in vars(args).items() if value is not None and key in _SETTING_FLAGS})
    if not settings.get("out"):
        raise UsageError("seq2seq train: the following arguments are required: --out (or `out:` in --config)")
    out = settings["out"]
    settings["checkpoint_dir"] = settings.get("checkpoint_dir") or f"{out}.checkpoints"
    base = load_base_model(args, settings)
    inputs = [args.config, args.base_model, *(settings.get(key) for key in INPUT_SETTINGS)]
    chief = is_chief(distributed_as(args, settings))  # the other workers of a run write nothing
    if chief:
        prepare_model_destination(out)
        prepare_destination(out, ModelFileError, kind="model", inputs=inputs, force=args.force)
        prepare_folder(settings["checkpoint_dir"], "checkpoint folder")
    # Held until the end, so a second training on this --out or checkpoint folder fails at once.
    with contextlib.ExitStack() as held:
        if chief:
            held.enter_context(exclusive_use(out, "training"))
            held.enter_context(exclusive_use(settings["checkpoint_dir"], "training"))
        print(device_line(), flush=True)  # which device trains, and a hint where a GPU sits unused
        corpus = read_training_corpus(args, settings)
        verbose = "auto" if sys.stdout.isatty() else 2  # one line per epoch in logs and pipes
        max_time = settings.get("max_time")
        if max_time is not None and "epochs" not in settings:
            settings["epochs"] = UNTIL_TIME_IS_UP  # a time budget alone: train until it is spent
        # Saving stays inside the block: a second signal while the model is written aborts it too.
        with stop_on_signals(StopTraining(None if max_time is None else parse_duration(max_time))) as stopper:
            model = train_or_resume(args, settings, corpus, verbose, stopper, base)
            if not chief:
                save_nowhere(model)
                print("Trained with the other workers; worker 0 (the chief) saves the model.")
                return 0
            save_trained(model, out, settings["checkpoint_dir"])
            write_history(out, model.training_summary.get("history") or {})
            stopped = f"Stopped: {stopper.reason}. " if stopper.reason else ""
            print(f"{stopped}Saved {out} ({describe_result(model.training_summary)}).")
    return 0


def distributed_as(args, settings: dict) -> str | None:
    """How this training is distributed: as asked, or for --resume as the checkpointed run was."""
    from seq2seq.errors import Seq2SeqError
    from seq2seq.training.checkpoints import read_state

    if settings.get("distribute") or not args.resume:
        return settings.get("distribute")
    try:
        return read_state(settings["checkpoint_dir"])["train_config"].get("distribute")
    except Seq2SeqError:
        return None  # the resume itself says what is wrong


def read_training_corpus(args, settings: dict):
    """The training pairs, with one line saying how many were read and how many were left out and why."""
    corpus = read_corpus_given(
        "seq2seq train",
        settings.get("data"),
        settings.get("source_file"),
        settings.get("target_file"),
        limit=settings.get("limit"),
        skip_bad_lines=bool(settings.get("skip_bad_lines")),
        max_source_length=args.max_source_length,
        max_target_length=args.max_target_length,
        overlong=args.overlong,
    )
    skipped = f", {corpus.skipped} malformed lines skipped" if corpus.skipped else ""
    if corpus.overlong:
        skipped += (
            f", {corpus.overlong} pair{'s' if corpus.overlong != 1 else ''} over {args.max_source_length:,} source "
            f"or {args.max_target_length:,} target characters skipped (--max-source-length, --max-target-length)"
        )
    print(f"Read {len(corpus)} pairs from {' and '.join(corpus.sources)}{skipped}.")
    return corpus


def save_trained(model, out: str, checkpoint_dir: str) -> None:
    """Write the trained model; where that fails, say which checkpoint still holds the training."""
    from seq2seq.errors import ModelFileError, Seq2SeqError
    from seq2seq.training.checkpoints import best_checkpoint, read_state

    try:
        model.save(out)
    except ModelFileError as error:
        try:
            state = read_state(checkpoint_dir)
            kept = best_checkpoint(checkpoint_dir, state) or f"{checkpoint_dir}/{state['checkpoint']}"
        except Seq2SeqError:
            raise error from None
        raise ModelFileError(
            f"{str(error).removesuffix('.')}; the training is not lost: its best checkpoint is {kept} "
            "(a whole model: copy it where you want it)"
        ) from None


def describe_result(summary: dict) -> str:
    """What was saved: the best epoch and its validation figure, or its training loss where nothing was held out."""
    from seq2seq.training.selection import describe_best

    if summary.get("validation_pairs") == 0 and not summary.get("averaged_epochs"):
        loss = (
            summary.get("final_training_loss")
            if summary.get("best_validation_loss") is None
            else summary["best_validation_loss"]
        )
        return (
            f"best epoch {summary.get('best_epoch')}, training loss {loss}; "
            "nothing was held out for validation: --validation-split 0"
        )
    return describe_best(summary)


def train_or_resume(args, settings: dict, corpus, verbose, stopper, base=None):
    """The model of `seq2seq train`: a new training, the resumed one, or `base` fine-tuned."""
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.training.fit import resume, train
    from seq2seq.training.sizes import check_fits

    if base is not None:
        return tune(base, args, settings, corpus, verbose, stopper)
    if args.resume:
        return resume(
            corpus.pairs,
            settings["checkpoint_dir"],
            epochs=settings.get("epochs"),
            verbose=verbose,
            callbacks=[stopper],
        )
    model_values = {key: settings[key] for key in ModelConfig.field_names() if key in settings and key != "preset"}
    model_config = ModelConfig.from_preset(settings.get("preset", DEFAULT_PRESET), **model_values)
    train_values = {key: settings[key] for key in TrainConfig.field_names() if key in settings}
    train_config = TrainConfig(**train_values, verbose=verbose)
    check_fits(model_config, corpus.pairs, train_config.batch_size, train_config.batch_tokens)  # before building
    description = f"{len(corpus)} pairs from {', '.join(corpus.sources)}"
    return train(corpus.pairs, model_config, train_config, callbacks=[stopper], data_description=description)


def write_history(model_path: str, history: dict) -> None:
    """The per-epoch losses beside the model: `<model>.history.json` and a plot, `<model>.history.png`."""
    import json

    from seq2seq.atomic_files import write_atomically_with, write_text_atomically

    if not history:
        return
    base = str(model_path).removesuffix(".keras")
    write_text_atomically(f"{base}.history.json", json.dumps(history, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for key in ("loss", "val_loss"):
        if key in history:
            axes.plot(range(1, len(history[key]) + 1), history[key], marker="o", label=key.replace("_", " "))
    axes.set_xlabel("epoch")
    axes.set_ylabel("cross-entropy per real token")
    axes.legend()
    figure.tight_layout()
    write_atomically_with(f"{base}.history.png", lambda temporary: figure.savefig(temporary, dpi=100, format="png"))
    plt.close(figure)
