"""Forecaster: the forecasting network with everything it needs to forecast, saved as one `.keras` file.

The file holds the weights, the `ForecastConfig`, which columns play which part, the calendar
cycles, each training series' scaling (mean and standard deviation of its columns, learned
on its training part) and the interval factors calibrated on the validation part
(`calibration.py`), so loading needs nothing else. A series the model did not train on is
scaled by its own history.

Training input: `{"past": (batch, lookback, past features), "future": (batch, horizon, future
features), "targets": (batch, horizon, targets)}`; `targets` is fed to the decoder only in a
teacher-forced training step (`ForecastConfig.teacher_forced`), otherwise the horizon is decoded
autoregressively. Output: the head's values `(batch, horizon, targets, outputs per target)`,
in the window's normalised units (`windows.normalise_window`; see `heads.py`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seq2seq.data.series import SeriesColumns, SeriesSet, series_from_table, statistics
from seq2seq.errors import ModelFileError
from seq2seq.forecasting.calibration import widen
from seq2seq.forecasting.config import ForecastConfig
from seq2seq.forecasting.forecast import Forecast, SeriesForecast
from seq2seq.forecasting.heads import ForecastLoss, intervals, point_index, unscale
from seq2seq.forecasting.network import ForecastNetwork
from seq2seq.forecasting.windows import forecast_inputs, normalise_window
from seq2seq.host import to_host
from seq2seq.models.compile_objects import Adam
from seq2seq.models.format import write_atomically

FORMAT_VERSION = 2  # raised when the layout of a forecaster's config changes (2: interval_scale)
FORECASTER_CLASS = "seq2seq>Forecaster"
PREDICT_BATCH = 256  # series forecast together


@keras.saving.register_keras_serializable(package="seq2seq")
class Forecaster(keras.Model):
    """A recurrent encoder-decoder forecaster with its columns and scaling; `forecast(data)` forecasts each series."""

    def __init__(
        self,
        config: ForecastConfig | dict,
        columns: SeriesColumns | dict,
        scaling: dict | None = None,
        calendar=(),
        training_summary: dict | None = None,
        interval_scale: dict | None = None,
        format_version: int = FORMAT_VERSION,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.config = config if isinstance(config, ForecastConfig) else ForecastConfig.from_dict(config)
        self.columns = columns if isinstance(columns, SeriesColumns) else SeriesColumns.from_dict(columns)
        self.scaling = {
            str(key): (np.asarray(value["mean"], "float64"), np.asarray(value["std"], "float64"))
            if isinstance(value, dict)
            else tuple(np.asarray(part, "float64") for part in value)
            for key, value in (scaling or {}).items()
        }
        self.calendar = list(calendar)
        self.training_summary = dict(training_summary or {})
        # {level: factor} widening each level's intervals, from the validation part; empty: as the head gives them
        self.interval_scale = {round(float(level), 6): float(k) for level, k in (interval_scale or {}).items()}
        config, cycles = self.config, 2 * len(self.calendar)
        self.network = ForecastNetwork(
            targets=len(self.columns.targets),
            past_features=len(self.columns.values) + cycles,
            future_features=len(self.columns.future_covariates) + cycles,
            outputs_per_target=config.outputs_per_target,
            head=config.loss,
            point_index=point_index(config.loss, config.quantiles),
            cell=config.cell,
            units=config.units,
            layers=config.layers,
            bidirectional=config.bidirectional,
            attention=config.attention,
            dropout=config.dropout,
            horizon=config.horizon,
            lookback=config.lookback,
            linear_skip=config.linear_skip,
            name="network",
        )
        self.network.build()
        if config.scheduled_sampling:
            self.sampling_rate = self.add_weight(shape=(), initializer="zeros", trainable=False, name="sampling_rate")
            self.sampling_seed = keras.random.SeedGenerator(0, name="sampling_seed")
        self.built = True

    def build(self, input_shape=None):
        self.built = True  # the network built its weights in the constructor

    def call(self, inputs, training=None):
        past, future = inputs["past"], inputs["future"]
        teacher = inputs.get("targets")  # None: forecasting, every step fed the previous forecast
        if not training or not self.config.teacher_forced:
            teacher = None  # evaluating, or training on the model's own forecasts
        use_teacher = None  # teacher forcing, where the teacher is given
        if teacher is not None and self.config.scheduled_sampling and training:
            draws = keras.random.uniform(ops.shape(teacher)[:2], seed=self.sampling_seed)
            use_teacher = ops.cast(ops.greater_equal(draws, self.sampling_rate), "float32")
        return self.network(past, future, teacher, use_teacher, training=training)

    def compile_for_training(self, learning_rate: float, clip_norm: float | None = None) -> None:
        """Adam (clipped to a global norm if asked) on the configured loss."""
        self.compile(
            optimizer=Adam(learning_rate=learning_rate, global_clipnorm=clip_norm),
            loss=ForecastLoss(self.config.loss, self.config.quantiles),
        )

    # -- forecasting --------------------------------------------------------------------

    def series_scaling(self, series):
        """The scaling learned for `series` in training, or, for a series the model has not seen, its own."""
        return self.scaling.get(series.id) or statistics(series)

    def forecast(self, data, holdout: int = 0) -> Forecast:
        """Forecast the horizon after each series of `data` (a `SeriesSet`, or a pandas DataFrame with the columns
        the model was trained on).

        With `holdout`, each forecast starts that many steps before the end of its series'
        history instead (for comparing with what happened). Trailing rows with empty targets
        are future rows: their future covariates are used, and the forecast covers them.
        """
        series_set = self.as_series_set(data)
        config = self.config
        count = len(self.columns.targets)
        prepared = []
        for series in series_set:
            head = series.head(series.history - holdout) if holdout else series
            mean, std = self.series_scaling(head)
            past, future, times = forecast_inputs(
                series_set, series, config.lookback, config.horizon, (mean, std), self.calendar, holdout
            )
            past, _, (location, spread) = normalise_window(past, count)
            # Window units to the series' own: through the window's location and spread, then the series' scaling.
            scaling = (mean[:count] + location * std[:count], spread * std[:count])
            prepared.append((series.id, past, future, times, scaling))
        values = []
        for start in range(0, len(prepared), PREDICT_BATCH):
            batch = prepared[start : start + PREDICT_BATCH]
            inputs = {
                "past": np.stack([item[1] for item in batch]).astype("float32"),
                "future": np.stack([item[2] for item in batch]).astype("float32"),
            }
            values.extend(to_host(self.predict_on_batch(inputs)).astype("float64"))
        forecasts = []
        for (key, _, _, times, (mean, std)), scaled in zip(prepared, values):
            own = unscale(scaled, mean, std, config.loss)
            found = intervals(own, config.loss, config.quantiles, config.levels)
            point = own[..., point_index(config.loss, config.quantiles)]
            if self.interval_scale:
                found = widen(point, found, self.interval_scale)
            forecasts.append(SeriesForecast(key, times, point, found))
        return Forecast(self.columns.targets, forecasts, self.columns.id, self.columns.time)

    def as_series_set(self, data) -> SeriesSet:
        """`data` as a `SeriesSet` read with this model's columns (a DataFrame's index may hold the times)."""
        if isinstance(data, SeriesSet):
            return data
        if not hasattr(data, "columns") or not hasattr(data, "index"):
            raise TypeError(f"expected a SeriesSet or a pandas DataFrame, got {type(data).__name__}.")
        table = {str(name): data[name].tolist() for name in data.columns}
        if self.columns.time not in table:
            table[self.columns.time] = [str(value) for value in data.index]
        table = {name: ["" if _missing(cell) else cell for cell in cells] for name, cells in table.items()}
        return series_from_table(table, self.columns, "the data frame", first_line=1, future_rows=True)

    # -- saving -------------------------------------------------------------------------

    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write one `.keras` file atomically: a crash never leaves a half-written model."""
        write_atomically(filepath, lambda tmp: super(Forecaster, self).save(tmp, overwrite=True, **kwargs), overwrite)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "config": self.config.to_dict(),
            "columns": self.columns.to_dict(),
            "scaling": {key: {"mean": mean.tolist(), "std": std.tolist()} for key, (mean, std) in self.scaling.items()},
            "calendar": list(self.calendar),
            "training_summary": dict(self.training_summary),
            "interval_scale": {str(level): factor for level, factor in self.interval_scale.items()},
            "format_version": FORMAT_VERSION,
        }

    @classmethod
    def from_config(cls, config: dict) -> Forecaster:
        version = config.get("format_version")
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise ModelFileError(
                f"this forecasting model has format version {version}, newer than the {FORMAT_VERSION} this "
                "keras-seq2seq reads; upgrade keras-seq2seq to load it."
            )
        return cls(**config)


def _missing(cell) -> bool:
    """An empty cell of a DataFrame: None or NaN."""
    return cell is None or (isinstance(cell, float) and cell != cell)
