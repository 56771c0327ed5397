"""The HTTP service: POST /translate, POST /attention, GET /health, GET /info and a web page at /.

`create_app(model, ServeSettings())` returns a FastAPI application over one loaded model.
Every model call runs in one worker thread (see `batcher.py`). A request is checked whole
before it waits for the worker (text policy, caps, work budget: `limits.py`); it then waits
at most its deadline, and is dropped as soon as its client disconnects. Every client mistake
is answered with a 4xx status and `{"error": "<one sentence>"}` (`refusals.py`); what reaches
the application at all passes `guard.py` (Host header, token, body size and read time).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from seq2seq.search.config import SearchConfig
from seq2seq.serving.batcher import Batcher
from seq2seq.serving.guard import Guard
from seq2seq.serving.limits import (
    RequestError,
    ServeSettings,
    check_search,
    check_targets,
    check_unknown,
    check_work,
    checked_prefixes,
    checked_texts,
    source_ids,
)
from seq2seq.serving.refusals import add_error_handlers, failure, without_paths
from seq2seq.serving.schema import AttentionRequest, ScoreRequest, TranslateRequest, search_config
from seq2seq.translation.prefixes import continuation

PAGE = Path(__file__).with_name("page.html")

__all__ = ["RequestError", "ServeSettings", "create_app"]


def create_app(model, settings: ServeSettings | None = None) -> FastAPI:
    """A FastAPI application serving `model` (a loaded `Seq2Seq`)."""
    settings = settings or ServeSettings()
    batcher = Batcher(
        lambda items, config: translate_items(model, items, config),
        settings.max_batch,
        settings.max_wait_ms,
        settings.batching,
        settings.slice_work,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await batcher.close()

    description = "Translate with a trained recurrent encoder-decoder."
    app = FastAPI(title="keras-seq2seq", description=description, lifespan=lifespan)
    app.state.batcher = batcher
    app.add_middleware(Guard, settings=settings)
    add_error_handlers(app)

    @app.post("/translate")
    async def translate(request: TranslateRequest, http: Request):
        """Translate `texts`; `translations` holds the best of each, `hypotheses` the n-best with scores
        (when `scores` or `nbest` > 1). With a `prefix` (one for all texts, or one per text) every
        output starts with it, and `continuations` holds what the best one adds after it."""
        config = search_config(request)
        check_search(config, settings)
        texts = checked_texts(request.texts, settings)
        encoded = source_ids(model, texts)
        if config.strict:
            check_unknown(model, texts, encoded)
        prefixes, prefix_ids = checked_prefixes(model, request.prefix, len(texts), config, settings)
        costs = check_work(config, encoded, settings, prefix_ids)
        items = texts if prefixes is None else list(zip(texts, prefixes))
        results = await answered(http, batcher.translate(items, config, costs), settings, "translating")
        body = {"translations": [hypotheses[0].text if hypotheses else "" for hypotheses in results]}
        if prefixes is not None:
            rest = [[continuation(model.target_vocab, p, h.text) for h in found] for p, found in zip(prefixes, results)]
            body["continuations"] = [after[0] if after else "" for after in rest]
        if request.scores or config.nbest > 1:
            body["hypotheses"] = [[{"text": h.text, "score": h.score} for h in hypotheses] for hypotheses in results]
            if prefixes is not None:
                for hypotheses, after in zip(body["hypotheses"], rest):
                    for hypothesis, text in zip(hypotheses, after):
                        hypothesis["continuation"] = text
        return body

    @app.post("/score")
    async def score(request: ScoreRequest, http: Request):
        """Each [source, target] pair's log-probability: `total`, `tokens` (the end counted), `per_token`, and
        `normalised` (beam search's score with the request's penalties; the total without them)."""
        for index, pair in enumerate(request.pairs):
            if len(pair) != 2:
                raise RequestError(f"pairs[{index}] has {len(pair)} texts; send [source, target].")
        sources = checked_texts([source for source, _ in request.pairs], settings, "pairs")
        targets = checked_texts([target for _, target in request.pairs], settings, "pairs")
        encoded = source_ids(model, sources, "pairs")
        if request.strict:
            check_unknown(model, sources, encoded)
        check_targets(model, targets, settings)
        penalties = {"length_penalty": request.length_penalty, "coverage_penalty": request.coverage_penalty}
        penalties = {name: value for name, value in penalties.items() if value is not None}
        try:
            config = SearchConfig(beam=2 if penalties else 1, strict=request.strict, **penalties)
        except ValueError as error:
            raise RequestError(str(error)) from None
        check_search(config, settings)
        work = batcher.run_in_worker(model.score, list(zip(sources, targets)), config)
        scores = await answered(http, work, settings, "scoring")
        return {"scores": [found._asdict() for found in scores]}

    @app.post("/attention")
    async def attention(request: AttentionRequest, http: Request):
        """The greedy translation of `text` with its attention weights `(output tokens, source tokens)`."""
        from seq2seq.evaluation.attention_plot import attention_matrix, display_token

        if not model.has_attention:
            raise RequestError("this model has no attention, so it has no attention weights.", status=409)
        (text,) = checked_texts([request.text], settings, "text")
        (ids,) = source_ids(model, [text], "text")
        if not ids:
            raise RequestError("text has no tokens, so there is nothing to attend to; send a sentence.")
        if request.max_length is not None and not 0 < request.max_length <= settings.max_output_tokens:
            limit = settings.max_output_tokens
            raise RequestError(f"max_length must be an integer from 1 to {limit}, got {request.max_length}.")
        work = batcher.run_in_worker(attention_matrix, model, text, request.max_length)
        sources, ids, weights = await answered(http, work, settings, "the attention of this text")
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
        """The model's architecture, vocabularies and tokenizer, the service's limits and how many requests
        and batches it served."""
        served = {"requests": batcher.requests_received, "batches": batcher.batches_decoded}
        return without_paths({**model_summary(model), "limits": settings.limits(), "served": served})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return app


def translate_items(model, items: list, config: SearchConfig) -> list:
    """The batcher's decode: `items` are texts, or `(text, prefix)` pairs where some request in the slice had
    prefixes (a plain text among them has none)."""
    if all(isinstance(item, str) for item in items):
        return model.translate_nbest(items, config)
    texts = [item if isinstance(item, str) else item[0] for item in items]
    prefixes = [None if isinstance(item, str) else item[1] for item in items]
    return model.translate_nbest(texts, config, prefixes=prefixes)


async def answered(http: Request, work, settings: ServeSettings, what: str):
    """The result of `work`, unless the deadline passes or the client leaves first: then the work is cancelled."""
    task = asyncio.ensure_future(work)
    left = asyncio.ensure_future(disconnected(http))
    try:
        done, _ = await asyncio.wait({task, left}, timeout=settings.deadline_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        left.cancel()
        if not task.done():
            task.cancel()
    if task in done:
        try:
            return task.result()
        except Exception as error:
            raise failure(error, what, settings.debug) from None
    if left in done:
        raise RequestError("the client disconnected; the request was cancelled.", 499)
    raise RequestError(
        f"the request was not answered within its deadline of {settings.deadline_s:g} s, so it was cancelled; "
        "send fewer texts, a smaller beam or max_length, or try again when the server is less busy.",
        503,
    )


async def disconnected(http: Request) -> None:
    """Return once the client has disconnected (the body is already read, so only that message is left)."""
    while (await http.receive())["type"] != "http.disconnect":
        await asyncio.sleep(0.05)  # an empty body message: look again, without spinning


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
