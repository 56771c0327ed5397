"""Training: held-out validation by time, a time budget, stop requests, checkpoints, resuming, scheduled sampling."""

from __future__ import annotations

import json

import pytest

from seq2seq.errors import SeriesError
from seq2seq.forecasting.config import ForecastConfig, ForecastTrainConfig
from seq2seq.forecasting.training import resume_forecaster, train_forecaster
from seq2seq.host import to_host
from seq2seq.training.checkpoints import CheckpointError
from seq2seq.training.stopping import StopTraining
from tests.conftest import one_line_error
from tests.forecasting.series_data import el_nino_start, trained, two_series


def test_the_best_epoch_is_chosen_on_held_out_windows():
    summary = trained().training_summary
    assert summary["validation_steps"] == 3 and summary["validation_windows"] == 1
    assert summary["training_windows"] == 150 - 3 - 7 - 3 + 1
    assert summary["best_epoch"] in (1, 2) and len(summary["history"]["val_loss"]) == 2
    assert summary["best_validation_loss"] == pytest.approx(min(summary["history"]["val_loss"]), abs=1e-5)
    assert sorted(summary["validation_coverage"]) == ["80", "95"]  # of the Gaussian head's intervals
    shares = [3 * share for share in summary["validation_coverage"].values()]  # one window of 3 steps
    assert all(0 <= share <= 3 and share == pytest.approx(round(share), abs=1e-3) for share in shares)


def test_a_series_too_short_for_a_window_and_the_validation_is_named():
    config = ForecastConfig(lookback=50, horizon=5)
    message = one_line_error(SeriesError, train_forecaster, two_series(), config, ForecastTrainConfig(validation=10))
    assert "series 'nino'" in message and "lookback 50 + horizon 5 + validation 10 = 65" in message


def test_a_stopped_training_resumes_from_its_checkpoint_and_samples_its_own_forecasts_more(tmp_path):
    folder = tmp_path / "run.checkpoints"
    config = ForecastConfig(lookback=6, horizon=2, units=4, cell="gru", scheduled_sampling=0.5)
    settings = ForecastTrainConfig(epochs=50, checkpoint_dir=str(folder), verbose=0, patience=None)
    stopper = StopTraining()
    stopper.request("stopped by a test")  # as Ctrl-C does: the training ends after its current step
    first = train_forecaster(el_nino_start(), config, settings, callbacks=[stopper])
    summary = first.training_summary
    assert summary["stopped_early"] == "stopped by a test" and summary["epochs"] == 1 and summary["best_epoch"] == 1
    assert float(to_host(first.sampling_rate.value)) == 0.0  # the first epoch is teacher-forced throughout
    state = json.loads((folder / "state.json").read_text())
    assert state["epoch"] == 1 and (folder / "epoch-001.keras").is_file()
    assert "earlier run" in one_line_error(CheckpointError, train_forecaster, el_nino_start(), config, settings)
    resumed = resume_forecaster(el_nino_start(), folder, epochs=3)
    assert resumed.training_summary["epochs"] == 3 and len(resumed.training_summary["history"]["loss"]) == 3
    assert json.loads((folder / "state.json").read_text())["epoch"] == 3
    assert float(to_host(resumed.sampling_rate.value)) == pytest.approx(0.5)  # the last epoch feeds half its own
    assert resumed.scaling.keys() == first.scaling.keys()
