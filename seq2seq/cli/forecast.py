"""`seq2seq forecast train | predict | evaluate`: time-series forecasting from CSV files."""

from __future__ import annotations

import argparse
import sys

from seq2seq.cli.arguments import Parser, UsageError, add_force_option, checked_value, positive_int

UNTIL_TIME_IS_UP = 100_000  # the epochs of a training given --max-time but no --epochs
share = checked_value(float, lambda value: 0 <= value < 1, "a number in [0, 1)")
level = checked_value(float, lambda value: 0 < value < 1, "a number between 0 and 1")
steps = checked_value(int, lambda value: value >= 0, "a number of time steps >= 0")


def add_command(commands) -> None:
    forecast = commands.add_parser("forecast", help="forecast time series: train, predict, evaluate")
    verbs = forecast.add_subparsers(title="forecast commands", parser_class=Parser)
    add_train(verbs)
    add_predict(verbs)
    add_evaluate(verbs)
    forecast.set_defaults(run=choose_verb)


def choose_verb(args) -> int:
    raise UsageError("seq2seq forecast: choose train, predict or evaluate (see seq2seq forecast --help)")


def add_train(verbs) -> None:
    train = verbs.add_parser("train", help="train a forecaster on a CSV of one or many series")
    train.add_argument("data", help="a CSV file with a header line")
    columns = train.add_argument_group("columns")
    columns.add_argument("--time", required=True, help="the time column (numbers or ISO dates)")
    columns.add_argument("--target", action="append", required=True, help="a column to forecast (repeatable)")
    columns.add_argument("--covariate", action="append", default=[], help="a column known only in the past")
    columns.add_argument(
        "--future-covariate", action="append", default=[], help="a column known over the horizon too (repeatable)"
    )
    columns.add_argument("--id", help="a column naming the series, for many series in one file")
    model = train.add_argument_group("model")
    model.add_argument("--horizon", type=positive_int, required=True, help="steps to forecast")
    model.add_argument("--lookback", type=positive_int, required=True, help="past steps the model reads")
    model.add_argument("--stride", type=positive_int, default=1, help="steps between training windows (1)")
    model.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    model.add_argument("--units", type=positive_int, default=32, help="width of each recurrent layer (32)")
    model.add_argument("--layers", type=positive_int, default=1, help="recurrent layers (1)")
    model.add_argument("--bidirectional", action="store_true", help="the encoder reads the past both ways")
    model.add_argument(
        "--attention", choices=("none", "bahdanau", "luong-dot", "luong-general"), default="none", help="(none)"
    )
    model.add_argument("--dropout", type=share, default=0.0)
    model.add_argument(
        "--loss", choices=("mse", "mae", "gaussian", "quantile"), default="mse", help="gaussian, quantile: intervals"
    )
    model.add_argument("--quantile", type=level, action="append", help="a quantile level (repeatable; 0.1 0.5 0.9)")
    model.add_argument("--level", type=level, action="append", help="a gaussian interval's coverage (0.8 0.95)")
    model.add_argument("--no-calendar", action="store_true", help="no calendar features from dated times")
    model.add_argument("--scheduled-sampling", type=share, default=0.0, help="share of steps fed own forecasts")
    model.add_argument(
        "--teacher-forcing",
        action=argparse.BooleanOptionalAction,
        help="feed the decoder true values in training (default: for mse and mae only)",
    )
    model.add_argument("--no-linear-skip", action="store_true", help="no linear forecast under the decoder's")
    training = train.add_argument_group("training")
    training.add_argument("--out", required=True, help="where to save the model (.keras)")
    training.add_argument("--epochs", type=positive_int, help="passes over the windows (50)")
    training.add_argument("--batch-size", type=positive_int, default=32)
    training.add_argument("--learning-rate", type=checked_value(float, lambda v: v > 0, "a number > 0"), default=3e-3)
    training.add_argument(
        "--validation",
        type=steps,
        help="last steps of each series held out (one horizon); 10 windows or more also calibrate the intervals",
    )
    training.add_argument("--patience", type=positive_int, default=10, help="epochs without improvement (10)")
    training.add_argument("--max-time", help="stop after this long (90s, 20m, 1.5h) and write the best model")
    training.add_argument("--checkpoint-dir", help="checkpoint every epoch here (default: <out>.checkpoints)")
    training.add_argument("--resume", action="store_true", help="continue from the last checkpoint of this run")
    training.add_argument("--seed", type=int, default=0)
    add_force_option(train)
    train.set_defaults(run=run_train)


def add_predict(verbs) -> None:
    predict = verbs.add_parser("predict", help="forecast the horizon after each series of a CSV")
    predict.add_argument("model", help="a model file written by seq2seq forecast train")
    predict.add_argument("data", help="a CSV with the columns the model was trained on")
    predict.add_argument("--out", help="write the forecast CSV here (default: standard output)")
    predict.add_argument("--holdout", type=steps, default=0, help="start the forecast this many steps before the end")
    add_force_option(predict)
    predict.set_defaults(run=run_predict)


def add_evaluate(verbs) -> None:
    evaluate = verbs.add_parser("evaluate", help="score a forecaster on the last horizon of each series")
    evaluate.add_argument("model", help="a model file written by seq2seq forecast train")
    evaluate.add_argument("data", help="a CSV with the columns the model was trained on")
    evaluate.add_argument("--season", type=positive_int, help="seasonal period in steps (default: from the times)")
    evaluate.add_argument("--origins", type=positive_int, help="rolling forecast origins at the end (default: 1)")
    evaluate.add_argument("--stride", type=positive_int, default=1, help="steps between origins (1)")
    evaluate.add_argument(
        "--baseline",
        action="append",
        choices=("seasonal_naive", "ets", "arima"),
        help="a baseline to compare with (repeatable; default: seasonal_naive and ets)",
    )
    evaluate.add_argument("--plot", help="draw the first series' history, last forecast and intervals (PNG)")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    add_force_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)


def run_train(args) -> int:
    from seq2seq.atomic_files import exclusive_use, prepare_destination, prepare_folder
    from seq2seq.errors import ModelFileError
    from seq2seq.models.format import prepare_model_destination
    from seq2seq.training.stopping import StopTraining, stop_on_signals

    # TensorFlow's own thread settings: the text training's split (`configure_training_threads`) made a forecasting
    # epoch slower here (0.44 s against 0.3 s on sunspots, on a busy 2-core machine); its batches are small.
    checkpoint_dir = args.checkpoint_dir or f"{args.out}.checkpoints"
    prepare_model_destination(args.out)
    prepare_destination(args.out, ModelFileError, kind="model", inputs=[args.data], force=args.force)
    prepare_folder(checkpoint_dir, "checkpoint folder")
    with exclusive_use(args.out, "training"), exclusive_use(checkpoint_dir, "training"):
        series_set = read_training_series(args)
        config, train_config = training_settings(args, checkpoint_dir)
        with stop_on_signals(StopTraining(train_config.max_time)) as stopper:
            model = train_or_resume(args, series_set, config, train_config, stopper)
            model.save(args.out)
        summary = model.training_summary
        stopped = f"Stopped: {stopper.reason}. " if stopper.reason else ""
        loss = summary.get("best_validation_loss") or summary.get("final_training_loss")
        which = "validation" if summary.get("best_validation_loss") is not None else "training"
        print(f"{stopped}Saved {args.out} (best epoch {summary.get('best_epoch')}, {which} loss {loss}).")
        if isinstance(summary.get("interval_scale"), dict):
            widened = ", ".join(f"{level} % by {factor:g}" for level, factor in summary["interval_scale"].items())
            print(f"Intervals calibrated on the validation part: {widened}.")
    return 0


def read_training_series(args):
    from seq2seq.data.series import read_series

    series_set = read_series(args.data, args.time, args.target, args.covariate, args.future_covariate, args.id)
    steps_read = sum(series.history for series in series_set)
    print(f"Read {len(series_set)} series ({steps_read} time steps) from {args.data}.", flush=True)
    return series_set


def training_settings(args, checkpoint_dir: str):
    """(ForecastConfig, ForecastTrainConfig) from the flags."""
    from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig

    extra = {"quantiles": tuple(args.quantile)} if args.quantile else {}
    if args.level:
        extra["levels"] = tuple(args.level)
    config = ForecastConfig(
        lookback=args.lookback,
        horizon=args.horizon,
        stride=args.stride,
        cell=args.cell,
        units=args.units,
        layers=args.layers,
        bidirectional=args.bidirectional,
        attention=args.attention,
        dropout=args.dropout,
        loss=args.loss,
        calendar=not args.no_calendar,
        scheduled_sampling=args.scheduled_sampling,
        teacher_forcing=args.teacher_forcing,
        linear_skip=not args.no_linear_skip,
        **extra,
    )
    epochs = args.epochs or (UNTIL_TIME_IS_UP if args.max_time else 50)
    train_config = ForecastTrainConfig(
        epochs=epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        validation=args.validation,
        patience=args.patience,
        max_time=args.max_time,
        checkpoint_dir=checkpoint_dir,
        seed=args.seed,
        verbose="auto" if sys.stdout.isatty() else 2,
    )
    return config, train_config


def train_or_resume(args, series_set, config, train_config, stopper):
    from seq2seq.forecasting.training import resume_forecaster, train_forecaster

    if args.resume:
        return resume_forecaster(series_set, train_config.checkpoint_dir, epochs=args.epochs, callbacks=[stopper])
    return train_forecaster(series_set, config, train_config, callbacks=[stopper])


def read_for_model(model, path):
    """The series of `path`, read with the columns `model` was trained on (trailing rows without targets: future)."""
    from seq2seq.data.series import read_series

    columns = model.columns
    return read_series(
        path, columns.time, columns.targets, columns.covariates, columns.future_covariates, columns.id, future_rows=True
    )


def run_predict(args) -> int:
    from seq2seq.atomic_files import prepare_destination
    from seq2seq.forecasting.loading import load_forecaster

    if args.out:
        prepare_destination(args.out, kind="text", inputs=[args.model, args.data], force=args.force)
    model = load_forecaster(args.model)
    forecast = model.forecast(read_for_model(model, args.data), holdout=args.holdout)
    if args.out:
        forecast.write_csv(args.out)
        print(f"Wrote {len(forecast)} forecasts of {model.config.horizon} steps to {args.out}.", file=sys.stderr)
    else:
        sys.stdout.write(forecast.to_csv())
    return 0


def run_evaluate(args) -> int:
    import json

    from seq2seq.atomic_files import prepare_destination
    from seq2seq.forecasting.calendar import season_of
    from seq2seq.forecasting.evaluation import evaluate_forecaster
    from seq2seq.forecasting.loading import load_forecaster

    if args.plot:
        prepare_destination(args.plot, kind="image", inputs=[args.model, args.data], force=args.force)
    model = load_forecaster(args.model)
    series_set = read_for_model(model, args.data)
    season = args.season or season_of(series_set.series[0].times)
    options = {"baselines": tuple(args.baseline)} if args.baseline else {}
    scores = evaluate_forecaster(model, series_set, origins=args.origins, season=season, stride=args.stride, **options)
    if args.plot:
        plot_last_forecast(model, series_set, args.plot)
        print(f"Drew the last forecast of {series_set.where(series_set.series[0])} into {args.plot}.", file=sys.stderr)
    print(json.dumps(scores, indent=1) if args.json else score_table(scores))
    return 0


def plot_last_forecast(model, series_set, path) -> None:
    """The first series' forecast of its last horizon beside what happened, with the history before it."""
    from seq2seq.forecasting.plot import plot_forecast

    horizon = model.config.horizon
    series = series_set.series[0]
    forecast = model.forecast(series_set.replace([series]), holdout=horizon)[0]
    plot_forecast(
        series.targets[:-horizon],
        forecast.point,
        forecast.intervals,
        path,
        history_times=series.times[: series.history - horizon],
        forecast_times=forecast.times,
        actual=series.targets[-horizon:],
        targets=list(model.columns.targets),
        last=4 * horizon + model.config.lookback,
    )


def score_table(scores: dict) -> str:
    """An evaluation as text: its settings on one line, then one aligned row of metrics per method."""
    settings = ", ".join(
        f"{key} {value}" for key, value in scores.items() if key != "methods" and not isinstance(value, (dict, list))
    )
    rows = {name: flat_metrics(values) for name, values in scores.get("methods", {}).items()}
    metrics = list(dict.fromkeys(metric for values in rows.values() for metric in values))
    lines = [settings]
    if rows:
        width = max(len(name) for name in rows)
        lines.append(" " * width + "".join(f"  {metric:>12}" for metric in metrics))
        for name, values in rows.items():
            lines.append(f"{name:<{width}}" + "".join(f"  {_cell(values.get(metric)):>12}" for metric in metrics))
    if scores.get("mase_undefined"):
        lines.append(f"no MASE (a constant training part): {', '.join(map(str, scores['mase_undefined']))}")
    return "\n".join(lines)


def flat_metrics(values: dict) -> dict:
    """`{"coverage": {"80": 0.8}}` as `{"coverage_80": 0.8}`; other entries as they are."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{inner}": item for inner, item in value.items()})
        else:
            flat[key] = value
    return flat


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
