"""Which service a model file gets: translation (`app.py`) or forecasting (`forecasting.py`)."""

from __future__ import annotations

from seq2seq.forecasting.forecaster import Forecaster
from seq2seq.forecasting.loading import is_forecaster_file, load_forecaster
from seq2seq.models.loading import load
from seq2seq.serving.app import create_app
from seq2seq.serving.forecasting import create_forecast_app
from seq2seq.serving.limits import ServeSettings


def load_served(path, precision: str | None = None):
    """The model in `path`, loaded the way its kind loads: a `Forecaster` or a translation `Seq2Seq`."""
    if is_forecaster_file(path):
        return load_forecaster(path)
    return load(path, precision)


def create_service(model, settings: ServeSettings | None = None):
    """The FastAPI application for `model`: /forecast for a forecaster, /translate and the rest otherwise."""
    if isinstance(model, Forecaster):
        return create_forecast_app(model, settings)
    return create_app(model, settings)
