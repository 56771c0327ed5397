"""`seq2seq encode MODEL`: each sentence's encoder vector, as JSON lines or one `.npy` array."""

from __future__ import annotations

import json
import sys

from seq2seq.cli.arguments import add_force_option, add_text_options
from seq2seq.config import POOLINGS


def add_command(commands) -> None:
    encode = commands.add_parser("encode", help="write each sentence's encoder vector (JSON lines or .npy)")
    encode.add_argument("model", help="a model file written by seq2seq train")
    encode.add_argument("texts", nargs="*", help="sentences (default: one per line from standard input)")
    encode.add_argument(
        "--pooling",
        choices=POOLINGS,
        default="final",
        help="final: the encoder's last hidden state (both directions joined); mean: its outputs averaged",
    )
    encode.add_argument(
        "--out",
        help="write a (sentences, dim) float32 array to this .npy file instead of JSON lines on standard output",
    )
    encode.add_argument("--batch-size", type=int, default=256, help="sentences encoded together")
    add_text_options(encode)
    add_force_option(encode)
    encode.set_defaults(run=run_encode)


def run_encode(args) -> int:
    from seq2seq.atomic_files import prepare_destination, write_atomically_with
    from seq2seq.cli.arguments import UsageError, texts_given
    from seq2seq.models.loading import load

    if args.out and not args.out.endswith(".npy"):
        raise UsageError(
            f"seq2seq encode: --out {args.out}: give a file name ending in .npy (or leave --out out for JSON lines)"
        )
    if args.out:
        prepare_destination(args.out, kind="array", inputs=[args.model], force=args.force)
    texts = texts_given(args)
    model = load(args.model)
    vectors = model.encode_texts(texts, args.pooling, args.batch_size)
    if args.out:
        import numpy as np

        def save(temporary: str) -> None:
            with open(temporary, "wb") as file:
                np.save(file, vectors)

        write_atomically_with(args.out, save)
        print(f"Wrote {len(texts)} vectors of {vectors.shape[1]} values to {args.out}.", file=sys.stderr)
        return 0
    for text, vector in zip(texts, vectors):
        print(json.dumps({"text": text, "vector": [round(float(v), 6) for v in vector]}, ensure_ascii=False))
    return 0
