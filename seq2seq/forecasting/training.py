"""Training a forecaster with the project's machinery: best epoch by validation loss, time budget, Ctrl-C, checkpoints.

The last `validation` steps of every series (one horizon by default) are held out by time;
the scaling is learned on what is left, and the weights kept are those of the epoch with the
lowest loss on the windows that forecast the held-out steps. `max_time` and Ctrl-C end the
training after a step (`seq2seq.training.stopping`), keeping the best weights so far; with a
checkpoint folder every epoch is saved and `resume_forecaster` continues an interrupted run.
The kept model's intervals are then calibrated on the same validation windows (`calibration.py`),
which can only widen them: those windows chose the epoch, so they flatter the model.

The validation loss is computed from the model's predict function, not Keras' separate
evaluation one: the one traced (or compiled) forward pass serves validation, calibration and
forecasting, which saves a trace of the decoding loop per training.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras

from seq2seq.data.series import SeriesSet, split_by_time, statistics
from seq2seq.errors import SeriesError
from seq2seq.forecasting.calendar import calendar_cycles
from seq2seq.forecasting.calibration import MIN_WINDOWS, interval_factors, widen
from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
from seq2seq.forecasting.forecast import percent
from seq2seq.forecasting.forecaster import Forecaster
from seq2seq.forecasting.heads import intervals, point_index
from seq2seq.forecasting.loading import load_forecaster
from seq2seq.forecasting.metrics import coverage
from seq2seq.forecasting.windows import full_batches, training_windows
from seq2seq.host import to_host
from seq2seq.training.checkpoints import STATE_FILE, CheckpointError, EpochCheckpoint, best_checkpoint, read_state
from seq2seq.training.selection import KeepBestWeights
from seq2seq.training.stopping import StopTraining


class ValidationLoss(keras.callbacks.Callback):
    """Puts `val_loss` into each epoch's logs: the compiled loss of the validation windows, forecast by the
    model's predict function (each step fed the previous forecast). Runs before the callbacks that read it."""

    def __init__(self, validation_data):
        super().__init__()
        self.inputs = {name: validation_data[0][name] for name in ("past", "future")}
        self.targets = validation_data[1]

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            predictions = self.model.predict_on_batch(self.inputs)
            logs["val_loss"] = float(to_host(self.model.loss(self.targets, predictions)))


class ScheduledSampling(keras.callbacks.Callback):
    """Raise the share of decoder steps fed their own forecast from 0 at the first epoch to `final` at the last."""

    def __init__(self, final: float, epochs: int):
        super().__init__()
        self.final = final
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.sampling_rate.assign(self.final * min(epoch / max(self.epochs - 1, 1), 1.0))


def check_lengths(series_set: SeriesSet, config: ForecastConfig, validation: int) -> None:
    """Refuse a series too short for one training window and the held-out validation steps."""
    needed = config.lookback + config.horizon + validation
    for series in series_set:
        if series.history < needed:
            held = f" + validation {validation}" if validation else ""
            raise SeriesError(
                f"{series_set.where(series)}: the series has {series.history} time steps, fewer than lookback "
                f"{config.lookback} + horizon {config.horizon}{held} = {needed}; give a shorter lookback or "
                "horizon, or more data."
            )


def train_forecaster(
    series_set: SeriesSet,
    config: ForecastConfig | None = None,
    train_config: ForecastTrainConfig | None = None,
    callbacks=(),
) -> Forecaster:
    """Train a new forecaster on `series_set` and return it with the weights of its best epoch."""
    config = config or ForecastConfig()
    train_config = train_config or ForecastTrainConfig()
    if train_config.checkpoint_dir and (Path(train_config.checkpoint_dir) / STATE_FILE).exists():
        raise CheckpointError(
            f"{train_config.checkpoint_dir} holds checkpoints of an earlier run; pass --resume to continue it, "
            "or remove it (or choose another --checkpoint-dir) to start again."
        )
    validation = train_config.validation_steps(config.horizon)
    check_lengths(series_set, config, validation)
    training_part, _, _ = split_by_time(series_set, validation, 0)
    scaling = {series.id: statistics(series) for series in training_part}
    cycles = calendar_cycles(series_set.series[0].times) if config.calendar else []
    keras.utils.set_random_seed(train_config.seed)
    summary = {
        "data": series_set.source,
        "series": len(series_set),
        "validation_steps": validation,
    }
    model = Forecaster(config, series_set.columns, scaling, cycles, training_summary=summary)
    model.compile_for_training(train_config.learning_rate, train_config.clip_norm)
    return fit_forecaster(model, series_set, train_config, callbacks)


def resume_forecaster(series_set: SeriesSet, checkpoint_dir, epochs: int | None = None, callbacks=()) -> Forecaster:
    """Continue an interrupted training from the newest checkpoint in `checkpoint_dir` on the same `series_set`."""
    state = read_state(checkpoint_dir)
    settings = {**state["train_config"], "checkpoint_dir": str(checkpoint_dir)}
    if epochs is not None:
        settings["epochs"] = epochs
    train_config = ForecastTrainConfig(**settings)
    model = load_forecaster(Path(checkpoint_dir) / state["checkpoint"], compile=True)
    keras.utils.set_random_seed(train_config.seed + state["epoch"])
    best_file = best_checkpoint(checkpoint_dir, state)
    best = {"best_value": state["best_value"], "best_epoch": state["best_epoch"], "best_step": state.get("best_step")}
    best_weights = load_forecaster(best_file).get_weights() if best_file else None
    return fit_forecaster(
        model, series_set, train_config, callbacks, state["epoch"], state["history"], best, best_weights
    )


def fit_forecaster(
    model: Forecaster,
    series_set: SeriesSet,
    train_config: ForecastTrainConfig,
    callbacks=(),
    initial_epoch: int = 0,
    history: dict | None = None,
    best: dict | None = None,
    best_weights=None,
) -> Forecaster:
    """`keras.Model.fit` on the windows of the training part; the best epoch's weights are kept.

    The validation windows forecast the held-out steps as a forecast does (each step fed the
    previous forecast, whatever the training feeds), so the epoch kept is the one that forecasts
    best; with no steps held out the training loss picks the epoch.
    """
    config = model.config
    validation = train_config.validation_steps(config.horizon)
    training_part, validation_part, _ = split_by_time(series_set, validation, 0)
    x, y = training_windows(
        training_part, config.lookback, config.horizon, config.stride, model.scaling, model.calendar
    )
    validation_data = None
    if validation:
        validation_data = training_windows(
            validation_part, config.lookback, config.horizon, 1, model.scaling, model.calendar
        )
    monitor = "val_loss" if validation_data else "loss"
    keep_best = KeepBestWeights(monitor, **(best or {}))
    keep_best.best_weights = best_weights
    callbacks = ([ValidationLoss(validation_data)] if validation_data else []) + [keep_best, *callbacks]
    if train_config.patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=train_config.patience))
    if config.scheduled_sampling:
        callbacks.append(ScheduledSampling(config.scheduled_sampling, train_config.epochs))
    if train_config.checkpoint_dir:
        callbacks.append(EpochCheckpoint(train_config.checkpoint_dir, train_config, keep_best, history))
    stopper = next((c for c in callbacks if isinstance(c, StopTraining)), None)
    if stopper is None and train_config.max_time:
        stopper = StopTraining(train_config.max_time)
        callbacks.append(stopper)
    started = time.perf_counter()
    windows = len(y)
    x, y, batch_size = full_batches(x, y, train_config.batch_size, train_config.seed)
    fitted = model.fit(
        x,
        y,
        batch_size=batch_size,
        shuffle=True,
        epochs=train_config.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=train_config.verbose,
    )
    history = {
        key: list((history or {}).get(key, [])) + [float(v) for v in values] for key, values in fitted.history.items()
    }
    found = keep_best.best_epoch is not None
    model.training_summary.update(
        {
            "training_windows": windows,
            "validation_windows": int(len(validation_data[1])) if validation_data else 0,
            "epochs": initial_epoch + len(fitted.epoch),
            "seconds": round(time.perf_counter() - started, 1),
            "best_epoch": keep_best.best_epoch,
            "best_validation_loss": round(keep_best.best_value, 5) if found and validation_data else None,
            "final_training_loss": round(history["loss"][-1], 5) if history.get("loss") else None,
            "stopped_early": None if stopper is None else stopper.reason,
            **calibrate(model, validation_data),
            "history": history,
        }
    )
    return model


def calibrate(model: Forecaster, validation_data) -> dict:
    """Set `model.interval_scale` from the validation windows (`calibration.py`) and return what the training summary
    records: the intervals' coverage of the held-out values before (`validation_coverage`) and after
    (`calibrated_coverage`), the factors applied and the split-conformal ones before they were raised to at least
    1 (`conformal_scale`: these windows also chose the epoch); for a point model, or no validation part, no coverage.

    Shares and factors are taken in the windows' normalised units: an interval holds a value, and
    widens by a factor, there exactly as in the series' own.
    """
    model.interval_scale = {}
    config = model.config
    if not validation_data or not config.probabilistic:
        return {"validation_coverage": {}}
    inputs, actual = validation_data
    values = to_host(model.predict_on_batch({"past": inputs["past"], "future": inputs["future"]})).astype("float64")
    point = values[..., point_index(config.loss, config.quantiles)]
    found = intervals(values, config.loss, config.quantiles, config.levels)
    summary = {"validation_coverage": _coverages(actual, found)}
    if len(actual) < MIN_WINDOWS:
        summary["interval_scale"] = f"not calibrated: {len(actual)} validation windows, fewer than {MIN_WINDOWS}"
        return summary
    model.interval_scale = interval_factors(actual, point, found, narrow=False)
    summary["interval_scale"] = {percent(level): round(k, 4) for level, k in model.interval_scale.items()}
    conformal = interval_factors(actual, point, found)
    summary["conformal_scale"] = {percent(level): round(k, 4) for level, k in conformal.items()}
    summary["calibrated_coverage"] = _coverages(actual, widen(point, found, model.interval_scale))
    return summary


def _coverages(actual, found) -> dict[str, float]:
    return {percent(level): round(coverage(actual, lower, upper), 4) for level, (lower, upper) in found.items()}
