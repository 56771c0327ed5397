"""Baseline forecasts a model must beat: seasonal naive, ETS and ARIMA, over one series of values.

Each baseline is fitted once on the training part of a series (`fit(train)`), as the model is,
and then forecasts `horizon` steps after any history that extends that training part
(`forecast(history, horizon, levels)`), with its fitted parameters: the state is updated
through the newer values, the parameters are not re-estimated. `rolling_forecasts` does this
from every origin of a held-out part, each forecast seeing only the values before its origin.

- `SeasonalNaive(season)`: step k ahead repeats the value one season (or k/m seasons, rounded
  up) back. Its intervals are the empirical quantiles of the same forecast's errors over the
  training part (so a skewed series gets skewed intervals).
- `ETS(season)`: statsmodels' `ETSModel` with additive errors; the trend (none, additive,
  damped) and seasonality (none, additive) with the lowest AICc on the training part, or the
  ones given. Intervals are statsmodels' (analytic for these models).
- `ARIMA(season)`: statsmodels' `ARIMA`; differencing chosen by tests (ADF for d, seasonal
  strength of an STL decomposition above 0.64 for D, as in Hyndman's auto.arima), then (p, q)
  with the lowest AICc over a small grid, or the orders given. Intervals are statsmodels'.

ETS and ARIMA need statsmodels (`pip install "keras-seq2seq[forecast]"`).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from seq2seq.errors import Seq2SeqError

STATSMODELS_HINT = 'ETS and ARIMA baselines need statsmodels; install it with: pip install "keras-seq2seq[forecast]"'
LEVELS = (0.8, 0.95)


class BaselineError(Seq2SeqError, ValueError):
    """A baseline cannot be fitted or asked for this forecast (an unknown name, too little training data)."""


@dataclass
class BaselineForecast:
    """`point (horizon,)` and `intervals {level: (lower (horizon,), upper (horizon,))}`."""

    point: np.ndarray
    intervals: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


class SeasonalNaive:
    """x_(t+k) forecast as x_(t+k-m·ceil(k/m)); with season 1, the last value (the naive forecast)."""

    name = "seasonal naive"

    def __init__(self, season: int = 1):
        self.season = _season(season)
        self.errors: dict[int, np.ndarray] = {}  # steps back → in-sample absolute errors of that forecast

    def fit(self, train) -> SeasonalNaive:
        self.train = _values(train, self.season + 1, self.name)
        self.errors = {}
        return self

    def forecast(self, history, horizon: int, levels: Sequence[float] = LEVELS) -> BaselineForecast:
        history = _extends(self, history)
        steps = np.arange(1, horizon + 1)
        back = self.season * np.ceil(steps / self.season).astype(int)  # how far back each step looks
        if back[-1] > len(history):
            raise BaselineError(
                f"seasonal naive needs {back[-1]} past values to forecast {horizon} steps, got {len(history)}."
            )
        point = history[len(history) - back + steps - 1]
        intervals = {}
        for level in levels:
            half_width = np.array([np.quantile(self._errors(lag), level) for lag in back])
            intervals[level] = (point - half_width, point + half_width)
        return BaselineForecast(point, intervals)

    def _errors(self, lag: int) -> np.ndarray:
        if lag not in self.errors:
            if len(self.train) <= lag:
                raise BaselineError(
                    f"seasonal naive's intervals need a training part longer than {lag} steps, got {len(self.train)}."
                )
            self.errors[lag] = np.abs(self.train[lag:] - self.train[:-lag])
        return self.errors[lag]


class ETS:
    """Exponential smoothing (statsmodels' `ETSModel`, additive errors), chosen by AICc unless `trend`/`seasonal`
    are given (`trend` None, "add" or "damped"; `seasonal` None or "add")."""

    name = "ETS"

    def __init__(self, season: int = 1, trend: str | None = "auto", seasonal: str | None = "auto"):
        self.season, self.trend, self.seasonal = _season(season), trend, seasonal
        for setting, value, allowed in (
            ("trend", trend, ("auto", None, "add", "damped")),
            ("seasonal", seasonal, ("auto", None, "add")),
        ):
            if value not in allowed:
                raise BaselineError(f"ETS's {setting} must be one of {', '.join(map(str, allowed))}, got {value!r}.")

    def fit(self, train) -> ETS:
        model = _ets_model()
        train = _values(train, 4, self.name)
        self.train = train
        trends = [None, "add", "damped"] if self.trend == "auto" else [self.trend]
        seasonal_fits = self.season > 1 and len(train) >= 2 * self.season + 2
        seasonals = ([None, "add"] if seasonal_fits else [None]) if self.seasonal == "auto" else [self.seasonal]
        candidates = [self._spec(trend, seasonal) for trend in trends for seasonal in seasonals]
        fits = _fitted(candidates, lambda spec: model(_frame(train), **spec).fit(disp=False), self.name)
        self.spec, self.result = min(fits, key=lambda fit: _aicc(fit[1]))
        return self

    def forecast(self, history, horizon: int, levels: Sequence[float] = LEVELS) -> BaselineForecast:
        history = _extends(self, history)
        with _quiet():
            state = _ets_model()(_frame(history), **self.spec).smooth(self.result.params)
            prediction = state.get_prediction(start=len(history), end=len(history) + horizon - 1)
            point = np.asarray(prediction.predicted_mean, dtype="float64")
            intervals = {}
            for level in levels:
                frame = prediction.summary_frame(alpha=1 - level)
                intervals[level] = (frame["pi_lower"].to_numpy(float), frame["pi_upper"].to_numpy(float))
        return BaselineForecast(point, intervals)

    def _spec(self, trend: str | None, seasonal: str | None) -> dict:
        spec = {"error": "add", "trend": "add" if trend else None, "damped_trend": trend == "damped"}
        if seasonal:
            spec.update(seasonal=seasonal, seasonal_periods=self.season)
        return spec


class ARIMA:
    """Seasonal ARIMA (statsmodels' `ARIMA`): differencing by tests, (p, q) by AICc, unless `order`/`seasonal_order`
    are given as statsmodels takes them."""

    name = "ARIMA"
    GRID = ((0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (2, 1))  # (p, q) tried

    def __init__(self, season: int = 1, order: tuple | None = None, seasonal_order: tuple | None = None):
        self.season, self.order, self.seasonal_order = _season(season), order, seasonal_order

    def fit(self, train) -> ARIMA:
        model = _arima_model()
        train = _values(train, 8, self.name)
        self.train = train
        seasonal_order = self.seasonal_order or self._seasonal_order(train)
        d = self.order[1] if self.order else self._differences(train, seasonal_order[1])
        orders = [self.order] if self.order else [(p, d, q) for p, q in self.GRID]
        trend = _arima_trend(d + seasonal_order[1])
        fits = _fitted(
            orders, lambda order: model(train, order=order, seasonal_order=seasonal_order, trend=trend).fit(), self.name
        )
        self.result = min((result for _, result in fits), key=_aicc)
        return self

    def forecast(self, history, horizon: int, levels: Sequence[float] = LEVELS) -> BaselineForecast:
        history = _extends(self, history)
        with _quiet():
            prediction = self.result.apply(history).get_forecast(horizon)
            point = np.asarray(prediction.predicted_mean, dtype="float64")
            intervals = {}
            for level in levels:
                bounds = np.asarray(prediction.conf_int(alpha=1 - level), dtype="float64")
                intervals[level] = (bounds[:, 0], bounds[:, 1])
        return BaselineForecast(point, intervals)

    def _seasonal_order(self, train: np.ndarray) -> tuple:
        if self.season == 1 or len(train) < 3 * self.season:
            return (0, 0, 0, 0)
        parts = _statsmodels("statsmodels.tsa.seasonal").STL(train, period=self.season).fit()
        strength = 1 - np.var(parts.resid) / max(np.var(parts.seasonal + parts.resid), 1e-12)
        return (0, 1, 1, self.season) if strength > 0.64 else (0, 0, 0, 0)

    def _differences(self, train: np.ndarray, seasonal_differences: int) -> int:
        """1 where an ADF test (after any seasonal difference) cannot reject a unit root at 5 %, else 0."""
        values = train[self.season :] - train[: -self.season] if seasonal_differences else train
        with _quiet():
            p_value = _statsmodels("statsmodels.tsa.stattools").adfuller(values, autolag="AIC")[1]
        return int(p_value > 0.05)


BASELINES = {"seasonal_naive": SeasonalNaive, "ets": ETS, "arima": ARIMA}


def make_baseline(name: str, season: int = 1):
    """A baseline by name (`seasonal_naive`, `ets`, `arima`), unfitted."""
    if name not in BASELINES:
        raise BaselineError(f"there is no baseline {name!r}; choose from {', '.join(BASELINES)}.")
    return BASELINES[name](season=season)


def rolling_forecasts(baseline, values, train_end: int, origins: Sequence[int], horizon: int, levels=LEVELS):
    """Fit `baseline` on `values[:train_end]`, forecast `horizon` steps from each origin seeing `values[:origin]`.

    Returns `(point (origins, horizon), {level: (lower, upper)})`. An origin before `train_end`
    would let the fit see the values it forecasts, and is refused.
    """
    values = np.asarray(values, dtype="float64")
    early = [origin for origin in origins if origin < train_end]
    if early:
        raise BaselineError(f"origin {early[0]} lies inside the training part (which ends at {train_end}).")
    baseline.fit(values[:train_end])
    forecasts = [baseline.forecast(values[:origin], horizon, levels) for origin in origins]
    point = np.stack([forecast.point for forecast in forecasts])
    intervals = {
        level: tuple(np.stack([forecast.intervals[level][side] for forecast in forecasts]) for side in (0, 1))
        for level in levels
    }
    return point, intervals


def _season(season) -> int:
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise BaselineError(f"a season must be a whole number of steps >= 1 (1: none), got {season!r}.")
    return int(season)


def _values(train, least: int, name: str) -> np.ndarray:
    train = np.asarray(train, dtype="float64")
    if train.ndim != 1 or len(train) < least or not np.all(np.isfinite(train)):
        raise BaselineError(
            f"{name} needs a training part of at least {least} finite values in one dimension, got shape {train.shape}."
        )
    return train


def _extends(baseline, history) -> np.ndarray:
    """`history` as an array; it must start with the training part the baseline was fitted on."""
    if not hasattr(baseline, "train"):
        raise BaselineError(f"{baseline.name} forecasts only after fit(train).")
    history = np.asarray(history, dtype="float64")
    train = baseline.train
    if len(history) < len(train) or not np.array_equal(history[: len(train)], train):
        raise BaselineError(
            f"{baseline.name}: the history must start with the {len(train)} training values it was fitted on."
        )
    return history


def _fitted(candidates: list, fit, name: str) -> list[tuple]:
    """`(candidate, fit(candidate))` of every candidate statsmodels can fit; a BaselineError where none can."""
    fits, failure = [], None
    for candidate in candidates:
        try:
            with _quiet():
                fits.append((candidate, fit(candidate)))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            failure = error
    if not fits:
        raise BaselineError(f"{name} cannot be fitted on this training part ({failure}).")
    return fits


def _aicc(result) -> float:
    value = getattr(result, "aicc", math.nan)
    return value if np.isfinite(value) else math.inf


def _arima_trend(differences: int) -> str:
    """A constant for stationary data, a drift once differenced, nothing twice differenced."""
    return {0: "c", 1: "t"}.get(differences, "n")


def _frame(values: np.ndarray):
    """A pandas Series on a plain step index: statsmodels' ETS predictions need an index."""
    import pandas as pd

    return pd.Series(values, index=pd.RangeIndex(len(values)))


def _ets_model():
    return _statsmodels("statsmodels.tsa.exponential_smoothing.ets").ETSModel


def _arima_model():
    return _statsmodels("statsmodels.tsa.arima.model").ARIMA


def _statsmodels(module: str):
    """A statsmodels module, or an ImportError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(STATSMODELS_HINT) from error


@contextlib.contextmanager
def _quiet():
    """statsmodels warns about convergence and frequencies on every fit; the AICc choice already handles poor fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield
