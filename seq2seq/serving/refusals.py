"""Every error the service answers is `{"error": "<one sentence>"}`, and every failure logs one line.

FastAPI's own answers (validation, unparseable bodies, unknown paths, wrong methods) are
rewritten into that shape; a failure inside the model becomes a 4xx when the text or a setting
is at fault (`Seq2SeqError`, `ValueError`) and a 500 otherwise, with its first line only. No
message carries a local directory: paths are cut to their file names.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from seq2seq.errors import ConfigError, Seq2SeqError
from seq2seq.serving.limits import RequestError
from seq2seq.serving.schema import SERVER_SETTINGS, TranslateRequest

LOG = logging.getLogger("uvicorn.error")  # uvicorn's configured logger: one line per failure on its stream
LONGEST_MESSAGE = 300
# An absolute, home or dot-relative path (POSIX or Windows), not a media type or a URL's path.
_PATH = re.compile(r"(?<![\w~./\\:-])(?:~|\.{1,2}|[A-Za-z]:)?(?:[\\/][^\\/\s'\",:;()\[\]{}<>]+)+[\\/]?")
EXAMPLE = '{"texts": ["Go."]}'
FASTAPI_DETAILS = {  # FastAPI's sentences, as ours
    "There was an error parsing the body": (
        f"the request body is not UTF-8 JSON; send an object such as {EXAMPLE} encoded as UTF-8."
    ),
}


def without_paths(value):
    """`value` (text, or lists and dicts of it) with every path cut to its last part, the file name."""
    if isinstance(value, str):
        return _PATH.sub(lambda found: re.split(r"[\\/]", found.group().rstrip("\\/"))[-1], value)
    if isinstance(value, dict):
        return {key: without_paths(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_paths(item) for item in value]
    return value


def one_line(error: BaseException) -> str:
    """The first line of an error's message, without paths, at most `LONGEST_MESSAGE` characters."""
    lines = str(error).strip().splitlines()
    text = without_paths(lines[0] if lines else type(error).__name__)
    return text if len(text) <= LONGEST_MESSAGE else text[: LONGEST_MESSAGE - 3] + "..."


def failure(error: Exception, what: str, debug: bool = False) -> RequestError:
    """The refusal a request gets when `what` failed with `error`, logged in one line (or with its traceback)."""
    if isinstance(error, RequestError):
        return error
    if isinstance(error, (Seq2SeqError, ValueError)):
        refusal = RequestError(f"{what} failed: {one_line(error)}", 422)
        LOG.warning("%s (%s)", refusal, type(error).__name__, exc_info=error if debug else None)
    else:
        refusal = RequestError(f"{what} failed on the server ({type(error).__name__}: {one_line(error)}).", 500)
        LOG.error("%s", refusal, exc_info=error if debug else None)
    return refusal


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def add_error_handlers(
    app: FastAPI,
    endpoints: str = "/translate, /attention, /info, /health and /",
    request_model=TranslateRequest,
    example: str = EXAMPLE,
) -> None:
    """Answer every refused request with `{"error": "..."}` and its status.

    `endpoints` is what a 404 lists; `request_model` and `example` are the body the service's
    main endpoint takes, which messages about a malformed body name.
    """

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError):
        return error_response(*describe_validation_error(error.errors(), request_model, example))

    @app.exception_handler(RequestError)
    async def refused(request: Request, error: RequestError):
        return error_response(error.status, str(error))

    @app.exception_handler(ConfigError)
    async def invalid_setting(request: Request, error: ConfigError):
        return error_response(422, str(error))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        message = FASTAPI_DETAILS.get(detail, detail).replace(EXAMPLE, example)
        if error.status_code == 404:
            message = f"there is no {request.url.path} here; the endpoints are {endpoints}."
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        return error_response(error.status_code, message, error.headers)


def describe_validation_error(errors, request_model=TranslateRequest, example: str = EXAMPLE) -> tuple[int, str]:
    """(status, one sentence) for the first problem pydantic found in a request body of `request_model`."""
    if not errors:
        return 422, "the request body is invalid."
    first = errors[0]
    kind, location = first.get("type", ""), [str(part) for part in first.get("loc", ()) if part != "body"]
    field = location[0] if location else ""
    where = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in location[1:])
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "malformed")
        return 400, f"the request body is not valid JSON ({reason}); send an object such as {example}."
    if kind == "extra_forbidden":
        if field in SERVER_SETTINGS:
            return 422, f"{field} is set by the server ({SERVER_SETTINGS[field]}), not per request."
        valid = ", ".join(sorted(request_model.model_fields))
        return 422, f"unknown option {field!r}; valid ones are: {valid}."
    if kind == "missing":
        return 422, f"{field} is required." if field else "the request body is missing; send a JSON object."
    if not field:
        return 422, f"the request body must be a JSON object such as {example}, sent as Content-Type: application/json."
    shown = repr(first.get("input"))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return 422, f"{field}{where}: {first.get('msg', 'invalid value')} (got {shown})."
