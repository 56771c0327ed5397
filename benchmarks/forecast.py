"""Forecasting on real series: our encoder-decoder against seasonal naive, ETS, ARIMA and a peer RNN, side by side.

Three series that statsmodels ships, each with its standard horizon and season:

  sunspots  yearly sunspot numbers 1700-2008          horizon 10, season 11, last 40 years held out
  co2       Mauna Loa CO2, weekly readings as monthly  horizon 12, season 12, last 48 months held out
  gdp       US real GDP (macrodata), quarterly         horizon 8,  season 4,  last 32 quarters held out

On each, every method is fitted on the part before the held-out (test) steps and forecasts a
full horizon from every origin through them (`seq2seq.forecasting.evaluation`): ours is
`train_forecaster` (Gaussian head, so it gives intervals, trained on its own forecasts; each
window normalised by its last value and spread; a linear skip from the lookback) with a time
budget per series; it holds out the last three horizons of its training part as the
validation part, which picks its best epoch, stops it 10 epochs later and calibrates its
intervals (widening only: those windows chose the epoch). The baselines are seasonal naive,
ETS and ARIMA; the peer is Darts' `RNNModel` (LSTM, Gaussian likelihood) with the full time
budget (ours gets `OUR_SHARE` of it: the target is to forecast as well in less training time),
run in a separate virtual environment (`--peer-python`) because it brings its own PyTorch
stack. Where that environment is missing or Darts does not import, the results say so and why.
Reported per series and method: MASE, sMAPE, 80 % and 95 % interval coverage, training and
prediction seconds, epochs.

The settings of ours (`SETTINGS`: learning rate and batch size) are one set for all series,
chosen on the validation parts only: `--select` trains each of `CANDIDATES` on every series'
training part and scores it on its validation part (MASE of forecasts from every origin
through it; the test part is never read), and the candidate with the lowest mean validation
MASE is `SETTINGS` (results in `results/forecast_selection.json`). The lookback is fixed by a
rule: three seasons, and at least three horizons.

    python benchmarks/forecast.py [--budget 40] [--peer-python /tmp/peer-venv/bin/python]
    python benchmarks/forecast.py --select
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, machine, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# name: (horizon, season, held-out steps, lookback: max(3 seasons, 3 horizons))
SERIES = {"sunspots": (10, 11, 40, 33), "co2": (12, 12, 48, 36), "gdp": (8, 4, 32, 24)}
VALIDATION_HORIZONS = 3  # the validation part: the last 3 horizons before the test part (2 horizons + 1 windows)
UNITS, EPOCHS, PATIENCE = 32, 300, 10  # fixed, not searched: the peer's width, the library's patience
CANDIDATES = (
    {"learning_rate": 1e-3, "batch_size": 32},
    {"learning_rate": 3e-3, "batch_size": 32},
    {"learning_rate": 3e-3, "batch_size": 64},
)
SETTINGS = {"learning_rate": 3e-3, "batch_size": 32}  # the candidate of lowest mean validation MASE (--select)
BASELINES = ("seasonal_naive", "ets", "arima")
LEVELS = (0.8, 0.95)
PEER = "Darts RNNModel (LSTM)"
OUR_SHARE = 0.75  # ours trains within this share of the peer's budget; fixed before any run, not tuned
LABELS = {"model": "keras-seq2seq", "seasonal_naive": "seasonal naive", "ets": "ETS", "arima": "ARIMA"}


def load_series(name: str) -> tuple[list[str], np.ndarray]:
    """(times as text, values) of one of the benchmark's series, from statsmodels' bundled data."""
    from statsmodels.api import datasets

    if name == "sunspots":
        frame = datasets.sunspots.load_pandas().data
        return [str(int(year)) for year in frame["YEAR"]], frame["SUNACTIVITY"].to_numpy(float)
    if name == "co2":
        monthly = datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
        return [day.strftime("%Y-%m-%d") for day in monthly.index], monthly.to_numpy(float)
    frame = datasets.macrodata.load_pandas().data
    times = [f"{int(year)}-{3 * int(quarter) - 2:02d}-01" for year, quarter in zip(frame["year"], frame["quarter"])]
    return times, frame["realgdp"].to_numpy(float)


def benchmark_series(name: str):
    """(the series as a `SeriesSet`, the part before its test steps)."""
    from seq2seq.data.series import SeriesColumns, series_from_table, split_by_time

    times, values = load_series(name)
    data = series_from_table({"time": times, name: values.tolist()}, SeriesColumns("time", (name,)), name)
    return data, split_by_time(data, 0, SERIES[name][2])[0]


def train_ours(training, name: str, settings: dict, budget: float):
    """Our forecaster trained on `training` (the part before the test steps) with `settings`; and its seconds."""
    from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
    from seq2seq.forecasting.training import train_forecaster

    horizon, _, _, lookback = SERIES[name]
    config = ForecastConfig(lookback=lookback, horizon=horizon, units=UNITS, loss="gaussian", levels=LEVELS)
    train_config = ForecastTrainConfig(
        epochs=EPOCHS,
        patience=PATIENCE,
        validation=VALIDATION_HORIZONS * horizon,
        max_time=budget,
        verbose=0,
        **settings,
    )
    started = time.perf_counter()
    model = train_forecaster(training, config, train_config)
    return model, time.perf_counter() - started


def ours_and_baselines(name: str, budget: float) -> dict:
    """Train our forecaster on the part before the held-out steps, then score it and the baselines."""
    from seq2seq.forecasting.evaluation import evaluate_forecaster

    _, season, test, _ = SERIES[name]
    data, training = benchmark_series(name)
    model, seconds = train_ours(training, name, SETTINGS, budget)
    result = evaluate_forecaster(model, data, test=test, season=season, baselines=BASELINES)
    summary = model.training_summary
    result["methods"]["model"].update(
        training_seconds=seconds,
        epochs=summary["epochs"],
        best_epoch=summary["best_epoch"],
        validation_coverage=summary["validation_coverage"],
        interval_scale=summary.get("interval_scale"),
        conformal_scale=summary.get("conformal_scale"),
        calibrated_validation_coverage=summary.get("calibrated_coverage"),
    )
    result["model_config"] = model.config.to_dict()
    result["train_settings"] = {
        **SETTINGS,
        "epochs": EPOCHS,
        "patience": PATIENCE,
        "validation": summary["validation_steps"],
    }
    return result


def select(budget: float) -> dict:
    """Every candidate on every series, scored on the validation part only: `{series: [scores per candidate]}`."""
    from seq2seq.forecasting.evaluation import evaluate_forecaster

    found = {}
    for name in SERIES:
        horizon, season, _, _ = SERIES[name]
        _, training = benchmark_series(name)
        found[name] = []
        for settings in CANDIDATES:
            model, seconds = train_ours(training, name, settings, budget)
            # The validation part is the end of `training`: score forecasts from every origin through it.
            scores = evaluate_forecaster(
                model, training, test=VALIDATION_HORIZONS * horizon, season=season, baselines=()
            )
            ours = scores["methods"]["model"]
            found[name].append(
                {
                    **settings,
                    "validation_mase": ours["mase"],
                    "validation_coverage": ours["coverage"],
                    "training_seconds": seconds,
                    "epochs": model.training_summary["epochs"],
                }
            )
            print(name, found[name][-1], flush=True)
    means = [float(np.mean([found[name][i]["validation_mase"] for name in SERIES])) for i in range(len(CANDIDATES))]
    return {"series": found, "mean_validation_mase": means, "selected": CANDIDATES[int(np.argmin(means))]}


def peer(name: str, budget: float, python: str) -> dict:
    """Run the peer RNN in its own environment on the same series, origins and horizon; score it here."""
    from seq2seq.forecasting.evaluation import holdout_origins, score_series

    horizon, season, test, lookback = SERIES[name]
    times, values = load_series(name)
    origins = holdout_origins(len(values), horizon, test)
    with tempfile.TemporaryDirectory() as folder:
        request, answer = Path(folder) / "request.json", Path(folder) / "answer.json"
        settings = {"values": values.tolist(), "origins": origins, "horizon": horizon, "lookback": lookback}
        request.write_text(json.dumps({**settings, "budget": budget, "levels": list(LEVELS)}))
        command = [python, __file__, "--peer-worker", str(request), str(answer)]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=budget * 4 + 120)
        if completed.returncode:
            return {"unavailable": f"the peer run failed: {completed.stderr.strip().splitlines()[-1:]}"}
        found = json.loads(answer.read_text())
    actual = [np.stack([values[origin : origin + horizon] for origin in origins])[..., None]]
    point = [np.asarray(found["point"])[..., None]]
    intervals = [
        {
            level: tuple(np.asarray(found["intervals"][str(level)][side])[..., None] for side in (0, 1))
            for level in LEVELS
        }
    ]
    scores = score_series(actual, point, intervals, [values[: origins[0], None]], season, LEVELS)
    kept = ("training_seconds", "seconds", "epochs", "steps", "darts", "torch")
    return {**scores, **{key: found[key] for key in kept}}


def peer_worker(request: Path, answer: Path) -> None:
    """In the peer's environment: fit Darts' RNNModel on the values before the first origin, forecast every origin."""
    import darts
    import torch
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import RNNModel
    from darts.utils.likelihood_models import GaussianLikelihood

    # One thread per operation, as ours runs: with PyTorch's default two, an epoch here took 10.7 s instead of 0.3 s
    # (its threads wait on each other on a busy 2-core machine).
    torch.set_num_threads(1)
    settings = json.loads(request.read_text())
    values, origins, horizon = np.asarray(settings["values"], "float32"), settings["origins"], settings["horizon"]
    torch.manual_seed(0)
    series = TimeSeries.from_values(values)
    scaler = Scaler().fit(series[: origins[0]])
    scaled = scaler.transform(series)
    seconds = int(settings["budget"])
    model = RNNModel(
        model="LSTM",
        input_chunk_length=settings["lookback"],
        training_length=settings["lookback"] + horizon,
        hidden_dim=32,
        n_epochs=500,
        likelihood=GaussianLikelihood(),
        random_state=0,
        pl_trainer_kwargs={
            "max_time": f"00:00:{seconds // 60:02d}:{seconds % 60:02d}",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": False,
        },
    )
    started = time.perf_counter()
    model.fit(scaled[: origins[0]], verbose=False)
    training_seconds = time.perf_counter() - started
    # Read now: forecasting below replaces the model's trainer with a fresh one.
    epochs, steps = int(model.epochs_trained), int(model.trainer.global_step)
    started = time.perf_counter()
    forecasts = model.historical_forecasts(
        scaled,
        start=origins[0],
        forecast_horizon=horizon,
        stride=1,
        retrain=False,
        last_points_only=False,
        num_samples=100,
        verbose=False,
    )
    samples = np.stack([scaler.inverse_transform(forecast).all_values()[:, 0, :] for forecast in forecasts])
    seconds_predicting = time.perf_counter() - started
    quantiles = {
        level: np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=-1) for level in settings["levels"]
    }
    answer.write_text(
        json.dumps(
            {
                "point": np.median(samples, axis=-1).tolist(),
                "intervals": {str(level): [bound.tolist() for bound in bounds] for level, bounds in quantiles.items()},
                "training_seconds": training_seconds,
                "seconds": seconds_predicting,
                "epochs": epochs,
                "steps": steps,
                "darts": darts.__version__,
                "torch": torch.__version__,
            }
        )
    )


def peer_available(python: str) -> str | None:
    """None where the peer environment imports Darts and PyTorch, else why not."""
    if not Path(python).is_file():
        return f"no peer environment at {python} (make one: python3 -m venv DIR; DIR/bin/pip install darts)"
    check = "import sys, torch; from darts.models import RNNModel; sys.exit(not isinstance(RNNModel, type))"
    completed = subprocess.run([python, "-c", check], capture_output=True, text=True)
    if completed.returncode:
        reason = completed.stderr.strip().splitlines()[-1:] or ["RNNModel needs darts[torch] (PyTorch Lightning)"]
        return f"Darts' RNNModel does not import there: {reason[0]}"
    return None


def versions() -> dict:
    """The versions of what ours and the baselines ran on (the peer's are in its rows)."""
    import keras
    import statsmodels
    import tensorflow

    return {"keras": keras.__version__, "tensorflow": tensorflow.__version__, "statsmodels": statsmodels.__version__}


def table(results: dict) -> str:
    """The printed table: one row per series and method."""
    lines = [
        "| series | method | MASE | sMAPE % | 80 % coverage | 95 % coverage | training s | prediction s | epochs |"
    ]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name, found in results.items():
        for method, scores in found["methods"].items():
            if "unavailable" in scores:
                lines.append(f"| {name} | {LABELS.get(method, method)} | {scores['unavailable']} | | | | | | |")
                continue
            cover = scores.get("coverage", {})
            cells = [
                f"{scores['mase']:.3f}",
                f"{scores['smape']:.2f}",
                f"{cover['80']:.2f}" if "80" in cover else "",
                f"{cover['95']:.2f}" if "95" in cover else "",
                f"{scores['training_seconds']:.1f}" if "training_seconds" in scores else "",
                f"{scores['seconds']:.2f}",
                str(scores.get("epochs", "")),
            ]
            lines.append(f"| {name} | {LABELS.get(method, method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=40.0, help="the peer's training seconds per series")
    parser.add_argument("--peer-python", default="/tmp/peer-venv/bin/python", help="a Python with Darts installed")
    parser.add_argument("--series", nargs="+", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--out", type=Path, default=RESULTS / "forecast.json")
    parser.add_argument("--peer-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--select", action="store_true", help="score CANDIDATES on the validation parts only")
    args = parser.parse_args()
    if args.peer_worker:
        peer_worker(*args.peer_worker)
        return 0
    if args.select:
        started, load_at_start = time.perf_counter(), os.getloadavg()
        found = select(args.budget)
        found.update(candidates=list(CANDIDATES), total_seconds=round(time.perf_counter() - started, 1))
        found["load_average"] = {"start": list(load_at_start), "end": list(os.getloadavg())}
        write_result(RESULTS / "forecast_selection.json", {"benchmark": "forecast --select", **found})
        return 0
    started, load_at_start = time.perf_counter(), os.getloadavg()
    missing_peer = peer_available(args.peer_python)
    results = {}
    for name in args.series:
        load = os.getloadavg()
        results[name] = ours_and_baselines(name, OUR_SHARE * args.budget)
        results[name]["load_average_before"] = list(load)
        results[name]["methods"][PEER] = (
            {"unavailable": missing_peer} if missing_peer else peer(name, args.budget, args.peer_python)
        )
        print(f"{name}: done after {time.perf_counter() - started:.0f} s", flush=True)
    print(table(results))
    write_result(
        args.out,
        {
            "benchmark": "forecast",
            "budget_seconds": args.budget,
            "our_budget_seconds": OUR_SHARE * args.budget,
            "settings": {**SETTINGS, "selected_on": "the validation parts only (results/forecast_selection.json)"},
            "threads": "TensorFlow's own thread settings for ours; one PyTorch thread per operation for the peer",
            "peer": PEER if not missing_peer else f"{PEER}: unavailable ({missing_peer})",
            "series": results,
            "total_seconds": round(time.perf_counter() - started, 1),
            "load_average": {"start": list(load_at_start), "end": list(os.getloadavg())},  # 1, 5, 15 minutes
            "versions": versions(),
            "machine": machine(),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
