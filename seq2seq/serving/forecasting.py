"""The forecasting service: POST /forecast, GET /health and GET /info over one loaded `Forecaster`.

A request sends the recent history of each series: its times, its targets and covariates by
column name, and the future covariates over the history and the horizon. The answer holds,
per series, the horizon's times, the point forecast and the prediction intervals of each
target. Caps (`ServeSettings.max_series`, `max_history`) are checked before any work; each bad
value is refused with a 422 naming the series, step and column (`seq2seq.data.series`).
"""

from __future__ import annotations

import contextlib
from typing import Optional, Union

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from seq2seq.data.series import SeriesSet, series_from_table
from seq2seq.errors import SeriesError
from seq2seq.serving.app import answered
from seq2seq.serving.batcher import Batcher
from seq2seq.serving.guard import Guard
from seq2seq.serving.limits import RequestError, ServeSettings
from seq2seq.serving.refusals import add_error_handlers, without_paths

_STRICT = ConfigDict(extra="forbid", strict=True)
EXAMPLE = '{"series": [{"times": ["2020-01-01", "2020-02-01"], "targets": {"sales": [3.0, 4.5]}}]}'
ENDPOINTS = "/forecast, /info and /health"


class SeriesHistory(BaseModel):
    """One series' recent history; lists are per step, oldest first."""

    model_config = _STRICT
    id: Optional[str] = Field(None, description="the series' id (its scaling from training is used where known)")
    times: Optional[list[Union[float, str]]] = Field(
        None, description="numbers or ISO dates, one per step (and per future step with future covariates)"
    )
    targets: dict[str, list[float]] = Field(description="each target column's recent values")
    covariates: dict[str, list[float]] = Field(default_factory=dict, description="past-only covariates")
    future_covariates: dict[str, list[float]] = Field(
        default_factory=dict, description="known covariates over the history and then the horizon"
    )


class ForecastRequest(BaseModel):
    """Series to forecast."""

    model_config = _STRICT
    series: list[SeriesHistory] = Field(description="the series, each with its recent history")


def create_forecast_app(model, settings: ServeSettings | None = None) -> FastAPI:
    """A FastAPI application serving `model` (a loaded `Forecaster`)."""
    settings = settings or ServeSettings()
    worker = Batcher(lambda texts, config: [], 1, 0.0, False)  # only its single model thread is used
    served = {"requests": 0}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await worker.close()

    description = "Forecast time series with a trained recurrent encoder-decoder."
    app = FastAPI(title="keras-seq2seq forecasting", description=description, lifespan=lifespan)
    app.add_middleware(Guard, settings=settings)
    add_error_handlers(app, ENDPOINTS, ForecastRequest, EXAMPLE)

    @app.post("/forecast")
    async def forecast(request: ForecastRequest, http: Request):
        """The forecast of each series: `times`, `point` and `intervals` (per coverage level) per target."""
        series_set = request_series(model, request, settings)
        served["requests"] += 1
        result = await answered(http, worker.run_in_worker(model.forecast, series_set), settings, "forecasting")
        return {"horizon": model.config.horizon, **result.to_dict()}

    @app.get("/health")
    async def health():
        """`{"status": "ok"}` once the model is loaded."""
        return {"status": "ok"}

    @app.get("/info")
    async def info():
        """The model's settings and columns, the service's limits and how many requests it served."""
        training = {key: value for key, value in model.training_summary.items() if key != "history"}
        summary = {
            "task": "forecasting",
            "architecture": model.config.to_dict(),
            "columns": model.columns.to_dict(),
            "calendar": model.calendar,
            "known_series": len(model.scaling),
            "parameters": model.count_params(),
            "training": training,
        }
        return without_paths({**summary, "limits": settings.limits(), "served": dict(served)})

    return app


def request_series(model, request: ForecastRequest, settings: ServeSettings) -> SeriesSet:
    """The request's series as a `SeriesSet` read with the model's columns, after the caps."""
    if not request.series:
        raise RequestError("series is empty; send at least one series.")
    if len(request.series) > settings.max_series:
        raise RequestError(
            f"too many series: {len(request.series)}, at most {settings.max_series} per request; split the request.",
            413,
        )
    series = []
    for index, history in enumerate(request.series):
        table = series_table(model, history, index, settings)
        try:
            found = series_from_table(table, model.columns, f"series[{index}]", 0, future_rows=True, unit="step")
        except SeriesError as error:
            raise RequestError(str(error)) from None
        if not model.columns.id and history.id is not None:
            found.series[0].id = history.id  # a series of its own: scaled by its history unless trained on
        series.extend(found.series)
    return SeriesSet(model.columns, series, "the request", "step")


def series_table(model, history: SeriesHistory, index: int, settings: ServeSettings) -> dict[str, list]:
    """`{column: cells}` of one request series; the target cells of future steps are left empty."""
    columns, where = model.columns, f"series[{index}]"
    parts = (
        ("targets", columns.targets, history.targets),
        ("covariates", columns.covariates, history.covariates),
        ("future_covariates", columns.future_covariates, history.future_covariates),
    )
    for field_name, wanted, given in parts:
        if set(given) != set(wanted):
            expected = ", ".join(repr(name) for name in wanted) or "none"
            got = ", ".join(repr(name) for name in given) or "none"
            raise RequestError(f"{where}.{field_name} names {got}; this model reads {expected}.")
    steps = len(history.targets[columns.targets[0]])
    if steps < model.config.lookback:
        lookback = model.config.lookback
        raise RequestError(f"{where} has {steps} steps of history; this model reads the last {lookback}, send them.")
    longest = settings.max_history + model.config.horizon
    for field_name, _, given in parts:
        for name, values in given.items():
            most = longest if field_name == "future_covariates" else settings.max_history
            if len(values) > most:
                raise RequestError(f"{where}.{field_name}.{name} has {len(values)} values, at most {most} here.", 413)
            if field_name != "future_covariates" and len(values) != steps:
                raise RequestError(f"{where}.{field_name}.{name} has {len(values)} values, the targets {steps}.")
    rows = max([steps] + [len(values) for values in history.future_covariates.values()])
    if history.times is None and model.calendar:
        raise RequestError(f"{where}.times is required: this model reads calendar features of dated times.")
    times = history.times if history.times is not None else list(range(rows))
    if len(times) != rows:
        raise RequestError(f"{where}.times has {len(times)} values; expected one per step, {rows}.")
    table: dict[str, list] = {columns.time: list(times)}
    if columns.id:
        table[columns.id] = [history.id or str(index)] * rows
    for _, _, given in parts:
        for name, values in given.items():
            table[name] = list(values) + [""] * (rows - len(values))
    return table
