"""`seq2seq split`: hold out whole source sentences (with all their translations) as a test set."""

from __future__ import annotations

from seq2seq.cli.arguments import UsageError, add_force_option, positive_int


def add_command(commands) -> None:
    split = commands.add_parser("split", help="hold out source sentences, with all their translations, as a test file")
    split.add_argument("data", help="a Tatoeba/Anki file: source<TAB>target[<TAB>attribution] per line")
    split.add_argument(
        "--test-sources",
        type=positive_int,
        required=True,
        metavar="N",
        help="how many distinct source sentences to hold out (each with every translation it has)",
    )
    split.add_argument("--train-out", required=True, help="where to write the other pairs (Tatoeba format)")
    split.add_argument("--test-out", required=True, help="where to write the held-out pairs (Tatoeba format)")
    split.add_argument("--seed", type=int, default=12345, help="the same seed gives the same split (12345)")
    split.add_argument("--skip-bad-lines", action="store_true", help="skip and count malformed lines")
    add_force_option(split)
    split.set_defaults(run=run_split)


def run_split(args) -> int:
    from seq2seq.atomic_files import prepare_destination, same_file, write_text_atomically
    from seq2seq.data.corpus import read_tatoeba, split_pairs

    if same_file(args.train_out, args.test_out):
        raise UsageError("seq2seq split: --train-out and --test-out must be different files")
    for path in (args.train_out, args.test_out):  # both checked before either is written
        prepare_destination(path, kind="text", inputs=[args.data], force=args.force)
    corpus = read_tatoeba(args.data, skip_bad_lines=args.skip_bad_lines)
    sources = len({source for source, _ in corpus.pairs})
    if args.test_sources >= sources:
        raise UsageError(
            f"seq2seq split: {args.data} has {sources} distinct source sentences; "
            f"--test-sources must be fewer, got {args.test_sources}"
        )
    train_pairs, test_pairs = split_pairs(corpus.pairs, args.test_sources / sources, seed=args.seed)
    for path, pairs in ((args.train_out, train_pairs), (args.test_out, test_pairs)):
        write_text_atomically(path, "".join(f"{source}\t{target}\n" for source, target in pairs))
    held = len({source for source, _ in test_pairs})
    print(
        f"Wrote {len(train_pairs)} pairs to {args.train_out} and {len(test_pairs)} pairs "
        f"({held} source sentences, none of them in the training file) to {args.test_out}."
    )
    return 0
