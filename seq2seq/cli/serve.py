"""`seq2seq serve`: a JSON API and a web page over HTTP."""

from __future__ import annotations

import sys

from seq2seq.cli.arguments import add_precision_option, non_negative_float, port_number, positive_int


def add_command(commands) -> None:
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
    add_precision_option(serve)
    serve.set_defaults(run=run_serve)


def run_serve(args) -> int:
    from seq2seq.models.loading import load
    from seq2seq.serving.server import listen, serve

    socket = listen(args.host, args.port)  # refuse a busy port before the model loads
    model = load(args.model, args.precision)
    settings = dict(max_texts=args.max_texts, max_chars=args.max_chars, max_batch=args.max_batch,
                    max_wait_ms=args.max_wait_ms, batching=not args.no_batching)
    print(f"Serving {args.model} on http://{args.host}:{args.port}/ (API docs at /docs); Ctrl-C stops.", file=sys.stderr)
    serve(model, socket, **settings)
    return 0
