"""`seq2seq export`: the encoder and one decoder step as SavedModels or ONNX, for runtimes without Keras."""

from __future__ import annotations


def add_command(commands) -> None:
    export = commands.add_parser("export", help="export the encoder and decoder step for TensorFlow or onnxruntime")
    export.add_argument("model", help="a model file written by seq2seq train")
    export.add_argument("out", help="a new directory for the graphs, vocabularies and manifest")
    export.add_argument("--format", choices=["saved_model", "onnx"], default="saved_model")
    export.set_defaults(run=run_export)


def run_export(args) -> int:
    from seq2seq.export.exporter import export_model
    from seq2seq.models.loading import load

    out = export_model(load(args.model), args.out, args.format)
    print(f"Exported {args.model} as {args.format} to {out}. Translate with: seq2seq translate {out} \"Go.\"")
    return 0
