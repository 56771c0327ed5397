"""Loading forecasters: safe mode, other files refused in one line, the same forecasts in another process and on
every backend."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from seq2seq.errors import ModelFileError
from seq2seq.forecasting.loading import is_forecaster_file, load_forecaster
from tests.conftest import one_line_error, tiny_model
from tests.forecasting.series_data import el_nino_start, trained

ROOT = Path(__file__).resolve().parents[2]


def test_a_translation_model_is_not_loaded_as_a_forecaster(tmp_path):
    tiny_model(seed=2).save(tmp_path / "text.keras")
    assert not is_forecaster_file(tmp_path / "text.keras")
    assert "is a translation model, not a forecasting one" in one_line_error(
        ModelFileError, load_forecaster, tmp_path / "text.keras"
    )


def test_missing_damaged_and_misnamed_files_are_refused_in_one_line(tmp_path):
    assert "no such model file" in one_line_error(ModelFileError, load_forecaster, tmp_path / "none.keras")
    (tmp_path / "text.keras").write_text("not an archive")
    assert "not a .keras archive" in one_line_error(ModelFileError, load_forecaster, tmp_path / "text.keras")
    trained().save(tmp_path / "model.keras")
    (tmp_path / "model.keras").rename(tmp_path / "model.zip")
    assert "must end with .keras" in one_line_error(ModelFileError, load_forecaster, tmp_path / "model.zip")


def test_a_file_naming_code_from_another_module_is_refused_unread(tmp_path):
    path = tmp_path / "model.keras"
    trained().save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["extra"] = {"class_name": "Evil", "module": "os", "config": {}}
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert "names the Python module 'os'" in one_line_error(ModelFileError, load_forecaster, path)


FORECAST_IN_CHILD = """
import json, sys
import numpy as np
from seq2seq.forecasting.loading import load_forecaster
from tests.forecasting.series_data import el_nino_start
forecast = load_forecaster(sys.argv[1]).forecast(el_nino_start(), holdout=2)[0]
print(json.dumps([forecast.point.tolist(), [list(map(list, b)) for b in forecast.intervals[0.95]]]))
"""


@pytest.mark.slow
def test_a_forecaster_trained_on_tensorflow_forecasts_the_same_in_other_processes_on_every_backend(tmp_path):
    backends = [name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name)]
    model = trained()
    model.save(tmp_path / "nino.keras")
    here = model.forecast(el_nino_start(), holdout=2)[0]
    children = {
        backend: subprocess.Popen(
            [sys.executable, "-c", FORECAST_IN_CHILD, str(tmp_path / "nino.keras")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
            cwd=ROOT,
        )
        for backend in backends
    }
    for backend, child in children.items():
        output, errors = child.communicate(timeout=300)
        assert child.returncode == 0, f"{backend}: {errors[-2000:]}"
        point, bounds = json.loads(output.strip().splitlines()[-1])
        assert np.allclose(point, here.point, atol=1e-5, rtol=0), backend
        assert np.allclose(bounds, np.array(here.intervals[0.95]), atol=1e-5, rtol=0), backend
