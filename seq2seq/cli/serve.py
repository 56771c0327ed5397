"""`seq2seq serve`: a JSON API and a web page over HTTP."""

from __future__ import annotations

import os
import sys

from seq2seq.cli.arguments import add_precision_option, checked_value, non_negative_float, port_number, positive_int

positive_seconds = checked_value(float, lambda value: 0 < value < float("inf"), "a number of seconds > 0")
TOKEN_VARIABLE = "SEQ2SEQ_TOKEN"


def add_command(commands) -> None:
    serve = commands.add_parser("serve", help="serve a model over HTTP: a JSON API and a web page")
    serve.add_argument("model", help="a model file written by seq2seq train")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    serve.add_argument("--port", type=port_number, default=8000)
    limits = serve.add_argument_group("limits and batching")
    limits.add_argument("--max-texts", type=positive_int, default=64, help="most texts per request (64)")
    limits.add_argument("--max-chars", type=positive_int, default=1000, help="most characters per text (1000)")
    limits.add_argument(
        "--max-work",
        type=positive_int,
        default=200_000,
        help="most beam x output tokens per request, over all its texts (200000)",
    )
    limits.add_argument(
        "--deadline",
        type=positive_seconds,
        default=30.0,
        help="seconds a request may take before it is cancelled with a 503 (30)",
    )
    limits.add_argument("--max-body-bytes", type=positive_int, default=1 << 20, help="largest request body (1048576)")
    limits.add_argument(
        "--read-timeout",
        type=positive_seconds,
        default=10.0,
        help="seconds for a request's headers, and again for its body, to arrive (10)",
    )
    limits.add_argument("--max-batch", type=positive_int, default=64, help="most sentences decoded together (64)")
    limits.add_argument(
        "--max-wait-ms", type=non_negative_float, default=5.0, help="longest a request waits to share a batch (5)"
    )
    limits.add_argument("--no-batching", action="store_true", help="decode every request alone")
    access = serve.add_argument_group("access")
    access.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on every request but the web page "
        f"(default: the {TOKEN_VARIABLE} environment variable; none if unset)",
    )
    access.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer to besides localhost, IP addresses and --host (repeatable; '*': any)",
    )
    access.add_argument("--debug", action="store_true", help="log the traceback of a failed request, not just one line")
    add_precision_option(serve)
    serve.set_defaults(run=run_serve)


def run_serve(args) -> int:
    from seq2seq.errors import Seq2SeqError
    from seq2seq.serving.hosts import answered_hosts, exposure_warning
    from seq2seq.serving.server import listen, serve
    from seq2seq.serving.service_for_model import load_served

    token = args.token if args.token is not None else os.environ.get(TOKEN_VARIABLE) or None
    if token is not None and not token.strip():
        raise Seq2SeqError("--token is empty; give a secret of some length, or leave the option out.")
    socket = listen(args.host, args.port)  # refuse a busy port before the model loads
    model = load_served(args.model, args.precision)
    settings = dict(
        max_texts=args.max_texts,
        max_chars=args.max_chars,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        batching=not args.no_batching,
        max_work=args.max_work,
        deadline_s=args.deadline,
        max_body_bytes=args.max_body_bytes,
        read_timeout_s=args.read_timeout,
        allowed_hosts=answered_hosts(args.host, args.allowed_host),
        token=token,
        debug=args.debug,
    )
    warning = exposure_warning(args.host, token)
    if warning:
        print(f"seq2seq: {warning}", file=sys.stderr)
    url = f"http://{args.host}:{args.port}/"
    print(f"Serving {args.model} on {url} (API docs at /docs); Ctrl-C stops.", file=sys.stderr)
    serve(model, socket, **settings)
    return 0
