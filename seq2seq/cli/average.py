"""`seq2seq average`: the mean of several checkpoints' weights as one model file."""

from __future__ import annotations

from seq2seq.cli.arguments import add_force_option


def add_command(commands) -> None:
    average = commands.add_parser("average", help="average the weights of several checkpoints of one run")
    average.add_argument("checkpoints", nargs="+", help="checkpoint files (e.g. model.keras.checkpoints/epoch-*.keras)")
    average.add_argument("--out", required=True, help="where to write the averaged model (.keras)")
    add_force_option(average)
    average.set_defaults(run=run_average)


def run_average(args) -> int:
    from seq2seq.atomic_files import prepare_destination
    from seq2seq.errors import ModelFileError
    from seq2seq.models.format import prepare_model_destination
    from seq2seq.training.averaging import average_checkpoints

    prepare_model_destination(args.out)
    prepare_destination(args.out, ModelFileError, kind="model", inputs=args.checkpoints, force=args.force)
    model = average_checkpoints(args.checkpoints)
    model.save(args.out)
    print(f"Averaged {len(args.checkpoints)} checkpoints into {args.out}.")
    return 0
