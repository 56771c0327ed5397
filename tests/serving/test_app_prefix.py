"""The service's `prefix` field: outputs that start with it, continuations, refusals, and the page's autocomplete."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from seq2seq.search.config import SearchConfig  # noqa: E402
from seq2seq.serving.app import PAGE, ServeSettings, create_app, translate_items  # noqa: E402
from tests.conftest import tiny_model  # noqa: E402

SOURCES = ["Go.", "Who are you?", "Hi."]


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=9, attention="luong-general", embedding_dim=3)


@pytest.fixture(scope="module")
def client(model):
    settings = ServeSettings(max_texts=5, max_chars=40, max_work=400)
    with TestClient(create_app(model, settings), base_url="http://localhost") as client:
        yield client


def refusal(response, status: int = 422) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert "\n" not in message
    return message


def test_one_prefix_starts_every_output_and_continuations_hold_what_follows_it(client, model):
    body = client.post("/translate", json={"texts": SOURCES, "prefix": "Qui ", "beam": 3, "nbest": 2}).json()
    expected = model.translate_nbest(SOURCES, beam=3, nbest=2, prefixes="Qui ")
    assert body["translations"] == [found[0].text for found in expected]
    assert all(text.startswith("Qui") for text in body["translations"])
    assert body["continuations"] == [text.removeprefix("Qui") for text in body["translations"]]
    for hypotheses, found in zip(body["hypotheses"], expected):
        assert [h["score"] for h in hypotheses] == pytest.approx([h.score for h in found], abs=1e-5)
        assert [h["continuation"] for h in hypotheses] == [h.text.removeprefix("Qui") for h in found]


def test_a_list_gives_each_text_its_own_prefix_and_an_empty_one_none(client, model):
    body = client.post("/translate", json={"texts": SOURCES, "prefix": ["Sa", "", "C"]}).json()
    assert body["translations"] == model.translate(SOURCES, prefixes=["Sa", None, "C"])
    assert body["translations"][1] == model.translate(SOURCES[1:2])[0]
    assert "hypotheses" not in body


def test_bad_prefixes_are_refused_with_one_sentence_naming_the_field(client):
    post = lambda body: client.post("/translate", json={"texts": SOURCES[:2], **body})  # noqa: E731
    assert "prefix holds 3 texts for 2 texts" in refusal(post({"prefix": ["a", "b", "c"]}))
    message = refusal(post({"prefix": ["Sa", "Va z"]}))
    assert message.startswith("prefix[1]: the prefix has token(s) the model's target vocabulary lacks: 'z'")
    assert "max_length is 4 and counts the prefix" in refusal(post({"prefix": "Salut", "max_length": 4}))
    assert "prefix has 41 characters, at most 40" in refusal(post({"prefix": "S" * 41}), 413)
    refusal(post({"prefix": 3}))
    surrogate = json.dumps({"texts": ["Go."], "prefix": "Sa\udce9"}).encode()  # escaped: JSON allows it
    headers = {"Content-Type": "application/json"}
    assert refusal(client.post("/translate", content=surrogate, headers=headers)).startswith("prefix: ")


def test_a_prefix_counts_towards_the_work_budget(client):
    long = "Salut ! Cours ! Qui êtes-vous ? Va !"  # 36 tokens: 46 per text, 230 over five
    assert client.post("/translate", json={"texts": ["Go."] * 5, "prefix": long[:30]}).status_code == 200
    assert "work is 460" in refusal(
        client.post("/translate", json={"texts": ["Go."] * 5, "prefix": long, "beam": 2}), 413
    )


def test_a_slice_of_texts_with_and_without_prefixes_gives_each_what_it_gets_alone(model):
    config = SearchConfig(beam=2)
    mixed = translate_items(model, ["Go.", ("Hi.", "C"), ("Who are you?", None)], config)
    alone = [
        model.translate_nbest(["Go."], config)[0],
        model.translate_nbest(["Hi."], config, prefixes="C")[0],
        model.translate_nbest(["Who are you?"], config)[0],
    ]
    assert [[h.text for h in found] for found in mixed] == [[h.text for h in found] for found in alone]


def test_the_page_has_a_target_box_whose_request_the_service_accepts(client):
    page = client.get("/").text
    assert 'id="target"' in page and 'id="suggestion"' in page
    request = re.search(r"const request = (\{ texts: \[source\][^;]*\});", page)
    assert request is not None
    fields = set(re.findall(r"(\w+):", request.group(1))) | set(re.findall(r"request\.(\w+) = prefix", page))
    assert fields == {"texts", "beam", "nbest", "scores", "prefix"}
    body = {"texts": ["Hi."], "beam": 5, "nbest": 5, "scores": True, "prefix": "Sal"}
    hypotheses = client.post("/translate", json=body).json()["hypotheses"][0]
    assert len(hypotheses) == 5 and all("continuation" in h for h in hypotheses)


NODE_CHECK = """
{functions}
const result = {{ hypotheses: [[
  {{ text: "Qui va là", score: -1, continuation: " va là" }},
  {{ text: "Qui vient", score: -2, continuation: " vient" }},
]] }};
console.log(JSON.stringify([
  splitTyped("Qui vi"), splitTyped("Qui "), splitTyped("Qu"),
  pickContinuation(result, "Qui", "vi"), pickContinuation(result, "Qui", ""), pickContinuation(result, "Qui", "x"),
  pickContinuation({{ hypotheses: [[{{ text: "Qui va", score: -1 }}]] }}, "", "qu"),
]));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_pages_autocomplete_sends_the_complete_words_and_shows_what_agrees_with_the_word_being_typed():
    script = PAGE.read_text(encoding="utf-8")
    functions = "\n".join(
        re.search(rf"function {name}\(.*?\n}}\n", script, re.S).group(0) for name in ("splitTyped", "pickContinuation")
    )
    out = subprocess.run(
        ["node", "-e", NODE_CHECK.format(functions=functions)], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert json.loads(out) == [
        {"prefix": "Qui", "partial": "vi"},
        {"prefix": "Qui", "partial": ""},
        {"prefix": "", "partial": "Qu"},
        "ent",
        "va là",
        "",
        "i va",
    ]
