"""The service's /score: the library's scores of given pairs, and clear refusals."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from seq2seq.serving.app import ServeSettings, create_app  # noqa: E402
from tests.conftest import tiny_model  # noqa: E402

PAIRS = [["Go.", "Va !"], ["Who are you?", "Qui es-tu ?"], ["Hi.", "Salut."]]


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=7, attention="luong-general", embedding_dim=3)


@pytest.fixture(scope="module")
def client(model):
    settings = ServeSettings(max_texts=4, max_chars=40, max_work=60)
    with TestClient(create_app(model, settings), base_url="http://localhost") as client:
        yield client


def test_scores_equal_the_library_with_and_without_penalties(client, model):
    body = client.post("/score", json={"pairs": PAIRS}).json()
    expected = model.score([tuple(pair) for pair in PAIRS])
    assert [row["tokens"] for row in body["scores"]] == [found.tokens for found in expected]
    assert [row["total"] for row in body["scores"]] == pytest.approx([found.total for found in expected], abs=1e-5)
    assert [row["normalised"] for row in body["scores"]] == pytest.approx([row["total"] for row in body["scores"]])
    penalised = client.post("/score", json={"pairs": PAIRS, "length_penalty": 1.0}).json()["scores"]
    wanted = model.score([tuple(pair) for pair in PAIRS], beam=2, length_penalty=1.0)
    assert [row["normalised"] for row in penalised] == pytest.approx([found.normalised for found in wanted], abs=1e-5)
    assert penalised[0]["normalised"] != pytest.approx(penalised[0]["total"])


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"pairs": []}, 422, "pairs is empty"),
        ({"pairs": [["Go."]]}, 422, "pairs"),
        ({"pairs": [["Go.", "Va !"]] * 5}, 413, "too many texts"),
        ({"pairs": [["Go.", "a " * 19]] * 4}, 413, "at most 60 on this server"),
        ({"pairs": [["Go.", "Va !"]], "length_penalty": -1}, 422, "length_penalty"),
    ],
    ids=["empty", "not-a-pair", "too-many", "too-much-work", "bad-penalty"],
)
def test_a_bad_score_request_gets_one_clear_refusal(client, body, status, message):
    response = client.post("/score", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
