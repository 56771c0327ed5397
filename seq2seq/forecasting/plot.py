"""A picture of a forecast: the history, the point forecast after it and its prediction intervals, one panel per
target.

Drawn with matplotlib's Agg canvas on a figure of its own (no pyplot state, so a service may draw
from several threads) and written atomically: a crash leaves the old picture or the new one.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from seq2seq.atomic_files import write_atomically_with
from seq2seq.errors import Seq2SeqError

FORMATS = ("png", "svg", "pdf")


class PlotError(Seq2SeqError, ValueError):
    """The arrays given cannot be drawn as one forecast (mismatched shapes or times)."""


def plot_forecast(
    history,
    forecast,
    intervals: dict | None,
    path,
    history_times=None,
    forecast_times=None,
    actual=None,
    targets=None,
    title: str | None = None,
    last: int | None = None,
) -> None:
    """Draw `history (steps[, targets])`, `forecast (horizon[, targets])` and `intervals {level: (lower, upper)}`
    (each shaped like `forecast`) to `path` (PNG, or SVG/PDF by its suffix).

    Times default to steps 0, 1, ... and the horizon right after the history; give
    `history_times` and `forecast_times` (numbers or datetime64) to label the axis with them.
    `actual` (shaped like `forecast`) draws what happened over the horizon; `targets` names the
    panels; `last` draws only the last steps of a long history.
    """
    history, forecast = _columns(history, "history"), _columns(forecast, "forecast")
    if history.shape[1] != forecast.shape[1]:
        raise PlotError(f"the history has {history.shape[1]} target(s) and the forecast {forecast.shape[1]}.")
    horizon, count = forecast.shape
    history_times = np.arange(len(history)) if history_times is None else np.asarray(history_times)
    if forecast_times is None:
        forecast_times = np.arange(len(history), len(history) + horizon)
    forecast_times = np.asarray(forecast_times)
    _require_length(history_times, len(history), "history_times")
    _require_length(forecast_times, horizon, "forecast_times")
    bands = {
        level: (_columns(lower, "lower"), _columns(upper, "upper"))
        for level, (lower, upper) in (intervals or {}).items()
    }
    for level, bounds in bands.items():
        if any(bound.shape != forecast.shape for bound in bounds):
            raise PlotError(f"the {level:.0%} interval's bounds must be shaped like the forecast {forecast.shape}.")
    actual = None if actual is None else _columns(actual, "actual")
    if actual is not None and actual.shape != forecast.shape:
        raise PlotError(f"the actual values must be shaped like the forecast {forecast.shape}, got {actual.shape}.")
    names = list(targets) if targets is not None else [f"target {i + 1}" for i in range(count)]
    if len(names) != count:
        raise PlotError(f"{len(names)} target name(s) for {count} target(s).")
    if last is not None:
        history, history_times = history[-last:], history_times[-last:]

    figure = Figure(figsize=(9, 2.8 * count + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    for index, axes in enumerate(figure.subplots(count, 1, squeeze=False)[:, 0]):
        axes.plot(history_times, history[:, index], color="0.25", linewidth=1.2, label="history")
        for level in sorted(bands, reverse=True):  # widest first, so narrower bands lie on top
            lower, upper = bands[level]
            axes.fill_between(
                forecast_times,
                lower[:, index],
                upper[:, index],
                color="tab:blue",
                alpha=0.18,
                label=f"{level:.0%} interval",
            )
        if actual is not None:
            axes.plot(forecast_times, actual[:, index], color="0.25", linestyle=":", linewidth=1.2, label="actual")
        axes.plot(forecast_times, forecast[:, index], color="tab:blue", linewidth=1.6, label="forecast")
        axes.set_ylabel(names[index])
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="small", ncols=2)
    if title:
        figure.suptitle(title)
    write_atomically_with(path, lambda temporary: figure.savefig(temporary, dpi=110, format=_format(path)))


def _columns(values, what: str) -> np.ndarray:
    """`values` as `(steps, targets)` floats."""
    array = np.asarray(values, dtype="float64")
    if array.ndim not in (1, 2) or len(array) == 0:
        raise PlotError(f"the {what} must be (steps,) or (steps, targets) with at least one step, got {array.shape}.")
    return array[:, None] if array.ndim == 1 else array


def _require_length(times: np.ndarray, steps: int, what: str) -> None:
    if times.ndim != 1 or len(times) != steps:
        raise PlotError(f"{what} must hold one time per step ({steps}), got shape {times.shape}.")


def _format(path) -> str:
    suffix = str(path).rsplit(".", 1)[-1].lower()
    return suffix if suffix in FORMATS else "png"
