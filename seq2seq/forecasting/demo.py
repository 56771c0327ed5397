"""`seq2seq demo --task forecast`: forecast the yearly sunspot numbers ten years ahead, against seasonal naive.

The series is the yearly mean sunspot number 1700-2008 that statsmodels ships (no download).
Its cycle is about eleven years but wanders from nine to fourteen, which a forecast that
repeats the value eleven years back (seasonal naive) cannot follow. The last 21 years are held
out: the model trains on what came before (its own validation part included), then forecasts
10 years from each of 12 rolling origins through the held-out part, as seasonal naive does;
MASE puts both on the scale of that naive forecast's in-sample error.
"""

from __future__ import annotations

import time

from seq2seq.data.series import SeriesColumns, SeriesSet, series_from_table
from seq2seq.errors import Seq2SeqError
from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
from seq2seq.forecasting.evaluation import evaluate_forecaster
from seq2seq.forecasting.training import train_forecaster

HORIZON, SEASON, ORIGINS = 10, 11, 12
TEST_STEPS = HORIZON + ORIGINS - 1  # the held-out years every origin's forecast stays within
VALIDATION_STEPS = 30  # before those: 21 windows to pick the best epoch by and calibrate the intervals on
INSTALL_HINT = 'the forecasting demo reads statsmodels\' data; install it with: pip install "keras-seq2seq[forecast]"'


def sunspots() -> SeriesSet:
    """The yearly mean sunspot number, 1700-2008, one row per year."""
    try:
        from statsmodels.datasets import sunspots as dataset
    except ImportError as error:
        raise Seq2SeqError(f"{INSTALL_HINT} ({error}).") from None
    frame = dataset.load_pandas().data
    table = {"year": frame["YEAR"].tolist(), "sunspots": frame["SUNACTIVITY"].tolist()}
    return series_from_table(table, SeriesColumns("year", ("sunspots",)), "statsmodels' sunspot numbers", 1)


def demo_config() -> ForecastConfig:
    """Three cycles of years in, ten years out; a Gaussian head, so the forecast comes with intervals."""
    return ForecastConfig(lookback=3 * SEASON, horizon=HORIZON, units=32, loss="gaussian")


def run_forecast_demo(out: str = "demo-forecaster.keras", epochs: int | None = None, seed: int = 0) -> dict:
    """Train on all but the last 21 years, print the model's MASE beside seasonal naive's, save the model."""
    started = time.perf_counter()
    series_set = sunspots()
    series = series_set.series[0]
    training = series_set.replace([series.head(series.history - TEST_STEPS)])
    print(
        f"Task: yearly sunspot numbers, {series.history} years; forecast {HORIZON} years ahead. "
        f"The last {TEST_STEPS} years are held out for testing."
    )
    train_config = ForecastTrainConfig(
        epochs=epochs or 100, validation=VALIDATION_STEPS, patience=10, max_time=45, seed=seed, verbose=2
    )
    model = train_forecaster(training, demo_config(), train_config)
    scores = evaluate_forecaster(model, series_set, origins=ORIGINS, season=SEASON, baselines=("seasonal_naive",))
    model.save(out)
    ours, naive = scores["methods"]["model"], scores["methods"]["seasonal_naive"]
    seconds = time.perf_counter() - started
    print(f"\nHeld-out MASE over {ORIGINS} forecasts of {HORIZON} years (lower is better; 1 = naive in sample):")
    print(f"  this model      {ours['mase']:.3f}")
    print(f"  seasonal naive  {naive['mase']:.3f}")
    for level, share in ours.get("coverage", {}).items():
        print(f"  the model's {level} % intervals held {share:.0%} of the held-out years")
    print(f"Saved the model to {out} ({seconds:.0f} s in all). Try: seq2seq forecast predict {out} data.csv")
    return {"mase": ours["mase"], "seasonal_naive_mase": naive["mase"], "seconds": seconds}
