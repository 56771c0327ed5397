"""`seq2seq forecast train | predict | evaluate` on the Nile's flow: files written whole, one-line errors."""

from __future__ import annotations

import csv
import json

import pytest

from seq2seq.cli import main
from seq2seq.forecasting.loading import load_forecaster
from tests.conftest import tiny_model
from tests.forecasting.series_data import nile_rows, write_csv


@pytest.fixture(scope="module")
def nile_csv(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("data") / "nile.csv", ["year", "flow"], nile_rows())


@pytest.fixture(scope="module")
def model_path(nile_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "nile.keras"
    arguments = ["forecast", "train", nile_csv, "--time", "year", "--target", "flow", "--horizon", "3"]
    arguments += ["--lookback", "8", "--units", "4", "--epochs", "2", "--loss", "quantile", "--out", str(out)]
    assert main([*arguments, "--validation", "12"]) == 0  # 10 validation windows: enough to calibrate the intervals
    return out


def test_training_writes_the_model_and_its_checkpoints(model_path, capsys):
    assert model_path.is_file() and (model_path.parent / "nile.keras.checkpoints" / "state.json").is_file()


def test_training_stores_interval_factors_calibrated_on_the_validation_part(model_path):
    model = load_forecaster(model_path)
    assert model.training_summary["validation_windows"] == 10 and list(model.interval_scale) == [0.8]
    assert model.interval_scale[0.8] > 0 and model.training_summary["calibrated_coverage"]["80"] >= 0.8


def test_predict_writes_the_horizon_after_the_data_with_intervals(model_path, nile_csv, tmp_path, capsys):
    out = tmp_path / "forecast.csv"
    assert main(["forecast", "predict", str(model_path), nile_csv, "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert [row["year"] for row in rows] == ["1971", "1972", "1973"]
    assert list(rows[0]) == ["year", "flow", "flow_lower_80", "flow_upper_80"]
    assert all(float(r["flow_lower_80"]) <= float(r["flow"]) <= float(r["flow_upper_80"]) for r in rows)
    assert "Wrote 1 forecasts of 3 steps" in capsys.readouterr().err


def test_predict_without_out_prints_the_csv_and_holdout_moves_the_origin(model_path, nile_csv, capsys):
    assert main(["forecast", "predict", str(model_path), nile_csv, "--holdout", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("year,flow,") and [line.split(",")[0] for line in lines[1:]] == ["1966", "1967", "1968"]


def test_evaluate_scores_the_model_beside_seasonal_naive_and_draws_a_plot(model_path, nile_csv, tmp_path, capsys):
    plot = tmp_path / "nile.png"
    arguments = ["forecast", "evaluate", str(model_path), nile_csv, "--baseline", "seasonal_naive"]
    assert main(arguments + ["--origins", "2", "--json", "--plot", str(plot)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores["methods"]) == {"model", "seasonal_naive"} and scores["origins"] == 2
    assert scores["methods"]["model"]["mase"] > 0 and plot.read_bytes().startswith(b"\x89PNG")
    assert main(arguments) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("horizon 3, season 1") and table[2].startswith("model ")


def test_bad_data_is_one_line_naming_the_file_row_and_column(tmp_path, capsys):
    rows = [[year, flow] for year, flow in nile_rows()[:40]]
    rows[9][1] = "n/a"
    path = write_csv(tmp_path / "bad.csv", ["year", "flow"], rows)
    arguments = ["forecast", "train", path, "--time", "year", "--target", "flow", "--horizon", "3", "--lookback", "5"]
    assert main(arguments + ["--out", str(tmp_path / "bad.keras")]) == 2
    error = capsys.readouterr().err.strip()
    assert (
        error
        == "seq2seq: error: " + f"{path}, line 11, column 'flow': the value holds 'n/a'; expected a finite number."
    )
    assert not (tmp_path / "bad.keras").exists()


def test_a_short_series_and_a_translation_model_are_refused(nile_csv, tmp_path, capsys):
    arguments = ["forecast", "train", nile_csv, "--time", "year", "--target", "flow", "--horizon", "30"]
    assert main(arguments + ["--lookback", "80", "--out", str(tmp_path / "long.keras")]) == 2
    assert "fewer than lookback 80 + horizon 30 + validation 30 = 140" in capsys.readouterr().err
    tiny_model().save(tmp_path / "text.keras")
    assert main(["forecast", "predict", str(tmp_path / "text.keras"), nile_csv]) == 2
    assert "is a translation model, not a forecasting one" in capsys.readouterr().err
    assert main(["forecast"]) == 2
    assert "choose train, predict or evaluate" in capsys.readouterr().err
