"""`seq2seq export`: the encoder and one decoder step as SavedModels or ONNX, for runtimes without Keras."""

from __future__ import annotations

from pathlib import Path


def add_command(commands) -> None:
    export = commands.add_parser("export", help="export the encoder and decoder step for TensorFlow or onnxruntime")
    export.add_argument("model", help="a model file written by seq2seq train")
    export.add_argument("out", help="a new directory for the graphs, vocabularies, manifest and checksums")
    export.add_argument("--format", choices=["saved_model", "onnx"], default="saved_model")
    export.add_argument(
        "--force", action="store_true", help="replace OUT if it is an earlier export (once the new one is complete)"
    )
    export.set_defaults(run=run_export)


def run_export(args) -> int:
    from seq2seq.export.exporter import MANIFEST, ExportError, export_model
    from seq2seq.export.staging import check_destination
    from seq2seq.models.loading import load

    check_destination(Path(args.out), MANIFEST, args.force, ExportError)  # before loading: a refusal costs nothing
    out = export_model(load(args.model), args.out, args.format, overwrite=args.force)
    print(f'Exported {args.model} as {args.format} to {out}. Translate with: seq2seq translate {out} "Go."')
    return 0
