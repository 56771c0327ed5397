"""Time budgets and interruptions: training stops when told and writes its best model; a second signal aborts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seq2seq.config import ModelConfig, TrainConfig
from seq2seq.models.loading import load
from seq2seq.training.fit import train
from seq2seq.training.stopping import StopTraining, format_seconds

PAIRS = [(f"w{i} x{i % 3}", f"v{i} y{i % 2}") for i in range(40)]
TINY = ModelConfig(units=6, embedding_dim=4, tokenizer="word", attention="luong-general")
TRAIN = [
    "--preset",
    "classic",
    "--attention",
    "luong-general",
    "--units",
    "6",
    "--embedding-dim",
    "4",
    "--tokenizer",
    "word",
    "--batch-size",
    "8",
]


def test_a_training_config_keeps_its_budget_in_seconds():
    assert TrainConfig(max_time="20m").max_time == 1200.0
    assert [format_seconds(s) for s in (1200, 90, 5400, 7.5)] == ["20m", "90s", "1.5h", "7.5s"]


def test_the_time_budget_ends_training_with_the_best_model_kept():
    started = time.monotonic()
    model = train(PAIRS, TINY, TrainConfig(epochs=100000, batch_size=8, verbose=0, validation_split=0.2, max_time=2))
    assert time.monotonic() - started < 60
    summary = model.training_summary
    assert summary["stopped_early"] == "the time budget of 2s was spent"
    assert 1 <= summary["epochs"] < 100000
    assert summary["best_validation_loss"] == round(min(summary["history"]["val_loss"]), 4)


def test_a_requested_stop_ends_training_after_the_current_step():
    stopper = StopTraining()
    stopper.request("asked by a test")
    model = train(PAIRS, TINY, TrainConfig(epochs=50, batch_size=8, verbose=0), callbacks=[stopper])
    assert model.training_summary["epochs"] == 1 and model.training_summary["stopped_early"] == "asked by a test"


def start_training(tmp_path: Path, *extra) -> tuple[subprocess.Popen, Path]:
    corpus, out = tmp_path / "pairs.txt", tmp_path / "model.keras"
    corpus.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS * 3), encoding="utf-8")
    command = [sys.executable, "-m", "seq2seq.cli", "train", str(corpus), "--out", str(out), *TRAIN, *extra]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    return process, out


def wait_for_epochs(out: Path, process: subprocess.Popen, epochs: int = 2, timeout: float = 120) -> None:
    """Wait until the run has checkpointed `epochs` epochs (so it is inside `fit`)."""
    state = Path(f"{out}.checkpoints") / "state.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if json.loads(state.read_text())["epoch"] >= epochs:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    process.kill()
    raise AssertionError("training did not reach its epochs in time")


@pytest.mark.slow
@pytest.mark.parametrize("number, name", [(signal.SIGINT, "Ctrl-C (SIGINT)"), (signal.SIGTERM, "SIGTERM")])
def test_one_signal_stops_training_and_writes_the_best_model(tmp_path, number, name):
    process, out = start_training(tmp_path, "--epochs", "100000")
    wait_for_epochs(out, process)
    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert f"{name}: stopping after this step" in stderr
    last = stdout.strip().splitlines()[-1]
    summary = load(out).training_summary
    assert last == (
        f"Stopped: stopped by {name}. Saved {out} (best epoch {summary['best_epoch']}, "
        f"validation loss {summary['best_validation_loss']})."
    )
    assert summary["epochs"] >= 2


@pytest.mark.slow
def test_a_second_ctrl_c_aborts_without_writing_a_model(tmp_path):
    process, out = start_training(tmp_path, "--epochs", "100000")
    wait_for_epochs(out, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    # The second signal may land before or after the first stop took effect: either it aborts, or the
    # run had already ended cleanly; it never hangs, and an aborted run writes no model.
    assert process.returncode in (0, 130), stderr
    assert out.exists() == (process.returncode == 0)


@pytest.mark.slow
def test_the_command_line_time_budget_alone_trains_until_it_is_spent_and_writes_the_model(tmp_path):
    process, out = start_training(tmp_path, "--max-time", "6s")  # no --epochs: not the default 10
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    assert (
        stdout.strip()
        .splitlines()[-1]
        .startswith(f"Stopped: the time budget of 6s was spent. Saved {out} (best epoch ")
    )
    assert load(out).training_summary["stopped_early"] == "the time budget of 6s was spent"
    state = json.loads((Path(f"{out}.checkpoints") / "state.json").read_text())
    assert state["train_config"]["epochs"] > 10  # not the default 10: the budget alone ends it


def test_the_first_signal_asks_for_a_stop_and_the_second_aborts(capsys):
    from seq2seq.training.stopping import stop_on_signals

    stopper = StopTraining()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with stop_on_signals(stopper):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            assert stopper.reason == "stopped by SIGTERM"
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert "SIGTERM: stopping after this step" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
