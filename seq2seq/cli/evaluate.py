"""`seq2seq evaluate`: BLEU, chrF and TER on a test corpus, and the attention's health."""

from __future__ import annotations

from seq2seq.cli.arguments import (
    UsageError,
    add_force_option,
    add_precision_option,
    add_search_options,
    add_text_options,
    positive_int,
    read_corpus_given,
    search_settings,
    warn_of_empty_outputs,
)


def add_command(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="score a model on a test corpus (BLEU, chrF, TER)")
    evaluate.add_argument(
        "model", help="a model file written by seq2seq train; more .keras files after it evaluate as an ensemble"
    )
    evaluate.add_argument("test", nargs="*", help="a Tatoeba/Anki file of test pairs")
    evaluate.add_argument("--source-file", help="line-aligned parallel test files: the source side")
    evaluate.add_argument("--target-file", help="line-aligned parallel test files: the target side")
    evaluate.add_argument("--limit", type=positive_int, help="use only the first N pairs")
    evaluate.add_argument("--skip-bad-lines", action="store_true", help="skip and count malformed lines")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--output", help="write source, hypothesis, references and chrF per line (TSV)")
    evaluate.add_argument(
        "--attention-stats",
        action="store_true",
        help="also report attention health: first-token weight, entropy, monotonicity",
    )
    add_precision_option(evaluate)
    add_text_options(evaluate)
    add_force_option(evaluate)
    add_search_options(evaluate)
    evaluate.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    import json

    from seq2seq.atomic_files import prepare_destination
    from seq2seq.evaluation.scores import evaluate_model
    from seq2seq.models.loading import load, load_ensemble

    search = search_settings(args)
    paths, tests = [args.model], list(args.test)
    while tests and tests[0].endswith(".keras"):  # more models: an ensemble
        paths.append(tests.pop(0))
    if len(tests) > 1:
        raise UsageError(
            f"seq2seq evaluate: give one test file after the model file(s), got {len(tests)}: {' '.join(tests)}"
        )
    if len(paths) > 1 and args.attention_stats:
        raise UsageError("seq2seq evaluate: --attention-stats measures one model's attention; give one model file")
    if args.output:
        prepare_destination(
            args.output, kind="text", inputs=[*paths, *tests, args.source_file, args.target_file], force=args.force
        )
    corpus = read_corpus_given(
        "seq2seq evaluate",
        tests[0] if tests else None,
        args.source_file,
        args.target_file,
        limit=args.limit,
        skip_bad_lines=args.skip_bad_lines,
        replace_invalid=args.replace_invalid,
    )
    model = load(args.model, args.precision) if len(paths) == 1 else load_ensemble(paths, args.precision)
    scores, rows = evaluate_model(model, corpus.pairs, search)
    warn_of_empty_outputs([row["source"] for row in rows], [row["hypothesis"] for row in rows], search)
    attention = None
    if args.attention_stats:
        from seq2seq.evaluation.attention_stats import attention_statistics, format_statistics

        attention = attention_statistics(model, [row["source"] for row in rows])
    if args.output:
        write_evaluation_rows(args.output, rows)
    if args.json:
        print(json.dumps(scores if attention is None else {**scores, "attention": attention}))
    else:
        print(
            f"BLEU {scores['bleu']:.2f}  chrF {scores['chrf']:.2f}  TER {scores['ter']:.2f}  "
            f"exact match {scores['exact_match']:.1%}  ({scores['sentences']} sentences, {len(corpus)} references)"
        )
        if attention is not None:
            print(format_statistics(attention))
    return 0


def write_evaluation_rows(path: str, rows: list[dict]) -> None:
    """`source<TAB>hypothesis<TAB>references joined by ' ||| '<TAB>chrF` per line, written atomically."""
    from seq2seq.atomic_files import write_text_atomically

    lines = ["source\thypothesis\treferences\tchrf"]
    lines += [f"{r['source']}\t{r['hypothesis']}\t{' ||| '.join(r['references'])}\t{r['chrf']}" for r in rows]
    write_text_atomically(path, "\n".join(lines) + "\n")
