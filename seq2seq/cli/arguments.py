"""What the sub-commands share: one-line usage errors, checked flag values, the search flags, input corpora."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings

from seq2seq.errors import Seq2SeqError
from seq2seq.text import check, decode_lines


class UsageError(Seq2SeqError):
    """A command-line argument is missing or invalid."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


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


def add_search_options(parser) -> None:
    """The SearchConfig fields as flags (shared by every command that decodes)."""
    search = parser.add_argument_group("search")
    search.add_argument("--beam", type=positive_int, help="beam size (default 1: greedy search)")
    search.add_argument("--nbest", type=positive_int, help="hypotheses printed per sentence (at most --beam)")
    search.add_argument("--length-penalty", type=float, help="GNMT alpha: ((5 + length) / 6) ** alpha")
    search.add_argument(
        "--coverage-penalty",
        type=float,
        help="GNMT beta (beam, attention models): beta x sum of log(min(attention received, 1)) over the source",
    )
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


def add_precision_option(parser) -> None:
    """`--precision`: what the model computes in while it translates."""
    parser.add_argument(
        "--precision",
        choices=["float32", "bfloat16"],
        help="float32, or bfloat16 maths over float32 weights: faster on CPUs with bfloat16 "
        "units, translations may differ slightly (default float32)",
    )


def search_settings(args):
    """A SearchConfig from the search flags that were given."""
    from seq2seq.search.config import SearchConfig

    names = [field.name for field in dataclasses.fields(SearchConfig) if getattr(args, field.name, None) is not None]
    return SearchConfig().replace(**{name: getattr(args, name) for name in names})


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


def add_text_options(parser) -> None:
    """`--replace-invalid`: for commands that read text from arguments, standard input or files."""
    parser.add_argument(
        "--replace-invalid",
        action="store_true",
        help="read bytes that are not UTF-8 (and lone surrogates) as U+FFFD instead of refusing the text",
    )


def add_force_option(parser) -> None:
    """`--force`: replace an existing output file that holds something else than the command writes."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing output file even where it is not of the kind written (a text file by a model)",
    )


def checked_texts(texts: list[str], replace: bool = False) -> list[str]:
    """Text arguments under the text policy: Python keeps bad argument bytes as surrogates, refused here."""
    return [check(text, f"argument {number}", replace=replace) for number, text in enumerate(texts, start=1)]


def read_standard_input(replace: bool = False) -> list[str]:
    """The lines of standard input without their endings, read as bytes and decoded under the text policy."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is not None:
        return decode_lines(stream, "standard input", replace)
    return [
        check(line.removesuffix("\n").removesuffix("\r"), "standard input", number, replace)
        for number, line in enumerate(sys.stdin, start=1)
    ]


def texts_given(args) -> list[str]:
    """The texts of a command: its arguments, or else the lines of standard input, all decoded the same way."""
    if args.texts:
        return checked_texts(args.texts, args.replace_invalid)
    return read_standard_input(args.replace_invalid)


def warn_of_empty_outputs(texts: list[str], outputs: list[str], search) -> None:
    """Say so when non-empty texts got empty outputs because min_length left no room to end."""
    empty = sum(1 for text, output in zip(texts, outputs) if text.strip() and not output)
    if empty and search.min_length:
        limit = (
            f"--max-length {search.max_length}"
            if search.max_length
            else "the default maximum of 2 x source tokens + 10"
        )
        warnings.warn(
            f"{empty} of {len(texts)} outputs are empty: --min-length {search.min_length} left no hypothesis room to "
            f"end within {limit}; raise --max-length or lower --min-length.",
            stacklevel=2,
        )


def print_hypotheses(results, detailed: bool, first_index: int = 0) -> None:
    """One translation per line; or `index<TAB>score<TAB>text` per hypothesis."""
    for index, hypotheses in enumerate(results, start=first_index):
        if not detailed:
            print(hypotheses[0].text if hypotheses else "", flush=True)
            continue
        for hypothesis in hypotheses:
            print(f"{index}\t{hypothesis.score:.4f}\t{hypothesis.text}", flush=True)
