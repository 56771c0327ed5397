"""`seq2seq score`: the log-probability a model gives each given translation, and n-best lists rescored by it.

Pairs come as `source<TAB>target` lines (a file, or standard input); each line's scores are
printed as `total<TAB>per_token`. An n-best list in the form `seq2seq translate --nbest N
--scores` writes (`index<TAB>score<TAB>text`, the index counting source lines from 0) is read
with its sources (`--sources`, one per line) and printed in that form again, each sentence's
hypotheses reordered by the new scores. Files are read as corpora are: UTF-8, a bad line named
by file and line with what was expected.
"""

from __future__ import annotations

from seq2seq.cli.arguments import UsageError, add_precision_option, add_text_options, positive_int, read_standard_input
from seq2seq.data.lines import BadLine, decode_line, raw_lines, snippet
from seq2seq.errors import CorpusError

PAIRS_FORM = "source<TAB>target"
NBEST_FORM = "index<TAB>score<TAB>text (as seq2seq translate --nbest N --scores writes)"


def add_command(commands) -> None:
    score = commands.add_parser("score", help="score given translations with a trained model; rescore n-best lists")
    score.add_argument(
        "model", help="a model file written by seq2seq train (more .keras files after it score as an ensemble)"
    )
    score.add_argument("pairs", nargs="*", help=f"a file of {PAIRS_FORM} lines (default: standard input)")
    score.add_argument("--nbest", metavar="FILE", help=f"rescore an n-best list of {NBEST_FORM} lines")
    score.add_argument("--sources", metavar="FILE", help="the n-best list's source sentences, one per line")
    score.add_argument(
        "--length-penalty",
        type=float,
        metavar="ALPHA",
        help="also give the score beam search with this GNMT alpha reports, ((5 + tokens) / 6) ** alpha",
    )
    score.add_argument(
        "--coverage-penalty",
        type=float,
        metavar="BETA",
        help="also give the score beam search with this GNMT beta reports (attention models)",
    )
    score.add_argument("--batch-size", type=positive_int, help="pairs scored together (default 256)")
    score.add_argument("--strict", action="store_true", default=None, help="refuse tokens outside the vocabulary")
    add_precision_option(score)
    add_text_options(score)
    score.set_defaults(run=run_score)


def run_score(args) -> int:
    paths = [args.model]
    while args.pairs and args.pairs[0].endswith(".keras"):  # more models: an ensemble
        paths.append(args.pairs.pop(0))
    search, normalised = score_settings(args)
    if args.nbest:
        if args.pairs or not args.sources:
            raise UsageError("seq2seq score: --nbest FILE goes with --sources FILE, and without a pairs file")
        sources = read_sources(args.sources, args.replace_invalid)
        entries = read_nbest(args.nbest, len(sources), args.sources, args.replace_invalid)
    elif args.sources:
        raise UsageError("seq2seq score: --sources names the sources of an --nbest list; give --nbest FILE with it")
    elif len(args.pairs) > 1:
        raise UsageError(f"seq2seq score: give one pairs file, got {len(args.pairs)}: {' '.join(args.pairs)}")
    else:
        pairs = read_pairs(args.pairs[0] if args.pairs else None, args.replace_invalid)
    from seq2seq.models.loading import load, load_ensemble
    from seq2seq.translation.scoring import score_pairs

    model = load(args.model, args.precision) if len(paths) == 1 else load_ensemble(paths, args.precision)
    if args.nbest:
        scores = score_pairs(model, [(sources[index], text) for index, text in entries], search)
        for index, score, text in rescored(entries, [s.normalised if normalised else s.total for s in scores]):
            print(f"{index}\t{score:.4f}\t{text}")
        return 0
    for score in score_pairs(model, pairs, search):
        extra = f"\t{score.normalised:.4f}" if normalised else ""
        print(f"{score.total:.4f}\t{score.per_token:.4f}{extra}")
    return 0


def score_settings(args):
    """The SearchConfig whose scores are asked for, and whether they are beam search's normalised ones.

    With a length or coverage penalty, the scores are those beam search reports with them (the
    beam's width changes nothing in a given output's score); else the plain log-probabilities.
    """
    from seq2seq.search.config import SearchConfig

    normalised = args.length_penalty is not None or args.coverage_penalty is not None
    settings = {"batch_size": args.batch_size, "strict": args.strict}
    if normalised:
        settings.update(
            beam=2, length_penalty=args.length_penalty or 0.0, coverage_penalty=args.coverage_penalty or 0.0
        )
    return SearchConfig(**{name: value for name, value in settings.items() if value is not None}), normalised


def rescored(entries, scores) -> list[tuple[int, float, str]]:
    """`(index, score, text)` per hypothesis: sentences in their first order, each one's best first, ties in order."""
    groups: dict[int, list[tuple[int, float, str]]] = {}
    for (index, text), score in zip(entries, scores):
        groups.setdefault(index, []).append((index, score, text))
    return [entry for group in groups.values() for entry in sorted(group, key=lambda entry: -entry[1])]


def file_lines(path: str | None, replace: bool):
    """`(where, line number, text)` of each line of `path` (standard input for None), decoded as corpora are."""
    if path is None:
        for number, text in enumerate(read_standard_input(replace), start=1):
            yield "standard input", number, text
        return
    for number, raw in enumerate(raw_lines(path), start=1):
        try:
            yield path, number, decode_line(raw, replace)
        except BadLine as bad:
            raise CorpusError(f"{path}, line {number}: {bad}") from None


def bad_line(where: str, number: int, expected: str, text: str):
    """The one-line error for a line that is not what was `expected`."""
    return CorpusError(f"{where}, line {number}: expected {expected}; found {snippet(text)}")


def read_pairs(path: str | None, replace: bool) -> list[tuple[str, str]]:
    """The `source<TAB>target` pairs of a file (or standard input), one per line; any other line is refused."""
    pairs = []
    for where, number, text in file_lines(path, replace):
        columns = text.split("\t")
        if len(columns) != 2:
            raise bad_line(where, number, f"{PAIRS_FORM}, 2 tab-separated columns, not {len(columns)}", text)
        pairs.append((columns[0], columns[1]))
    return pairs


def read_sources(path: str, replace: bool) -> list[str]:
    """The source sentences of an n-best list, one per line."""
    return [text for _, _, text in file_lines(path, replace)]


def read_nbest(path: str, sources: int, sources_path: str, replace: bool) -> list[tuple[int, str]]:
    """`(index, text)` per hypothesis of an n-best list; each index must name one of the `sources` lines."""
    entries = []
    for where, number, text in file_lines(path, replace):
        columns = text.split("\t", 2)
        if len(columns) != 3 or not (columns[0].isascii() and columns[0].isdigit()) or not is_float(columns[1]):
            raise bad_line(where, number, NBEST_FORM, text)
        index = int(columns[0])
        if index >= sources:
            raise bad_line(
                where, number, f"an index below {sources}, the number of lines of {sources_path} (--sources)", text
            )
        entries.append((index, columns[2]))
    return entries


def is_float(text: str) -> bool:
    """Whether `text` reads as a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True
