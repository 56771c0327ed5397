"""evaluate_forecaster: the model and the baselines scored from the same origins, on the same held-out steps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from seq2seq.data.series import SeriesColumns, series_from_table, split_by_time
from seq2seq.errors import SeriesError
from seq2seq.forecasting.baselines import SeasonalNaive
from seq2seq.forecasting.evaluation import evaluate_forecaster, holdout_origins
from seq2seq.forecasting.forecast import Forecast, SeriesForecast
from seq2seq.forecasting.metrics import mae, mase
from tests.conftest import one_line_error

datasets = pytest.importorskip("statsmodels.api", reason="the evaluation's baselines need statsmodels").datasets


class SeasonalNaiveModel:
    """A stand-in forecaster that forecasts as the seasonal-naive baseline does, fitted on what precedes `test`."""

    def __init__(self, horizon: int, season: int, test: int, level: float = 0.9):
        self.config = SimpleNamespace(horizon=horizon)
        self.season, self.test, self.level = season, test, level

    def forecast(self, series_set, holdout: int = 0) -> Forecast:
        forecasts = []
        for series in series_set:
            values = series.targets[:, 0]
            naive = SeasonalNaive(self.season).fit(values[: series.history - self.test])
            found = naive.forecast(values[: series.history - holdout], self.config.horizon, [self.level])
            lower, upper = found.intervals[self.level]
            start = series.history - holdout
            forecasts.append(
                SeriesForecast(
                    series.id,
                    series.times[start : start + self.config.horizon],
                    found.point[:, None],
                    {self.level: (lower[:, None], upper[:, None])},
                )
            )
        return Forecast(series_set.columns.targets, forecasts)


@pytest.fixture(scope="module")
def sunspots():
    """Yearly sunspot numbers 1700-2008 as one series, and the same years halved as a second."""
    frame = datasets.sunspots.load_pandas().data
    years, values = frame["YEAR"].tolist(), frame["SUNACTIVITY"].tolist()
    table = {"year": years + years[:200], "spots": values + [v / 2 for v in values[:200]]}
    table["id"] = ["all"] * len(years) + ["half"] * 200
    return series_from_table(table, SeriesColumns("year", ("spots",), id="id"), "sunspots")


def test_origins_run_through_the_held_out_part_and_end_with_its_last_horizon():
    assert holdout_origins(30, horizon=4, test=10, stride=3) == [20, 23, 26]
    assert holdout_origins(30, horizon=4, test=4) == [26]


def test_a_model_that_forecasts_as_seasonal_naive_scores_exactly_as_the_seasonal_naive_baseline(sunspots):
    model = SeasonalNaiveModel(horizon=5, season=11, test=17)
    result = evaluate_forecaster(model, sunspots, origins=4, season=11, stride=4, baselines=("seasonal_naive",))
    assert (result["test_steps"], result["origins"], result["series"], result["levels"]) == (17, 4, 2, [0.9])
    ours, naive = result["methods"]["model"], result["methods"]["seasonal_naive"]
    for metric in ("mae", "rmse", "smape", "mase"):
        assert ours[metric] == pytest.approx(naive[metric], rel=1e-12)
    assert ours["coverage"] == pytest.approx(naive["coverage"]) and set(ours["coverage"]) == {"90"}
    # and the figures are those of the metrics on the held-out steps, averaged over the two series
    per_series = []
    for series in sunspots:
        values = series.targets[:, 0]
        origins = [series.history - 17 + 4 * k for k in range(4)]
        actual = np.stack([values[o : o + 5] for o in origins])
        point = np.stack([values[o - 11 : o - 6] for o in origins])
        per_series.append((mae(actual, point), mase(actual, point, values[: origins[0]], 11)))
    assert naive["mae"] == pytest.approx(np.mean([first for first, _ in per_series]))
    assert naive["mase"] == pytest.approx(np.mean([second for _, second in per_series]))


def test_a_split_by_time_test_part_is_held_out_as_it_is(sunspots):
    _, _, test_part = split_by_time(sunspots, validation=6, test=9)
    result = evaluate_forecaster(SeasonalNaiveModel(3, 11, 9), test_part, season=11, baselines=())
    assert (result["test_steps"], result["origins"], list(result["methods"])) == (9, 7, ["model"])


def test_a_series_whose_training_part_repeats_every_season_is_named_and_left_out_of_mase():
    table = {"t": list(range(40)) * 2, "y": [3.0, 1.0] * 20 + [float(np.sin(i)) for i in range(40)]}
    table["id"] = ["flat"] * 40 + ["wave"] * 40
    series_set = series_from_table(table, SeriesColumns("t", ("y",), id="id"), "table")
    result = evaluate_forecaster(SeasonalNaiveModel(4, 2, 8), series_set, test=8, season=2, baselines=())
    assert result["mase_undefined"] == ["flat"]
    wave = series_set.series[1].targets[:, 0]
    origins = holdout_origins(40, 4, 8)
    actual = np.stack([wave[o : o + 4] for o in origins])
    point = np.stack([wave[o - 2 : o] for o in origins])[:, [0, 1, 0, 1]]
    assert result["methods"]["model"]["mase"] == pytest.approx(mase(actual, point, wave[:32], 2))


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"origins": 2, "test": 9}, "either origins"),
        ({"test": 3}, "at least one horizon (5 steps), got 3"),
        ({"origins": 0}, "whole number >= 1, got 0"),
        ({"stride": 0}, "stride must be a whole number of steps >= 1, got 0"),
        ({"season": 0}, "season must be a whole number of steps >= 1, got 0"),
        ({"test": 300, "season": 11}, "leaves 9 before them, too few to fit baselines on with season 11"),
    ],
)
def test_impossible_settings_are_refused_in_one_line(sunspots, settings, expected):
    model = SeasonalNaiveModel(horizon=5, season=11, test=17)
    assert expected in one_line_error(SeriesError, evaluate_forecaster, model, sunspots, **settings)


@pytest.mark.slow
def test_a_trained_forecaster_is_scored_beside_the_baselines_at_its_own_interval_levels(sunspots):
    from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
    from seq2seq.forecasting.training import train_forecaster

    one = sunspots.replace(sunspots.series[:1])
    training, _, _ = split_by_time(one, validation=0, test=12)
    config = ForecastConfig(lookback=13, horizon=4, units=5, loss="quantile", quantiles=(0.1, 0.5, 0.9))
    model = train_forecaster(training, config, ForecastTrainConfig(epochs=2, batch_size=16, verbose=0))
    result = evaluate_forecaster(model, one, test=12, season=11, stride=2, baselines=("seasonal_naive", "ets"))
    assert set(result["methods"]) == {"model", "seasonal_naive", "ets"} and result["origins"] == 5
    for scores in result["methods"].values():
        assert set(scores["coverage"]) == {"80"} and 0.0 <= scores["coverage"]["80"] <= 1.0
        assert scores["mase"] > 0 and scores["seconds"] >= 0
    last = model.forecast(one, holdout=4).series[0]
    origins = holdout_origins(one.series[0].history, 4, 12, 2)
    only_last = evaluate_forecaster(model, one, test=4, season=11, baselines=())
    assert only_last["methods"]["model"]["mae"] == pytest.approx(mae(one.series[0].targets[origins[-1] :], last.point))
