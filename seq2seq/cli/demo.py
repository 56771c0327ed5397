"""`seq2seq demo`: train on a built-in task generated on the spot (no download) and report held-out accuracy."""

from __future__ import annotations

from seq2seq.cli.arguments import add_force_option, positive_int


def add_command(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="train on a built-in task (numbers in English words to French words, digit sequences, or forecasting)",
    )
    demo.add_argument(
        "--task",
        choices=("numbers", "reverse", "sort", "forecast"),
        default="numbers",
        help="numbers: English number words to French (the default); reverse, sort: digit sequences, space tokens; "
        "forecast: yearly sunspot numbers ten years ahead (statsmodels' data)",
    )
    demo.add_argument("--out", help="where to save the model (demo-model.keras; demo-forecaster.keras)")
    demo.add_argument("--epochs", type=positive_int, default=None, help="training epochs (default: the demo's own, 12)")
    demo.add_argument("--seed", type=int, default=0)
    add_force_option(demo)
    demo.set_defaults(run=run_demo)


def run_demo(args) -> int:
    from seq2seq.atomic_files import exclusive_use, prepare_destination
    from seq2seq.errors import ModelFileError
    from seq2seq.models.format import prepare_model_destination
    from seq2seq.training.demo import run_demo as demo
    from seq2seq.training.process_setup import configure_training_threads

    out = args.out or ("demo-forecaster.keras" if args.task == "forecast" else "demo-model.keras")
    prepare_model_destination(out)
    prepare_destination(out, ModelFileError, kind="model", force=args.force)
    configure_training_threads()
    options = {} if args.epochs is None else {"epochs": args.epochs}
    with exclusive_use(out, "training"):
        if args.task == "forecast":
            from seq2seq.forecasting.demo import run_forecast_demo

            run_forecast_demo(out=out, seed=args.seed, **options)
        else:
            demo(out=out, seed=args.seed, task=args.task, **options)
    return 0
