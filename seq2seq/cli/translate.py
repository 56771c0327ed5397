"""`seq2seq translate`: texts from the command line or standard input, one model or an ensemble."""

from __future__ import annotations

import sys
from pathlib import Path

from seq2seq.cli.arguments import (
    UsageError,
    add_force_option,
    add_precision_option,
    add_search_options,
    add_text_options,
    print_hypotheses,
    search_settings,
    texts_given,
    warn_of_empty_outputs,
)
from seq2seq.text import check, decode


def add_command(commands) -> None:
    translate = commands.add_parser("translate", help="translate texts with a trained model")
    translate.add_argument(
        "model",
        help="a model file written by seq2seq train (more .keras files after it decode as an ensemble), "
        "or a directory written by seq2seq export (greedy or beam search, no Keras: a fast start)",
    )
    translate.add_argument("texts", nargs="*", help="texts to translate (default: one per line from standard input)")
    translate.add_argument("--interactive", action="store_true", help="type sentences at a prompt")
    translate.add_argument(
        "--no-cache",
        action="store_true",
        help="translate with Keras, neither using nor writing the cached export beside the model "
        "(.MODEL.keras.export, made on first use so that later runs start without Keras)",
    )
    translate.add_argument(
        "--plot-attention", metavar="IMAGE", help="draw the attention of one text's translation (.png, .svg, .pdf)"
    )
    prefix = translate.add_mutually_exclusive_group()
    prefix.add_argument(
        "--prefix",
        metavar="TEXT",
        help="every translation starts with TEXT (read with the target tokenizer) and the search continues it",
    )
    prefix.add_argument(
        "--prefix-column",
        action="store_true",
        help="each input is source<TAB>prefix (no tab: no prefix; more than one tab is refused)",
    )
    add_precision_option(translate)
    add_text_options(translate)
    add_force_option(translate)
    add_search_options(translate)
    translate.set_defaults(run=run_translate)


def run_translate(args) -> int:
    search = search_settings(args)
    if Path(args.model).is_dir():
        return translate_exported(args, search)
    from seq2seq.atomic_files import prepare_destination

    paths = [args.model]
    while args.texts and args.texts[0].endswith(".keras"):  # more models: an ensemble
        paths.append(args.texts.pop(0))
    if args.plot_attention and (args.prefix is not None or args.prefix_column):
        raise UsageError(
            "seq2seq translate: --plot-attention draws a greedy translation without a prefix; drop --prefix or "
            "--prefix-column"
        )
    if len(paths) > 1 and args.plot_attention:
        raise UsageError("seq2seq translate: --plot-attention draws one model's attention; give one model file")
    if args.plot_attention:
        if len(args.texts) != 1:
            raise UsageError("seq2seq translate: --plot-attention draws one translation; give exactly one text")
        prepare_destination(args.plot_attention, kind="image", inputs=paths, force=args.force)
    texts = texts_given(args) if args.texts or not args.interactive else None
    if len(paths) == 1 and uses_cache(args, search):
        return translate_cached(args, search, texts)
    from seq2seq.models.loading import load, load_ensemble

    model = load(args.model, args.precision) if len(paths) == 1 else load_ensemble(paths, args.precision)
    return translate_with_keras(model, args, search, texts)


def translate_with_keras(model, args, search, texts) -> int:
    from seq2seq.cli.progress import shows_progress, translation_progress

    if args.plot_attention:
        return plot_one_attention(model, args, texts)
    if args.interactive:
        if args.prefix is not None:  # one prefix for every line: refused at once, not at each line
            checked_prefixes(model, args, search, [""], "")
        return interactive_loop(model, search, args)
    texts, prefixes = checked_prefixes(model, args, search, texts, "argument" if args.texts else "standard input, line")
    with translation_progress(len(texts), shows_progress(len(texts), search.batch_size)) as progress:
        results = model.translate_nbest(texts, search, progress=progress, prefixes=prefixes)
    print_hypotheses(results, search.nbest > 1 or args.scores)
    warn_of_empty_outputs(texts, [hypotheses[0].text if hypotheses else "" for hypotheses in results], search)
    return 0


def uses_cache(args, search) -> bool:
    """Whether the cached export gives what Keras would: one model, a search the runner does as Keras does.

    Sampling, n-gram blocking, prefixes, bfloat16, attention pictures and the interactive prompt
    go through Keras; so does everything where onnxruntime is not installed.
    """
    from importlib.util import find_spec

    from seq2seq.export.cache import cache_enabled

    supported = cache_enabled() and not (
        search.sample or search.no_repeat_ngram or args.interactive or args.plot_attention or prefixed(args)
    )
    return (
        supported and not args.no_cache and args.precision in (None, "float32") and find_spec("onnxruntime") is not None
    )


def translate_cached(args, search, texts) -> int:
    """Translate with the cached export of the model, made first if missing or stale; Keras if it cannot be."""
    from seq2seq.cli.progress import shows_progress, translation_progress
    from seq2seq.export.cache import cache_directory, can_write, model_stamp, open_cached, write_cache

    translator = open_cached(args.model)
    if translator is None:
        from importlib.util import find_spec

        from seq2seq.models.loading import load  # Keras: only when there is no current cache

        stamp = model_stamp(Path(args.model)) if Path(args.model).is_file() else None
        model = load(args.model, args.precision)
        exporter = find_spec("onnx") is not None and find_spec("tf2onnx") is not None
        if stamp is None or not exporter or not can_write(args.model):
            return translate_with_keras(model, args, search, texts)
        print(
            f"seq2seq: exporting {args.model} to {cache_directory(args.model)} once, so that later runs start "
            "without Keras (--no-cache skips this)",
            file=sys.stderr,
        )
        translator = write_cache(model, args.model, stamp)
        if translator is None:
            return translate_with_keras(model, args, search, texts)
    with translation_progress(len(texts), shows_progress(len(texts), search.batch_size)) as progress:
        results = translator.translate_nbest(texts, search, progress=progress)
    print_hypotheses(results, search.nbest > 1 or args.scores)
    warn_of_empty_outputs(texts, [hypotheses[0].text if hypotheses else "" for hypotheses in results], search)
    return 0


def translate_exported(args, search) -> int:
    """A directory written by `seq2seq export`: greedy or beam search by onnxruntime or TensorFlow alone, no Keras."""
    from seq2seq.export.exporter import MANIFEST
    from seq2seq.export.translator import ExportedTranslator

    if not (Path(args.model) / MANIFEST).is_file():
        raise UsageError(
            f"seq2seq translate: {args.model} is a directory but not one written by seq2seq export (it has no "
            f"{MANIFEST})"
        )
    if (
        search.sample
        or search.no_repeat_ngram
        or args.interactive
        or args.plot_attention
        or args.precision
        or prefixed(args)
    ):
        raise UsageError(
            f"seq2seq translate: {args.model} is an exported model, which searches greedily or by beam (with "
            "--nbest, --scores and the length options and penalties); give the .keras file for sampling, "
            "--no-repeat-ngram, --prefix, --interactive, --plot-attention or --precision"
        )
    texts = texts_given(args)
    results = ExportedTranslator(args.model).translate_nbest(texts, search)
    print_hypotheses(results, search.nbest > 1 or args.scores)
    warn_of_empty_outputs(texts, [hypotheses[0].text if hypotheses else "" for hypotheses in results], search)
    return 0


def plot_one_attention(model, args, texts: list[str]) -> int:
    from seq2seq.evaluation.attention_plot import plot_attention

    print(plot_attention(model, texts[0], args.plot_attention, args.max_length))
    print(f"Attention picture written to {args.plot_attention}.", file=sys.stderr)
    return 0


def prefixed(args) -> bool:
    """Whether the command gives prefixes (`--prefix` or `--prefix-column`)."""
    return args.prefix is not None or args.prefix_column


def checked_prefixes(
    model, args, search, texts: list[str], where: str, first: int = 1
) -> tuple[list[str], list | None]:
    """The sources and the prefixes (None without prefix options) of `texts`, the prefixes checked against the model.

    `where` names an input in an error, followed by its number counted from `first`
    ("standard input, line 3"); `--prefix` is named as itself.
    """
    from seq2seq.translation.prefixes import encode_prefixes, split_prefix_column

    if not prefixed(args):
        return texts, None
    names = [f"{where} {number}" for number in range(first, first + len(texts))]
    if args.prefix_column:
        texts, prefixes = split_prefix_column(texts, names)
    else:
        prefix = check(args.prefix, "--prefix", replace=args.replace_invalid)
        prefixes, names = [prefix] * len(texts), ["--prefix"] * len(texts)
    encode_prefixes(model.target_vocab, prefixes, len(texts), search.max_length, names)
    return texts, prefixes


def interactive_loop(model, search, args) -> int:
    """Read a sentence, print its translation, until end of input or an empty line.

    Each line is read as bytes and decoded under the text policy; a line that is not UTF-8
    text is named and skipped (or, with --replace-invalid, read with U+FFFD). A line whose
    prefix cannot be forced is named and skipped too.
    """
    from seq2seq.errors import TextError
    from seq2seq.translation.prefixes import PrefixError

    scores, replace = args.scores, args.replace_invalid

    print("Type a sentence and press Enter; an empty line or Ctrl-D ends.", file=sys.stderr)
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    count = number = 0
    while True:
        print("> ", end="", flush=True)
        line = stream.readline()
        number += 1
        if not line:
            break
        try:
            if isinstance(line, bytes):
                text = decode(line.removesuffix(b"\n").removesuffix(b"\r"), "standard input", number, replace)
            else:
                text = check(line.removesuffix("\n").removesuffix("\r"), "standard input", number, replace)
        except TextError as error:
            print(f"seq2seq: {error} Type it again.", file=sys.stderr)
            continue
        if not text.strip():
            break
        try:
            texts, prefixes = checked_prefixes(model, args, search, [text], "standard input, line", number)
        except PrefixError as error:
            print(f"seq2seq: {error} Type it again.", file=sys.stderr)
            continue
        results = model.translate_nbest(texts, search, prefixes=prefixes)
        print_hypotheses(results, search.nbest > 1 or scores, first_index=count)
        count += 1
    return 0
