"""The `seq2seq` command: one small module per sub-command over the library calls.

A mistake a user can make ends with one line on standard error and exit status 2;
`--debug` shows the full traceback instead. Each sub-command module imports what it needs
when it runs, so `seq2seq --help` and the start of every command stay fast.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

from seq2seq.cli import average, demo, encode, evaluate, export, forecast, info, score, serve, split, train, translate
from seq2seq.cli.arguments import Parser, UsageError
from seq2seq.errors import Seq2SeqError

USAGE_ERROR = 2
INTERRUPTED = 130  # the shell's status for a program ended by Ctrl-C
COMMANDS = (train, translate, score, encode, demo, evaluate, split, average, info, serve, export, forecast)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    if not debug:
        warnings.showwarning = show_warning_on_one_line
    try:
        args = build_parser().parse_args(argv)
        if not hasattr(args, "run"):
            raise UsageError(
                "seq2seq: choose a command: train, translate, encode, evaluate, split, average, demo, info, serve, "
                "export or forecast (see seq2seq --help)"
            )
        quiet_tensorflow(debug)
        return args.run(args) or 0
    except (Seq2SeqError, OSError) as error:
        if debug:
            raise
        message = (
            str(error)
            if isinstance(error, Seq2SeqError)
            else f"{getattr(error, 'filename', '') or ''}: {error.strerror or error}".lstrip(": ")
        )
        print(f"seq2seq: error: {message}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("seq2seq: interrupted", file=sys.stderr)
        return INTERRUPTED


def show_warning_on_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"seq2seq: warning: {message}", file=sys.stderr)


def build_parser() -> Parser:
    parser = Parser(
        prog="seq2seq", description="Sequence-to-sequence learning with recurrent encoder-decoders on Keras 3."
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and library logs")
    commands = parser.add_subparsers(title="commands", parser_class=Parser)
    for command in COMMANDS:
        command.add_command(commands)
    return parser


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


__all__ = ["UsageError", "build_parser", "main", "run"]
