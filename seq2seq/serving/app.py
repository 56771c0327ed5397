"""The HTTP service: POST /translate, POST /attention, GET /health, GET /info and a web page at /.

`create_app(model, ServeSettings())` returns a FastAPI application over one loaded model.
Every model call runs in one worker thread (see `batcher.py`); every client mistake is
answered with a 4xx status and `{"error": "<one sentence>"}`, never a 500.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from seq2seq.errors import ConfigError, Seq2SeqError
from seq2seq.serving.batcher import Batcher
from seq2seq.serving.schema import SERVER_SETTINGS, AttentionRequest, TranslateRequest, search_config
from seq2seq.translation.translator import unknown_source_tokens
from seq2seq.validation import require_positive_int

PAGE = Path(__file__).with_name("page.html")
MAX_OUTPUT_TOKENS = 1000  # a larger max_length would only let one request hold the worker for long
MAX_BEAM = 32
MAX_NGRAM = 16  # no_repeat_ngram: larger sizes only cost memory and time
SEED_RANGE = (-(2**31), 2**31 - 1)  # what the random generator's state holds


@dataclass(frozen=True)
class ServeSettings:
    """Limits and batching knobs of the service."""

    max_texts: int = 64  # most texts in one request
    max_chars: int = 1000  # most characters in one text
    max_batch: int = 64  # most sentences decoded together
    max_wait_ms: float = 5.0  # longest a request waits for others to share its batch
    batching: bool = True  # gather concurrent requests into one decode

    def __post_init__(self) -> None:
        for name in ("max_texts", "max_chars", "max_batch"):
            require_positive_int(name, getattr(self, name))
        if not isinstance(self.max_wait_ms, (int, float)) or self.max_wait_ms < 0:
            raise ConfigError(f"max_wait_ms must be a number >= 0, got {self.max_wait_ms!r}.")


class RequestError(Seq2SeqError):
    """A request the service refuses; `status` is its HTTP status code."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def create_app(model, settings: ServeSettings | None = None) -> FastAPI:
    """A FastAPI application serving `model` (a loaded `Seq2Seq`)."""
    settings = settings or ServeSettings()
    batcher = Batcher(model.translate_nbest, settings.max_batch, settings.max_wait_ms, settings.batching)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await batcher.close()

    app = FastAPI(title="keras-seq2seq", description="Translate with a trained recurrent encoder-decoder.", lifespan=lifespan)
    app.state.batcher = batcher
    add_error_handlers(app)

    @app.post("/translate")
    async def translate(request: TranslateRequest):
        """Translate `texts`; `translations` holds the best of each, `hypotheses` the n-best with scores (when `scores` or `nbest` > 1)."""
        config = search_config(request)
        check_search(config)
        check_texts(model, request.texts, settings, config.strict)
        results = await batcher.translate(request.texts, config)
        body = {"translations": [hypotheses[0].text if hypotheses else "" for hypotheses in results]}
        if request.scores or config.nbest > 1:
            body["hypotheses"] = [[{"text": h.text, "score": h.score} for h in hypotheses] for hypotheses in results]
        return body

    @app.post("/attention")
    async def attention(request: AttentionRequest):
        """The greedy translation of `text` with its attention weights `(output tokens, source tokens)`."""
        from seq2seq.evaluation.attention_plot import attention_matrix, display_token

        if not model.has_attention:
            raise RequestError("this model has no attention, so it has no attention weights.", status=409)
        check_texts(model, [request.text], settings, strict=False)
        if not model.source_vocab.encode(request.text):
            raise RequestError("text has no tokens, so there is nothing to attend to; send a sentence.")
        if request.max_length is not None and not 0 < request.max_length <= MAX_OUTPUT_TOKENS:
            raise RequestError(f"max_length must be an integer from 1 to {MAX_OUTPUT_TOKENS}, got {request.max_length}.")
        sources, ids, weights = await batcher.run_in_worker(attention_matrix, model, request.text, request.max_length)
        return {
            "translation": model.target_vocab.decode(ids),
            "source_tokens": sources,
            "output_tokens": [display_token(model.target_vocab.tokens[i]) for i in ids],
            "weights": [[round(float(w), 4) for w in row] for row in weights],
        }

    @app.get("/health")
    async def health():
        """`{"status": "ok"}` once the model is loaded."""
        return {"status": "ok"}

    @app.get("/info")
    async def info():
        """The model's architecture, vocabularies and tokenizer, the service's limits and how many requests and batches it served."""
        served = {"requests": batcher.requests_received, "batches": batcher.batches_decoded}
        return {**model_summary(model), "limits": settings.__dict__.copy(), "served": served}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return app


def check_search(config) -> None:
    """Refuse settings that would hold the worker thread for long."""
    if config.max_length is not None and config.max_length > MAX_OUTPUT_TOKENS:
        raise RequestError(f"max_length is at most {MAX_OUTPUT_TOKENS} on this server, got {config.max_length}.")
    if config.beam > MAX_BEAM:
        raise RequestError(f"beam is at most {MAX_BEAM} on this server, got {config.beam}.")
    if config.no_repeat_ngram > MAX_NGRAM:
        raise RequestError(f"no_repeat_ngram is at most {MAX_NGRAM} on this server, got {config.no_repeat_ngram}.")
    if config.seed is not None and not SEED_RANGE[0] <= config.seed <= SEED_RANGE[1]:
        raise RequestError(f"seed must be an integer from {SEED_RANGE[0]} to {SEED_RANGE[1]}, got {config.seed}.")


def check_texts(model, texts: list[str], settings: ServeSettings, strict: bool) -> None:
    """Refuse requests over the limits, and unknown tokens when `strict` is set."""
    if not texts:
        raise RequestError("texts is empty; send at least one text.")
    if len(texts) > settings.max_texts:
        raise RequestError(f"too many texts: {len(texts)}, at most {settings.max_texts} per request; split the request.", 413)
    for index, text in enumerate(texts):
        if len(text) > settings.max_chars:
            raise RequestError(f"texts[{index}] has {len(text)} characters, at most {settings.max_chars} are allowed.", 413)
    if strict:
        vocabulary = model.source_vocab
        unknown = unknown_source_tokens(vocabulary, texts, [vocabulary.encode(text) for text in texts])
        if unknown:
            listed = ", ".join(repr(token) for token in unknown[:20])
            raise RequestError(f"{len(unknown)} source token(s) are not in the model's vocabulary: {listed}; without strict they are read as <unk>.")


def model_summary(model) -> dict:
    """What `/info` says about a model."""
    tokenizer = model.source_vocab.tokenizer
    training = {key: value for key, value in model.training_summary.items() if key != "history"}
    return {
        "architecture": model.model_config.to_dict(),
        "has_attention": model.has_attention,
        "tokenizer": {"name": tokenizer.name, "lowercase": tokenizer.lowercase},
        "vocabulary": {"source": len(model.source_vocab), "target": len(model.target_vocab)},
        "parameters": model.count_params(),
        "precision": model.precision,
        "decoder_states": model.state_names,
        "training": training,
    }


def add_error_handlers(app: FastAPI) -> None:
    """Answer every refused request with `{"error": "..."}` and a 4xx status."""

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError):
        status, message = describe_validation_error(error.errors())
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(RequestError)
    async def refused(request: Request, error: RequestError):
        return JSONResponse({"error": str(error)}, status_code=error.status)

    @app.exception_handler(ConfigError)
    async def invalid_setting(request: Request, error: ConfigError):
        return JSONResponse({"error": str(error)}, status_code=422)


def describe_validation_error(errors) -> tuple[int, str]:
    """(status, one sentence) for the first problem pydantic found in a request body."""
    if not errors:
        return 422, "the request body is invalid."
    first = errors[0]
    kind, location = first.get("type", ""), [str(part) for part in first.get("loc", ()) if part != "body"]
    field = location[0] if location else ""
    where = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in location[1:])
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "malformed")
        return 400, f"the request body is not valid JSON ({reason}); send an object such as {{\"texts\": [\"Go.\"]}}."
    if kind == "extra_forbidden":
        if field in SERVER_SETTINGS:
            return 422, f"{field} is set by the server ({SERVER_SETTINGS[field]}), not per request."
        valid = ", ".join(sorted(TranslateRequest.model_fields))
        return 422, f"unknown option {field!r}; valid ones are: {valid}."
    if kind == "missing":
        return 422, f"{field} is required." if field else "the request body is missing; send a JSON object."
    if not field:
        return 422, 'the request body must be a JSON object such as {"texts": ["Go."]}, sent as Content-Type: application/json.'
    return 422, f"{field}{where}: {first.get('msg', 'invalid value')} (got {first.get('input')!r})."
