"""Time-series forecasting with the project's recurrent encoder-decoder: real values in, forecasts and intervals out.

`read_series` reads a CSV of one or many series; `train_forecaster` trains a `Forecaster` on it
(`ForecastConfig` for the model, `ForecastTrainConfig` for the training); `Forecaster.forecast`
forecasts each series' horizon; `load_forecaster` reads a saved one back; `evaluate_forecaster`
compares it with baselines. Names are imported on first use.
"""

from seq2seq import lazy_attributes

_PUBLIC = {
    "read_series": "seq2seq.data.series",
    "SeriesSet": "seq2seq.data.series",
    "split_by_time": "seq2seq.data.series",
    "ForecastConfig": "seq2seq.forecasting.config",
    "ForecastTrainConfig": "seq2seq.forecasting.config",
    "Forecaster": "seq2seq.forecasting.forecaster",
    "Forecast": "seq2seq.forecasting.forecast",
    "train_forecaster": "seq2seq.forecasting.training",
    "resume_forecaster": "seq2seq.forecasting.training",
    "load_forecaster": "seq2seq.forecasting.loading",
    "evaluate_forecaster": "seq2seq.forecasting.evaluation",
}

__all__ = sorted(_PUBLIC)

__getattr__ = lazy_attributes(__name__, _PUBLIC)


def __dir__():
    return sorted(list(globals()) + __all__)
