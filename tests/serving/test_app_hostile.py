"""The service under hostile or careless clients: one request cannot fail, stall or bloat the others.

The cases are the probes of issue 29: a lone surrogate batched with good requests, a request
inside the old limits that held the worker for minutes, abandoned requests, huge bodies, slow
clients, a foreign Host header, no token, local paths in /info, and random bytes as bodies.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import keras
import pytest
from hypothesis import given, settings, strategies

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from seq2seq.config import ModelConfig  # noqa: E402
from seq2seq.data.tokenizers import SubwordTokenizer  # noqa: E402
from seq2seq.data.vocabulary import Vocabulary  # noqa: E402
from seq2seq.models.seq2seq import Seq2Seq  # noqa: E402
from seq2seq.serving.app import ServeSettings, create_app  # noqa: E402
from seq2seq.serving.server import BackgroundServer  # noqa: E402
from tests.conftest import tiny_model  # noqa: E402

SOURCES = ["Go.", "Hi.", "Run!", "Who are you?", "Wait here.", "I see it."]
TARGETS = ["Va !", "Salut !", "Cours !", "Qui êtes-vous ?", "Attends ici.", "Je le vois."]
LOCAL = "http://localhost"


@pytest.fixture(scope="module")
def subword_model():
    """An untrained model over SentencePiece pieces: its tokenizer raises on a lone surrogate."""
    keras.utils.set_random_seed(3)
    source = Vocabulary.build(SOURCES, SubwordTokenizer.train(SOURCES, vocab_size=40))
    target = Vocabulary.build(TARGETS, SubwordTokenizer.train(TARGETS, vocab_size=45))
    return Seq2Seq(ModelConfig(units=7, tokenizer="subword"), source, target)


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=6, attention="luong-general", embedding_dim=5)


class Slow:
    """`model` whose decode calls (those holding `only`, if given) take `seconds` longer; counted (texts per call)."""

    def __init__(self, model, seconds: float = 0.2, fail_on: str | None = None, only: str | None = None):
        self.model, self.seconds, self.fail_on, self.only, self.calls = model, seconds, fail_on, only, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def translate_nbest(self, texts, search=None):
        self.calls.append(len(texts))
        if self.fail_on in texts:
            raise RuntimeError("Unable to cast Python instance of type <class 'str'>\nat /home/someone/x.cc:12\n...")
        if self.only is None or self.only in texts:
            time.sleep(self.seconds)
        return self.model.translate_nbest(texts, search)


def post(url: str, body, headers: dict | None = None, timeout: float = 60) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def head(framing: str) -> bytes:
    """The start of a POST /translate whose body is framed by `framing` (a Content-Length or chunked)."""
    lines = ["POST /translate HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", framing, "", ""]
    return "\r\n".join(lines).encode()


def raw_exchange(url: str, data: bytes, pause: float = 0.0, timeout: float = 10) -> bytes:
    """Send `data` on a new connection (then wait `pause` seconds); everything the server answers until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(data)
        time.sleep(pause)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_lone_surrogate_among_concurrent_good_requests_fails_alone(subword_model):
    good = [[text] for text in SOURCES * 2]
    with BackgroundServer(subword_model, max_wait_ms=100) as url, ThreadPoolExecutor(8) as pool:
        poisoned = [pool.submit(post, f"{url}/translate", {"texts": ["x\udce9"]}) for _ in range(4)]
        answers = list(pool.map(lambda texts: post(f"{url}/translate", {"texts": texts}), good))
        poisoned = [future.result() for future in poisoned]
    assert [status for status, _ in answers] == [200] * len(good)
    assert [body["translations"] for _, body in answers] == [subword_model.translate(texts) for texts in good]
    assert [status for status, _ in poisoned] == [422] * 4
    assert all("texts[0]: not UTF-8 text (byte 0xe9 at character 1)" in body["error"] for _, body in poisoned)


def test_a_decode_failure_fails_only_its_request_with_one_line_and_one_log_line(model):
    slow = Slow(model, seconds=0.0, fail_on="Hi.")
    lines: list[logging.LogRecord] = []
    with BackgroundServer(slow, max_wait_ms=150) as url, ThreadPoolExecutor(6) as pool:
        handler = logging.Handler()
        handler.emit = lines.append
        logging.getLogger("uvicorn.error").addHandler(handler)
        try:
            texts = ["Go.", "Hi.", "Run!", "Go."]
            answers = list(pool.map(lambda text: post(f"{url}/translate", {"texts": [text]}), texts))
        finally:
            logging.getLogger("uvicorn.error").removeHandler(handler)
    assert [status for status, _ in answers] == [200, 500, 200, 200]
    error = answers[1][1]["error"]
    assert error.startswith("translating failed on the server (RuntimeError: Unable to cast") and "\n" not in error
    assert [record.exc_info for record in lines] == [None]  # one line, no traceback
    assert max(slow.calls) > 1  # the good requests were batched with the bad one, then retried alone


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model, ServeSettings(max_texts=6, max_work=1000)), base_url=LOCAL) as client:
        yield client


def test_the_work_of_a_request_is_capped_and_the_refusal_names_the_figures(client):
    status = client.post("/translate", json={"texts": ["Go."] * 4, "beam": 4, "max_length": 60}).status_code
    refused = client.post("/translate", json={"texts": ["Go."] * 5, "beam": 4, "max_length": 60})
    assert status == 200 and refused.status_code == 413
    expected = "work is 1,200 (beam 4 × 300 output tokens over 5 text(s)), at most 1,000 on this server"
    assert refused.json()["error"].startswith(expected)


def test_the_request_that_held_the_worker_for_minutes_is_refused_at_once(model):
    body = {"texts": ["x" * 1000] * 64, "beam": 32, "min_length": 999, "max_length": 1000}
    with TestClient(create_app(model), base_url=LOCAL) as client:
        started = time.monotonic()
        response = client.post("/translate", json=body)
        assert response.status_code == 422
        assert response.json()["error"] == "min_length is 999, at most 256 on this server."
        body["min_length"] = 0
        response = client.post("/translate", json=body)
        assert response.status_code == 413 and response.json()["error"].startswith("work is 2,048,000")
    assert time.monotonic() - started < 5


def test_a_request_past_its_deadline_gets_a_503_and_its_remaining_work_is_dropped(model):
    slow = Slow(model, seconds=0.2)
    with TestClient(create_app(slow, ServeSettings(deadline_s=0.4, slice_work=1)), base_url=LOCAL) as client:
        response = client.post("/translate", json={"texts": ["Go."] * 8})
        time.sleep(0.5)
        assert client.get("/health").status_code == 200
    assert response.status_code == 503
    assert response.json()["error"].startswith("the request was not answered within its deadline of 0.4 s")
    assert sum(slow.calls) < 8


def test_a_request_whose_client_left_stops_being_decoded(model):
    slow = Slow(model, seconds=0.2)
    body = json.dumps({"texts": ["Go.", "Hi.", "Run!", "Who are you?"] * 2}).encode()
    with BackgroundServer(slow, slice_work=1, max_wait_ms=0) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(head(f"Content-Length: {len(body)}") + body)
            time.sleep(0.3)
        time.sleep(1.0)
        decoded = sum(slow.calls)
        assert post(f"{url}/translate", {"texts": ["Go."]})[0] == 200
    assert decoded < 8


def test_a_body_declared_too_large_is_refused_before_it_is_read(model):
    with BackgroundServer(model, max_body_bytes=20_000) as url:
        answer = raw_exchange(url, head("Content-Length: 56000000") + b'{"texts": ["')  # the other 56 MB never come
        chunk = b"2710\r\n" + b" " * 10_000 + b"\r\n"
        streamed = raw_exchange(url, head("Transfer-Encoding: chunked") + chunk * 3)
        absurd = raw_exchange(url, head("Content-Length: " + "9" * 5000))  # more digits than int() takes
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"the request body is 56,000,000 bytes, at most 20,000 on this server' in answer
    assert streamed.startswith(b"HTTP/1.1 413 ") and b"at most 20,000 on this server" in streamed
    assert absurd.startswith(b"HTTP/1.1 413 ") or absurd.startswith(b"HTTP/1.1 400 ")


def test_slow_clients_are_cut_off_after_the_read_timeout(model):
    with BackgroundServer(model, read_timeout_s=0.5) as url:
        started = time.monotonic()
        answer = raw_exchange(url, head("Content-Length: 100") + b'{"te')
        body_seconds = time.monotonic() - started
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            started = time.monotonic()
            with pytest.raises(OSError):  # one byte of headers every 0.1 s: closed after the timeout
                for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
                    connection.send(bytes([byte]))
                    time.sleep(0.1)
            header_seconds = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ") and b"did not arrive within 0.5 s" in answer
    assert body_seconds < 3 and header_seconds < 3


@pytest.mark.parametrize(
    "base_url, allowed, status",
    [
        ("http://evil.example:8000", (), 400),
        ("http://localhost:8000", (), 200),
        ("http://127.0.0.1:8000", (), 200),
        ("http://[::1]:8000", (), 200),
        ("http://my.box", ("my.box",), 200),
        ("http://evil.example", ("*",), 200),
    ],
)
def test_only_known_host_names_are_answered(model, base_url, allowed, status):
    with TestClient(create_app(model, ServeSettings(allowed_hosts=allowed)), base_url=base_url) as client:
        response = client.get("/health")
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"].startswith("this service does not answer to the host name 'evil.example'")


def test_a_token_guards_every_endpoint_but_the_page(model):
    with TestClient(create_app(model, ServeSettings(token="s3cret")), base_url=LOCAL) as client:
        for path in ("/health", "/info"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        refused = client.post("/translate", json={"texts": ["Go."]})
        assert refused.status_code == 401 and "Authorization: Bearer" in refused.json()["error"]
        granted = client.post("/translate", json={"texts": ["Go."]}, headers={"Authorization": "Bearer s3cret"})
        assert granted.status_code == 200
        assert client.get("/").status_code == 200
        assert "s3cret" not in client.get("/info", headers={"Authorization": "Bearer s3cret"}).text


def test_info_carries_no_local_paths():
    model = tiny_model(seed=2)
    model.training_summary.update(
        {
            "data": "/home/someone/corpora/fra-eng.txt: 100 pairs",
            "averaged_checkpoints": ["/tmp/run/epoch-2.keras", "C:\\runs\\epoch-3.keras"],
        }
    )
    with TestClient(create_app(model), base_url=LOCAL) as client:
        info = client.get("/info").json()
    assert info["training"]["data"] == "fra-eng.txt: 100 pairs"
    assert info["training"]["averaged_checkpoints"] == ["epoch-2.keras", "epoch-3.keras"]
    assert "/home" not in json.dumps(info) and "/tmp" not in json.dumps(info)


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        ("POST", "/translate", b'{"texts": ["Go\xe9."]}', 400, "the request body is not UTF-8 JSON"),
        ("POST", "/translate", b"{not json", 400, "not valid JSON"),
        ("GET", "/nothing", None, 404, "there is no /nothing here"),
        ("PUT", "/translate", None, 405, "PUT is not allowed on /translate"),
    ],
)
def test_every_error_body_is_an_error_sentence(client, method, path, body, status, message):
    response = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert list(response.json()) == ["error"] and message in response.json()["error"]


@settings(max_examples=150, deadline=None)
@given(body=strategies.binary(max_size=64), path=strategies.sampled_from(["/translate", "/attention"]))
def test_random_bytes_as_a_body_never_get_a_500(client, body, path):
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500
    assert response.status_code == 200 or list(response.json()) == ["error"]


def test_random_bytes_inside_json_texts_never_get_a_500(client):
    pick = random.Random(29)
    for _ in range(60):
        raw = bytes(pick.randrange(256) for _ in range(pick.randrange(1, 12)))
        text = raw.decode("utf-8", errors="surrogateescape")  # undecodable bytes become lone surrogates
        body = json.dumps({"texts": ["Go.", text]})  # a lone surrogate is written as its \\u escape
        response = client.post("/translate", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code in (200, 422), (raw, response.text)


def test_between_the_slices_of_a_heavy_request_other_clients_get_about_half_the_worker(model):
    slow = Slow(model, seconds=0.3, only="Who are you?")
    with BackgroundServer(slow, slice_work=1, max_wait_ms=0) as url:
        for beam in (1, 2):  # compile both searches first
            post(f"{url}/translate", {"texts": ["Go."], "beam": beam})
        heavy = threading.Thread(target=post, args=(f"{url}/translate", {"texts": ["Who are you?"] * 8, "beam": 2}))
        heavy.start()
        time.sleep(0.1)
        answered, started = 0, time.monotonic()
        while time.monotonic() - started < 1.5:  # one client, asking again as soon as it is answered
            answered += post(f"{url}/translate", {"texts": ["Go."]})[0] == 200
        heavy.join()
    # Served only once between two 0.3 s slices, it would get about 5 answers in 1.5 s.
    assert answered > 15
