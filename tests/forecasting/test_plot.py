"""plot_forecast: a picture of history, forecast and intervals, written whole or not at all."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from seq2seq.errors import OutputError
from seq2seq.forecasting.plot import PlotError, plot_forecast
from tests.conftest import one_line_error

HISTORY = np.sin(np.arange(23) / 2.0)
FORECAST = np.sin(np.arange(23, 30) / 2.0)
INTERVALS = {0.8: (FORECAST - 0.3, FORECAST + 0.3), 0.95: (FORECAST - 0.5, FORECAST + 0.5)}


def test_a_forecast_picture_is_a_png_with_one_panel_per_target(tmp_path):
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    plot_forecast(HISTORY, FORECAST, INTERVALS, one, actual=FORECAST + 0.1, targets=["level"], title="a test")
    both = {
        level: (np.stack([low, low * 2], 1), np.stack([high, high * 2], 1)) for level, (low, high) in INTERVALS.items()
    }
    plot_forecast(np.stack([HISTORY, 2 * HISTORY], 1), np.stack([FORECAST, 2 * FORECAST], 1), both, two)
    first, second = imread(one), imread(two)
    assert one.read_bytes()[:4] == b"\x89PNG" and first.shape[1] == second.shape[1]
    assert second.shape[0] > 1.5 * first.shape[0]  # two panels stacked
    assert [path.name for path in tmp_path.iterdir()] == sorted(["one.png", "two.png"]) or len(
        list(tmp_path.iterdir())
    ) == 2


def test_the_intervals_are_drawn_in_colour_around_the_forecast(tmp_path):
    plain, banded = tmp_path / "plain.png", tmp_path / "banded.png"
    plot_forecast(HISTORY, FORECAST, None, plain)
    plot_forecast(HISTORY, FORECAST, INTERVALS, banded)

    def bluish(path):
        pixels = imread(path)[..., :3]
        return int(np.sum((pixels[..., 2] > pixels[..., 0] + 0.05) & (pixels[..., 2] > 0.6)))

    assert bluish(banded) > 3 * bluish(plain) > 0


def test_dates_label_the_time_axis(tmp_path):
    months = np.arange("2020-01", "2022-07", dtype="datetime64[M]").astype("datetime64[s]")
    plot_forecast(
        HISTORY, FORECAST, INTERVALS, tmp_path / "dated.svg", history_times=months[:23], forecast_times=months[23:]
    )
    svg = (tmp_path / "dated.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "2021" in svg


def test_a_write_that_fails_midway_leaves_the_old_picture_and_no_temporary_file(tmp_path, monkeypatch):
    old = tmp_path / "forecast.png"
    old.write_bytes(b"\x89PNG old")

    def fail_midway(figure, path, **settings):
        with open(path, "wb") as handle:
            handle.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", fail_midway)
    message = one_line_error(OutputError, plot_forecast, HISTORY, FORECAST, INTERVALS, old)
    assert "forecast.png: cannot be written (No space left on device)" in message
    assert [path.name for path in tmp_path.iterdir()] == ["forecast.png"] and old.read_bytes() == b"\x89PNG old"


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ((HISTORY, np.ones((7, 2)), None), "the history has 1 target(s) and the forecast 2"),
        ((HISTORY, FORECAST, {0.8: (FORECAST[:3], FORECAST[:3])}), "80% interval's bounds must be shaped like"),
        ((HISTORY, [], None), "at least one step, got (0,)"),
    ],
)
def test_arrays_that_do_not_make_one_forecast_are_refused_in_one_line(tmp_path, arguments, expected):
    assert expected in one_line_error(PlotError, plot_forecast, *arguments, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_times_that_do_not_match_the_steps_are_refused(tmp_path):
    message = one_line_error(
        PlotError, plot_forecast, HISTORY, FORECAST, None, tmp_path / "x.png", forecast_times=[1, 2]
    )
    assert "forecast_times must hold one time per step (7), got shape (2,)" in message
