"""The `seq2seq` command: thin sub-commands over the library (train, translate, encode, evaluate, demo, info, serve, export).

A mistake a user can make ends with one line on standard error and exit status 2;
`--debug` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import warnings

from seq2seq.config import ATTENTIONS, BRIDGES, CELLS, LR_SCHEDULES, SELECT_BY, TOKENIZERS, settings_keys
from seq2seq.encode_command import add_encode_command
from seq2seq.errors import Seq2SeqError

USAGE_ERROR = 2
INTERRUPTED = 130  # the shell's status for a program ended by Ctrl-C
_SETTING_FLAGS = set(settings_keys())  # `train` flags that may also come from --config
UNTIL_TIME_IS_UP = 100_000  # the epochs of a training given --max-time but no --epochs
DEFAULT_PRESET = "attention"  # it beat `classic` on held-out BLEU at equal training time (18.1 against 5.0 greedy)


class UsageError(Seq2SeqError):
    """A command-line argument is missing or invalid."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    if not debug:
        warnings.showwarning = show_warning_on_one_line
    try:
        args = build_parser().parse_args(argv)
        if not hasattr(args, "run"):
            raise UsageError("seq2seq: choose a command: train, translate, encode, evaluate, average, demo, info, serve or export (see seq2seq --help)")
        quiet_tensorflow(debug)
        return args.run(args) or 0
    except (Seq2SeqError, OSError) as error:
        if debug:
            raise
        message = str(error) if isinstance(error, Seq2SeqError) else f"{getattr(error, 'filename', '') or ''}: {error.strerror or error}".lstrip(": ")
        print(f"seq2seq: error: {message}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("seq2seq: interrupted", file=sys.stderr)
        return INTERRUPTED


def show_warning_on_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"seq2seq: warning: {message}", file=sys.stderr)


def build_parser() -> Parser:
    parser = Parser(prog="seq2seq", description="Sequence-to-sequence learning with recurrent encoder-decoders on Keras 3.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and library logs")
    commands = parser.add_subparsers(title="commands", parser_class=Parser)
    add_train_command(commands)
    add_translate_command(commands)
    add_encode_command(commands)
    add_demo_command(commands)
    add_evaluate_command(commands)
    add_average_command(commands)
    add_info_command(commands)
    add_serve_command(commands)
    add_export_command(commands)
    return parser


def add_train_command(commands) -> None:
    train = commands.add_parser("train", help="train a model on a corpus and save it")
    train.add_argument("data", nargs="?", help="a Tatoeba/Anki file: source<TAB>target[<TAB>attribution] per line")
    train.add_argument("--config", help="a YAML file of settings (see examples/train.yaml); flags override it")
    data = train.add_argument_group("data")
    data.add_argument("--source-file", help="line-aligned parallel files: the source side")
    data.add_argument("--target-file", help="line-aligned parallel files: the target side")
    data.add_argument("--out", help="where to write the model (.keras)")
    data.add_argument("--limit", type=positive_int, help="use only the first N pairs")
    data.add_argument("--skip-bad-lines", action="store_true", default=None, help="skip and count malformed lines")
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
    training = train.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int)
    training.add_argument("--batch-size", type=positive_int)
    training.add_argument("--learning-rate", type=float, help="Adam's base rate (default 0.003)")
    training.add_argument("--lr-schedule", choices=LR_SCHEDULES, help="decay to zero at the end: linear (default), cosine, or constant")
    training.add_argument("--lr-decay-start", type=float, help="share of the training at the base rate before the decay (default 0.5)")
    training.add_argument("--validate-every", type=positive_int, metavar="N", help="also validate every N steps, keeping the best")
    training.add_argument("--select-by", choices=SELECT_BY, help="keep the best validation loss (default), or greedy BLEU or chrF")
    training.add_argument("--average-last", type=positive_int, metavar="K", help="try the mean of the last K epochs' weights at the end")
    training.add_argument("--validation-split", type=float, help="share of source sentences held out (0.2)")
    training.add_argument("--max-validation-sources", type=positive_int, help="but at most this many (1000)")
    training.add_argument("--validation-file", help="validate on this Tatoeba/Anki file instead (nothing is split off)")
    training.add_argument("--seed", type=int)
    training.add_argument("--min-frequency", type=positive_int)
    training.add_argument("--source-embeddings", help="word vectors (GloVe/word2vec text) for the source side")
    training.add_argument("--target-embeddings", help="word vectors (GloVe/word2vec text) for the target side")
    training.add_argument("--patience", type=positive_int, help="early stopping: epochs without a better validation loss")
    training.add_argument("--reduce-lr-patience", type=positive_int, help="halve the learning rate after N flat epochs")
    training.add_argument("--clip-norm", type=float, help="clip gradients to this global norm")
    training.add_argument("--max-time", help="stop after this long (90s, 20m, 1.5h) and write the best model")
    training.add_argument("--label-smoothing", type=float, help="e.g. 0.1")
    training.add_argument("--checkpoint-dir", help="checkpoint every epoch here (default: <out>.checkpoints)")
    training.add_argument("--logdir", help="write TensorBoard logs here")
    training.add_argument("--resume", action="store_true", help="continue from the last checkpoint of this run")
    training.add_argument("--distribute", choices=["mirrored", "multi-worker"], help="train on all local devices, or on the machines in TF_CONFIG")
    training.add_argument("--mixed-precision", action="store_true", default=None, help="bfloat16 maths, float32 weights")
    train.set_defaults(run=run_train)


def add_translate_command(commands) -> None:
    translate = commands.add_parser("translate", help="translate texts with a trained model")
    translate.add_argument("model", help="a model file written by seq2seq train; more .keras files after it decode as an ensemble")
    translate.add_argument("texts", nargs="*", help="texts to translate (default: one per line from standard input)")
    translate.add_argument("--interactive", action="store_true", help="type sentences at a prompt")
    translate.add_argument("--plot-attention", metavar="IMAGE", help="draw the attention of one text's translation (.png, .svg, .pdf)")
    add_search_options(translate)
    translate.set_defaults(run=run_translate)


def add_search_options(parser) -> None:
    """The SearchConfig fields as flags (shared by every command that decodes)."""
    search = parser.add_argument_group("search")
    search.add_argument("--beam", type=positive_int, help="beam size (default 1: greedy search)")
    search.add_argument("--nbest", type=positive_int, help="hypotheses printed per sentence (at most --beam)")
    search.add_argument("--length-penalty", type=float, help="GNMT alpha: ((5 + length) / 6) ** alpha")
    search.add_argument("--coverage-penalty", type=float,
                        help="GNMT beta (beam, attention models): beta x sum of log(min(attention received, 1)) over the source")
    search.add_argument("--min-length", type=int, help="tokens before the end may be chosen")
    search.add_argument("--max-length", type=positive_int, help="most tokens per output (default: 2 x source + 10)")
    search.add_argument("--no-repeat-ngram", type=int, help="forbid repeating n-grams of this size")
    search.add_argument("--sample", action="store_true", default=None, help="draw tokens at random")
    search.add_argument("--temperature", type=float)
    search.add_argument("--top-k", type=int)
    search.add_argument("--top-p", type=float)
    search.add_argument("--seed", type=int, help="the same seed gives the same samples")
    search.add_argument("--batch-size", type=positive_int, help="sentences decoded together (default 256)")
    search.add_argument("--scores", action="store_true", help="print index, score and text per hypothesis")
    search.add_argument("--strict", action="store_true", default=None, help="refuse tokens outside the vocabulary")


def search_settings(args):
    """A SearchConfig from the search flags that were given."""
    from seq2seq.search.config import SearchConfig

    names = [field.name for field in dataclasses.fields(SearchConfig) if getattr(args, field.name, None) is not None]
    return SearchConfig().replace(**{name: getattr(args, name) for name in names})


def add_demo_command(commands) -> None:
    demo = commands.add_parser("demo", help="train on a built-in task (numbers in English words to French words, or digit sequences)")
    demo.add_argument("--task", choices=("numbers", "reverse", "sort"), default="numbers",
                      help="numbers: English number words to French (the default); reverse, sort: digit sequences, space tokens")
    demo.add_argument("--out", default="demo-model.keras", help="where to save the model")
    demo.add_argument("--epochs", type=positive_int, default=None, help="training epochs (default: the demo's own, 12)")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=run_demo)


def add_evaluate_command(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="score a model on a test corpus (BLEU, chrF, TER)")
    evaluate.add_argument("model", help="a model file written by seq2seq train; more .keras files after it evaluate as an ensemble")
    evaluate.add_argument("test", nargs="*", help="a Tatoeba/Anki file of test pairs")
    evaluate.add_argument("--source-file", help="line-aligned parallel test files: the source side")
    evaluate.add_argument("--target-file", help="line-aligned parallel test files: the target side")
    evaluate.add_argument("--limit", type=positive_int, help="use only the first N pairs")
    evaluate.add_argument("--skip-bad-lines", action="store_true", help="skip and count malformed lines")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--output", help="write source, hypothesis, references and chrF per line (TSV)")
    evaluate.add_argument("--attention-stats", action="store_true",
                          help="also report attention health: first-token weight, entropy, monotonicity")
    add_search_options(evaluate)
    evaluate.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    import json

    from seq2seq.ensemble import load_ensemble
    from seq2seq.evaluation import evaluate_model
    from seq2seq.saving import load, prepare_destination

    search = search_settings(args)
    paths, tests = [args.model], list(args.test)
    while tests and tests[0].endswith(".keras"):  # more models: an ensemble
        paths.append(tests.pop(0))
    if len(tests) > 1:
        raise UsageError(f"seq2seq evaluate: give one test file after the model file(s), got {len(tests)}: {' '.join(tests)}")
    if len(paths) > 1 and args.attention_stats:
        raise UsageError("seq2seq evaluate: --attention-stats measures one model's attention; give one model file")
    if args.output:
        prepare_destination(args.output)
    corpus = read_corpus_given("seq2seq evaluate", tests[0] if tests else None, args.source_file, args.target_file,
                               limit=args.limit, skip_bad_lines=args.skip_bad_lines)
    model = load(args.model) if len(paths) == 1 else load_ensemble(paths)
    scores, rows = evaluate_model(model, corpus.pairs, search)
    attention = None
    if args.attention_stats:
        from seq2seq.attention_stats import attention_statistics, format_statistics

        attention = attention_statistics(model, [row["source"] for row in rows])
    if args.output:
        write_evaluation_rows(args.output, rows)
    if args.json:
        print(json.dumps(scores if attention is None else {**scores, "attention": attention}))
    else:
        print(f"BLEU {scores['bleu']:.2f}  chrF {scores['chrf']:.2f}  TER {scores['ter']:.2f}  "
              f"exact match {scores['exact_match']:.1%}  ({scores['sentences']} sentences, {len(corpus)} references)")
        if attention is not None:
            print(format_statistics(attention))
    return 0


def read_corpus_given(command: str, data, source_file, target_file, **options):
    """Read the corpus named on the command line: one file, or --source-file and --target-file."""
    from seq2seq.data.corpus import read_corpus

    if not (data or source_file or target_file):
        raise UsageError(f"{command}: give a corpus file, or both --source-file and --target-file")
    if data and (source_file or target_file):
        raise UsageError(f"{command}: give a corpus file or --source-file and --target-file, not both")
    if not data and not (source_file and target_file):
        raise UsageError(f"{command}: --source-file and --target-file go together; give both")
    return read_corpus(data, source_file=source_file, target_file=target_file, **options)


def write_evaluation_rows(path: str, rows: list[dict]) -> None:
    """`source<TAB>hypothesis<TAB>references joined by ' ||| '<TAB>chrF` per line, written atomically."""
    from seq2seq.saving import write_text_atomically

    lines = ["source\thypothesis\treferences\tchrf"]
    lines += [f"{r['source']}\t{r['hypothesis']}\t{' ||| '.join(r['references'])}\t{r['chrf']}" for r in rows]
    write_text_atomically(path, "\n".join(lines) + "\n")


def add_average_command(commands) -> None:
    average = commands.add_parser("average", help="average the weights of several checkpoints of one run")
    average.add_argument("checkpoints", nargs="+", help="checkpoint files (e.g. model.keras.checkpoints/epoch-*.keras)")
    average.add_argument("--out", required=True, help="where to write the averaged model (.keras)")
    average.set_defaults(run=run_average)


def run_average(args) -> int:
    from seq2seq.averaging import average_checkpoints
    from seq2seq.saving import prepare_model_destination

    prepare_model_destination(args.out)
    model = average_checkpoints(args.checkpoints)
    model.save(args.out)
    print(f"Averaged {len(args.checkpoints)} checkpoints into {args.out}.")
    return 0


def add_info_command(commands) -> None:
    info = commands.add_parser("info", help="describe a model file")
    info.add_argument("model")
    info.set_defaults(run=run_info)


def add_serve_command(commands) -> None:
    serve = commands.add_parser("serve", help="serve a model over HTTP: a JSON API and a web page")
    serve.add_argument("model", help="a model file written by seq2seq train")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=port_number, default=8000)
    limits = serve.add_argument_group("limits and batching")
    limits.add_argument("--max-texts", type=positive_int, default=64, help="most texts per request (64)")
    limits.add_argument("--max-chars", type=positive_int, default=1000, help="most characters per text (1000)")
    limits.add_argument("--max-batch", type=positive_int, default=64, help="most sentences decoded together (64)")
    limits.add_argument("--max-wait-ms", type=non_negative_float, default=5.0, help="longest a request waits to share a batch (5)")
    limits.add_argument("--no-batching", action="store_true", help="decode every request alone")
    serve.set_defaults(run=run_serve)


def run_serve(args) -> int:
    from seq2seq.saving import load
    from seq2seq.serving.server import listen, serve

    socket = listen(args.host, args.port)  # refuse a busy port before the model loads
    model = load(args.model)
    settings = dict(max_texts=args.max_texts, max_chars=args.max_chars, max_batch=args.max_batch,
                    max_wait_ms=args.max_wait_ms, batching=not args.no_batching)
    print(f"Serving {args.model} on http://{args.host}:{args.port}/ (API docs at /docs); Ctrl-C stops.", file=sys.stderr)
    serve(model, socket, **settings)
    return 0


def add_export_command(commands) -> None:
    export = commands.add_parser("export", help="export the encoder and decoder step for TensorFlow or onnxruntime")
    export.add_argument("model", help="a model file written by seq2seq train")
    export.add_argument("out", help="a new directory for the graphs, vocabularies and manifest")
    export.add_argument("--format", choices=["saved_model", "onnx"], default="saved_model")
    export.set_defaults(run=run_export)


def run_export(args) -> int:
    from seq2seq.export.exporter import export_model
    from seq2seq.saving import load

    out = export_model(load(args.model), args.out, args.format)
    print(f"Exported {args.model} as {args.format} to {out}. Translate with: python -m seq2seq.export.runner {out} \"Go.\"")
    return 0


def run_train(args) -> int:
    from seq2seq.config import read_settings_file
    from seq2seq.distribution import split_cpu_from_environment
    from seq2seq.saving import prepare_model_destination
    from seq2seq.stopping import StopTraining, parse_duration, stop_on_signals
    from seq2seq.threads import configure_training_threads

    split_cpu_from_environment()
    configure_training_threads()
    settings = read_settings_file(args.config) if args.config else {}
    settings.update({key: value for key, value in vars(args).items() if value is not None and key in _SETTING_FLAGS})
    if not settings.get("out"):
        raise UsageError("seq2seq train: the following arguments are required: --out (or `out:` in --config)")
    prepare_model_destination(settings["out"])
    corpus = read_corpus_given("seq2seq train", settings.get("data"), settings.get("source_file"),
                               settings.get("target_file"), limit=settings.get("limit"),
                               skip_bad_lines=bool(settings.get("skip_bad_lines")))
    if not settings.get("checkpoint_dir"):
        settings["checkpoint_dir"] = f"{settings['out']}.checkpoints"
    skipped = f", {corpus.skipped} malformed lines skipped" if corpus.skipped else ""
    print(f"Read {len(corpus)} pairs from {' and '.join(corpus.sources)}{skipped}.")
    verbose = "auto" if sys.stdout.isatty() else 2  # one line per epoch in logs and pipes
    max_time = settings.get("max_time")
    if max_time is not None and "epochs" not in settings:
        settings["epochs"] = UNTIL_TIME_IS_UP  # a time budget alone: train until it is spent
    from seq2seq.selection import describe_best

    # Saving stays inside the block: a second signal while the model is written aborts it too.
    with stop_on_signals(StopTraining(None if max_time is None else parse_duration(max_time))) as stopper:
        model = train_or_resume(args, settings, corpus, verbose, stopper)
        model.save(settings["out"])
        write_history(settings["out"], model.training_summary.get("history") or {})
        stopped = f"Stopped: {stopper.reason}. " if stopper.reason else ""
        print(f"{stopped}Saved {settings['out']} ({describe_best(model.training_summary)}).")
    return 0


def train_or_resume(args, settings: dict, corpus, verbose, stopper):
    """The model of `seq2seq train`: a new training, or the resumed one."""
    from seq2seq.config import ModelConfig, TrainConfig
    from seq2seq.training import resume, train

    if args.resume:
        return resume(corpus.pairs, settings["checkpoint_dir"], epochs=settings.get("epochs"), verbose=verbose, callbacks=[stopper])
    model_values = {key: settings[key] for key in ModelConfig.field_names() if key in settings and key != "preset"}
    model_config = ModelConfig.from_preset(settings.get("preset", DEFAULT_PRESET), **model_values)
    train_values = {key: settings[key] for key in TrainConfig.field_names() if key in settings}
    train_config = TrainConfig(**train_values, verbose=verbose)
    description = f"{len(corpus)} pairs from {', '.join(corpus.sources)}"
    return train(corpus.pairs, model_config, train_config, callbacks=[stopper], data_description=description)


def write_history(model_path: str, history: dict) -> None:
    """The per-epoch losses beside the model: `<model>.history.json` and a plot, `<model>.history.png`."""
    import json

    from seq2seq.saving import write_atomically_with, write_text_atomically

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


def run_translate(args) -> int:
    from seq2seq.ensemble import load_ensemble
    from seq2seq.progress import shows_progress, translation_progress
    from seq2seq.saving import load, prepare_destination

    search = search_settings(args)
    if args.plot_attention:
        prepare_destination(args.plot_attention)
    paths = [args.model]
    while args.texts and args.texts[0].endswith(".keras"):  # more models: an ensemble
        paths.append(args.texts.pop(0))
    if len(paths) > 1 and args.plot_attention:
        raise UsageError("seq2seq translate: --plot-attention draws one model's attention; give one model file")
    model = load(args.model) if len(paths) == 1 else load_ensemble(paths)
    if args.plot_attention:
        return plot_one_attention(model, args)
    if args.interactive:
        return interactive_loop(model, search, args.scores)
    texts = args.texts or [line.rstrip("\n") for line in read_standard_input()]
    with translation_progress(len(texts), shows_progress(len(texts), search.batch_size)) as progress:
        results = model.translate_nbest(texts, search, progress=progress)
    print_hypotheses(results, search.nbest > 1 or args.scores)
    return 0


def read_standard_input() -> list[str]:
    """The lines of standard input; text that is not UTF-8 is a UsageError."""
    try:
        return list(sys.stdin)
    except UnicodeDecodeError:
        raise UsageError("seq2seq translate: standard input is not UTF-8 text") from None


def plot_one_attention(model, args) -> int:
    from seq2seq.attention_plot import plot_attention

    if len(args.texts) != 1:
        raise UsageError("seq2seq translate: --plot-attention draws one translation; give exactly one text")
    print(plot_attention(model, args.texts[0], args.plot_attention, args.max_length))
    print(f"Attention picture written to {args.plot_attention}.", file=sys.stderr)
    return 0


def print_hypotheses(results, detailed: bool, first_index: int = 0) -> None:
    """One translation per line; or `index<TAB>score<TAB>text` per hypothesis."""
    for index, hypotheses in enumerate(results, start=first_index):
        if not detailed:
            print(hypotheses[0].text if hypotheses else "", flush=True)
            continue
        for hypothesis in hypotheses:
            print(f"{index}\t{hypothesis.score:.4f}\t{hypothesis.text}", flush=True)


def interactive_loop(model, search, scores: bool) -> int:
    """Read a sentence, print its translation, until end of input or an empty line."""
    print("Type a sentence and press Enter; an empty line or Ctrl-D ends.", file=sys.stderr)
    count = 0
    while True:
        try:
            text = input("> ")
        except EOFError:
            break
        except UnicodeDecodeError:
            print("seq2seq: that line is not UTF-8 text; type it again.", file=sys.stderr)
            continue
        if not text.strip():
            break
        print_hypotheses(model.translate_nbest([text], search), search.nbest > 1 or scores, first_index=count)
        count += 1
    return 0


def run_demo(args) -> int:
    from seq2seq.demo import run_demo as demo
    from seq2seq.threads import configure_training_threads

    configure_training_threads()
    options = {} if args.epochs is None else {"epochs": args.epochs}
    demo(out=args.out, seed=args.seed, task=args.task, **options)
    return 0


def run_info(args) -> int:
    from seq2seq.saving import load

    model = load(args.model)
    print(describe(model))
    return 0


def describe(model) -> str:
    """A few lines: architecture, vocabularies, parameters, training data."""
    config = model.model_config
    inputs = "one-hot" if config.embedding_dim is None else f"embedding {config.embedding_dim}"
    direction = "bidirectional " if config.bidirectional else ""
    lines = [
        f"architecture: preset {config.preset}",
        f"  encoder: {config.layers} x {direction}{config.cell.upper()} {config.units}, {inputs} inputs, dropout {config.dropout}",
        f"  bridge: {config.bridge}",
        f"  decoder: {config.decoder_depth} x {config.cell.upper()} {config.decoder_units}, attention {config.attention}",
        f"tokenizer: {config.tokenizer}{' (lower-cased)' if config.lowercase else ''}",
        f"vocabulary: source {len(model.source_vocab)} tokens, target {len(model.target_vocab)} tokens",
        f"parameters: {model.count_params():,}",
        f"decoder states: {', '.join(model.state_names)}",
    ]
    lines.append("training:")
    summary = {key: value for key, value in model.training_summary.items() if value not in ("", None)}
    history = summary.pop("history", None)
    lines += [f"  {key.replace('_', ' ')}: {value}" for key, value in summary.items()]
    if history:
        lines.append(f"  history: {', '.join(history)} for {len(next(iter(history.values())))} epochs")
    return "\n".join(lines)


def checked_value(convert, accept, expected: str):
    """An argparse `type` that converts a flag's text and refuses values `accept` rejects."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


positive_int = checked_value(int, lambda value: value >= 1, "a positive integer")
port_number = checked_value(int, lambda value: 0 <= value <= 65535, "a port number from 0 to 65535")
non_negative_float = checked_value(float, lambda value: value >= 0, "a number >= 0")


def quiet_tensorflow(debug: bool) -> None:
    """Keep native libraries' log lines off the terminal (unless --debug).

    TensorFlow's C++ side writes start-up notes straight to file descriptor 2. Point that
    descriptor at /dev/null and give Python's `sys.stderr` a copy of the original, so our
    own messages and Python warnings still show. Skipped where Keras is already imported
    (a Python program calling `main`), since the start-up lines are then long past.
    """
    if debug or "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    original = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    sys.stderr = os.fdopen(original, "w", buffering=1)


def run() -> None:
    """The `seq2seq` program: `main`, then an exit that no late signal or stuck thread can hold up.

    Once a command has returned, its work is done (or was aborted): a Ctrl-C or SIGTERM
    arriving during the interpreter's teardown is ignored rather than turning a finished run
    into a killed one. An aborted run leaves at once, without the teardown, where a TensorFlow
    input thread interrupted mid-batch could otherwise keep the process alive.
    """
    code = main()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    sys.stdout.flush()
    sys.stderr.flush()
    if code == INTERRUPTED:
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
