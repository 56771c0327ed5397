"""The HTTP service: translations equal the library's, clear 4xx errors, batching, the `serve` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from seq2seq.cli import main  # noqa: E402
from seq2seq.serving.app import ServeSettings, create_app  # noqa: E402
from seq2seq.serving.server import BackgroundServer, listen  # noqa: E402
from tests.conftest import tiny_model  # noqa: E402

SOURCES = ["Go.", "Who are you?", "Hi.", "Run!"]


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=5, attention="luong-general", embedding_dim=3)


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model, ServeSettings(max_texts=5, max_chars=40)), base_url="http://localhost") as client:
        yield client


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"beam": 3, "nbest": 2},
        {"beam": 2, "length_penalty": 0.6, "max_length": 6},
        {"sample": True, "seed": 4, "temperature": 0.8, "top_k": 5},
    ],
    ids=["greedy", "nbest", "beam-options", "sampling"],
)
def test_translations_equal_the_library_for_each_search(client, model, options):
    response = client.post("/translate", json={"texts": SOURCES, **options})
    assert response.status_code == 200
    expected = model.translate_nbest(SOURCES, **options)
    assert response.json()["translations"] == [hypotheses[0].text for hypotheses in expected]
    if options.get("nbest", 1) > 1:
        texts = [[h["text"] for h in hs] for hs in response.json()["hypotheses"]]
        assert texts == [[h.text for h in hs] for hs in expected]


def test_scores_are_returned_when_asked(client, model):
    body = client.post("/translate", json={"texts": ["Go."], "scores": True}).json()
    (best,) = model.translate_nbest(["Go."])
    assert body["hypotheses"][0][0]["text"] == best[0].text
    assert body["hypotheses"][0][0]["score"] == pytest.approx(best[0].score, abs=1e-4)
    assert "hypotheses" not in client.post("/translate", json={"texts": ["Go."]}).json()


def test_health_info_page_and_api_docs(client, model):
    assert client.get("/health").json() == {"status": "ok"}
    info = client.get("/info").json()
    assert info["has_attention"] is True and info["architecture"]["attention"] == "luong-general"
    assert info["vocabulary"] == {"source": len(model.source_vocab), "target": len(model.target_vocab)}
    assert info["tokenizer"] == {"name": "char", "lowercase": False}
    assert info["precision"] == "float32"
    assert info["limits"]["max_texts"] == 5
    page = client.get("/")
    assert page.status_code == 200 and 'id="translate"' in page.text
    assert "http" not in page.text.replace("http://", "")  # no external resources
    assert client.get("/docs").status_code == 200
    assert "/translate" in client.get("/openapi.json").json()["paths"]


def test_attention_weights_cover_every_output_and_source_token(client, model):
    body = client.post("/attention", json={"text": "Go."}).json()
    assert body["translation"] == model.translate(["Go."])[0]
    assert body["source_tokens"] == ["G", "o", "."]
    assert len(body["weights"]) == len(body["output_tokens"])
    assert all(len(row) == 3 and sum(row) == pytest.approx(1, abs=1e-3) for row in body["weights"])


def test_a_model_without_attention_answers_409_for_attention():
    with TestClient(create_app(tiny_model(seed=1)), base_url="http://localhost") as client:
        response = client.post("/attention", json={"text": "Go."})
    assert response.status_code == 409 and "has no attention" in response.json()["error"]


BAD_REQUESTS = [
    (b"{not json", 400, "not valid JSON"),
    ({}, 422, "texts is required"),
    ([1, 2], 422, "must be a JSON object"),
    ({"texts": "Go."}, 422, "texts: Input should be a valid list"),
    ({"texts": ["Go.", 3]}, 422, "texts[1]: Input should be a valid string"),
    ({"texts": []}, 422, "texts is empty"),
    ({"texts": ["Go."] * 6}, 413, "too many texts: 6, at most 5"),
    ({"texts": ["x" * 41]}, 413, "texts[0] has 41 characters, at most 40"),
    ({"texts": ["Go."], "beem": 3}, 422, "unknown option 'beem'; valid ones are: beam,"),
    ({"texts": ["Go."], "batch_size": 3}, 422, "batch_size is set by the server"),
    ({"texts": ["Go."], "beam": 0}, 422, "beam must be a positive integer, got 0"),
    ({"texts": ["Go."], "beam": "3"}, 422, "beam: Input should be a valid integer"),
    ({"texts": ["Go."], "beam": 2, "nbest": 3}, 422, "nbest (3) cannot exceed the beam (2)"),
    ({"texts": ["Go."], "temperature": 0}, 422, "temperature must be a number > 0"),
    ({"texts": ["Go."], "top_p": 1.5}, 422, "top_p must be a number in (0, 1]"),
    ({"texts": ["Go."], "sample": True, "beam": 2}, 422, "sampling draws one hypothesis"),
    ({"texts": ["Go."], "seed": True}, 422, "seed: Input should be a valid integer"),
    ({"texts": ["Go."], "max_length": 2000}, 422, "max_length is 2000, at most 1000 on this server"),
    ({"texts": ["Go."], "beam": 3, "no_repeat_ngram": 20}, 422, "no_repeat_ngram is 20, at most 16 on this server"),
    ({"texts": ["Go."], "beam": 33}, 422, "beam is 33, at most 32 on this server"),
    ({"texts": ["Go."], "beam": 12, "nbest": 11}, 422, "nbest is 11, at most 10 on this server"),
    ({"texts": ["Go."], "beam": 2, "min_length": 999, "max_length": 1000}, 422, "min_length is 999, at most 256"),
    ({"texts": ["Go."], "beam": 2, "min_length": 30}, 422, "min_length is 30, but an output may hold only 16 tokens"),
    ({"texts": ["Go.", "x\udce9"]}, 422, "texts[1]: not UTF-8 text (byte 0xe9 at character 1); send UTF-8 text."),
    ({"texts": ["Go.", "\ud800"]}, 422, "texts[1]: not UTF-8 text (a lone surrogate U+D800 at character 0)"),
    ({"texts": ["Go."], "sample": True, "seed": 10**30}, 422, "seed must be an integer from"),
    ({"texts": ["Gqo."], "strict": True}, 422, "not in the model's vocabulary: 'q'"),
]


@pytest.mark.parametrize("body, status, message", BAD_REQUESTS, ids=[m.split(":")[0][:30] for _, _, m in BAD_REQUESTS])
def test_a_bad_request_gets_a_4xx_with_a_clear_message(client, body, status, message):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/translate", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"text": ["Go."]}, 422, "text: Input should be a valid string"),
        ({"text": "Go.", "max_length": 0}, 422, "max_length must be"),
        ({"text": "  "}, 422, "text has no tokens"),
    ],
)
def test_a_bad_attention_request_gets_a_4xx(client, body, status, message):
    response = client.post("/attention", json=body)
    assert response.status_code == status and message in response.json()["error"]


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def test_concurrent_clients_share_batches_and_get_their_own_translations(model):
    texts = [[source] for source in SOURCES * 4]
    server = BackgroundServer(model, max_wait_ms=100)
    with server as url, ThreadPoolExecutor(8) as pool:
        post_json(f"{url}/translate", {"texts": ["Go."]})  # compile first
        results = list(pool.map(lambda t: post_json(f"{url}/translate", {"texts": t}), texts))
    assert [r["translations"] for r in results] == [model.translate(t) for t in texts]
    assert server.app.state.batcher.batches_decoded < 1 + len(texts)


def test_serve_refuses_a_busy_port_and_a_missing_model_in_one_line(capsys, tmp_path):
    busy = listen("127.0.0.1", 0)
    busy.listen()
    port = busy.getsockname()[1]
    try:
        for argv, expected in [
            (["serve", str(tmp_path / "absent.keras"), "--port", "0"], "no such model file"),
            (["serve", str(tmp_path / "absent.keras"), "--port", str(port)], f"cannot listen on 127.0.0.1:{port}"),
            (["serve", "m.keras", "--port", "70000"], "expected a port number from 0 to 65535"),
            (["serve", "m.keras", "--max-wait-ms", "-1"], "expected a number >= 0"),
            (["serve", "m.keras", "--deadline", "0"], "expected a number of seconds > 0"),
            (["serve", "m.keras", "--max-work", "0"], "expected a positive integer"),
            (["serve", str(tmp_path / "absent.keras"), "--port", "0", "--token", " "], "--token is empty"),
        ]:
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and expected in err, err
    finally:
        busy.close()


def test_the_serve_command_loads_the_model_once_and_answers(model, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    probe = listen("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "seq2seq.cli", "serve", str(path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
                time.sleep(0.2)
        body = post_json(f"http://127.0.0.1:{port}/translate", {"texts": SOURCES})
        assert body["translations"] == model.translate(SOURCES)
    finally:
        process.terminate()
        process.wait(timeout=30)
