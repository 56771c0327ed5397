"""The forecasting service: /forecast equals the library's forecasts; caps and bad series refused with 4xx."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from seq2seq.forecasting.forecaster import Forecaster  # noqa: E402
from seq2seq.serving.limits import ServeSettings  # noqa: E402
from seq2seq.serving.service_for_model import create_service, load_served  # noqa: E402
from tests.conftest import tiny_model  # noqa: E402
from tests.forecasting.series_data import el_nino_start, trained  # noqa: E402


@pytest.fixture(scope="module")
def client():
    app = create_service(trained(), ServeSettings(max_series=2, max_history=40))
    with TestClient(app, base_url="http://localhost") as client:
        yield client


def history(steps: int = 30, end: int = 150, **extra) -> dict:
    series = el_nino_start().series[0]
    return {
        "times": [str(t)[:10] for t in series.times[end - steps : end]],
        "targets": {"temperature": series.targets[end - steps : end, 0].tolist()},
        **extra,
    }


def test_a_forecast_equals_the_librarys_for_each_series(client):
    response = client.post("/forecast", json={"series": [history(), history(end=120, id="earlier")]})
    assert response.status_code == 200
    body = response.json()
    assert body["horizon"] == 3 and body["targets"] == ["temperature"]
    series = el_nino_start().series[0]
    expected = trained().forecast(el_nino_start().replace([series.head(150)]))[0]
    first = body["series"][0]
    assert first["times"] == ["1962-07-01", "1962-08-01", "1962-09-01"]
    assert np.allclose(first["point"]["temperature"], expected.point[:, 0], atol=1e-4)
    assert np.allclose(first["intervals"]["95"]["temperature"]["lower"], expected.intervals[0.95][0][:, 0], atol=1e-4)
    assert body["series"][1]["id"] == "earlier" and body["series"][1]["times"][0] == "1960-01-01"


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"series": [history()] * 3}, 413, "too many series: 3, at most 2"),
        ({"series": [history(41)]}, 413, "series[0].targets.temperature has 41 values, at most 40"),
        ({"series": [{"times": ["2020-01-01"], "targets": {"sst": [1.0]}}]}, 422, "names 'sst'; this model reads"),
        ({"series": [history(5)]}, 422, "series[0] has 5 steps of history; this model reads the last 7"),
        ({"series": [{"targets": history()["targets"]}]}, 422, "series[0].times is required"),
        ({"series": [history(times=["x"] * 30)]}, 422, "series[0], step 0, column 'month': 'x' is not an ISO date"),
        ({"series": []}, 422, "series is empty"),
        ({"series": [history()], "texts": ["Go."]}, 422, "unknown option 'texts'; valid ones are: series"),
    ],
    ids=["series-cap", "history-cap", "wrong-target", "short", "no-times", "bad-time", "empty", "text-body"],
)
def test_bad_requests_are_refused_with_one_sentence(client, body, status, message):
    response = client.post("/forecast", json=body)
    assert response.status_code == status and message in response.json()["error"]


def test_info_health_and_unknown_paths(client):
    info = client.get("/info").json()
    assert info["task"] == "forecasting" and info["architecture"]["horizon"] == 3 and info["calendar"] == ["month"]
    assert info["limits"]["max_series"] == 2 and "history" not in info["training"]
    assert client.get("/health").json() == {"status": "ok"}
    assert client.post("/translate", json={"texts": ["Go."]}).json()["error"].endswith("/forecast, /info and /health.")


def test_each_model_file_gets_its_own_service(tmp_path):
    trained().save(tmp_path / "nino.keras")
    tiny_model(seed=1).save(tmp_path / "text.keras")
    assert isinstance(load_served(tmp_path / "nino.keras"), Forecaster)
    text = load_served(tmp_path / "text.keras")
    paths = {route.path for route in create_service(text).routes}
    assert "/translate" in paths and "/forecast" not in paths
