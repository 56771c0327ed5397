"""What a request must be before the application looks at it: the right Host, the token, a bounded body.

`Guard` is the service's outermost ASGI layer. In order, it refuses
- a Host header that is not a name the service answers to (400): a web page on another site
  cannot reach a service on this machine by pointing its own name at 127.0.0.1 (DNS rebinding).
  Answered: localhost, any IP address, the names in `allowed_hosts` ("*": any name), see `hosts.py`;
- a missing or wrong `Authorization: Bearer <token>` when a token is set (401), except for the
  web page and the API description (`/`, `/docs`, `/openapi.json`), which hold no model data;
- a declared Content-Length over `max_body_bytes` (413), before a byte of the body is read; a
  body without a length (chunked) is counted as it arrives and refused once it passes the limit;
- a body that takes longer than `read_timeout_s` to arrive (408).
Anything the application raises that no handler answered becomes a 500 with one line, logged once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time

from starlette.exceptions import HTTPException

from seq2seq.serving.hosts import LOCAL_NAMES, host_name, is_ip_address
from seq2seq.serving.limits import ServeSettings
from seq2seq.serving.refusals import LOG, one_line

OPEN_PATHS = frozenset({"/", "/docs", "/openapi.json"})  # no model data, no work: no token needed
CLOSE = {"connection": "close"}  # after a refused body the connection is not reused


class Guard:
    """ASGI middleware applying the Host, token and body checks of `settings` to every HTTP request."""

    def __init__(self, app, settings: ServeSettings):
        self.app = app
        self.settings = settings
        self.any_host = "*" in settings.allowed_hosts
        self.hosts = LOCAL_NAMES | {name.lower().rstrip(".") for name in settings.allowed_hosts}
        self.token = settings.token.encode() if settings.token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            return await respond(send, *refusal)
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, BoundedBody(receive, self.settings).receive, sending)
        except Exception as error:
            LOG.error(
                "%s %s failed: %s: %s",
                scope["method"],
                scope["path"],
                type(error).__name__,
                one_line(error),
                exc_info=error if self.settings.debug else None,
            )
            if not started:
                await respond(send, 500, f"the server failed on this request ({type(error).__name__}).")

    def refusal(self, scope, headers: dict) -> tuple[int, str, dict] | None:
        """(status, message, headers) for a request refused on its headers alone, or None."""
        host = host_name(headers.get("host", ""))
        if host and not self.any_host and host not in self.hosts and not is_ip_address(host):
            return (
                400,
                (
                    f"this service does not answer to the host name {host!r}; start it with --allowed-host {host} "
                    "if that name is meant to reach it."
                ),
                CLOSE,
            )
        if self.token is not None and scope["path"] not in OPEN_PATHS:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("latin-1"), self.token):
                message = "this service needs a token: send the header 'Authorization: Bearer <token>'."
                return 401, message, {"www-authenticate": "Bearer"}
        length = headers.get("content-length", "").strip()
        if length:
            if not length.isascii() or not length.isdigit():
                return 400, f"Content-Length must be a number of bytes, got {length[:40]!r}.", CLOSE
            size = int(length) if len(length) <= 18 else 10**18  # longer digit strings are huge anyway
            if size > self.settings.max_body_bytes:
                return 413, too_large(size, self.settings.max_body_bytes), CLOSE
        return None


class BoundedBody:
    """An ASGI `receive` that refuses a body over the size limit or slower than the read timeout."""

    def __init__(self, receive, settings: ServeSettings):
        self.inner = receive
        self.limit = settings.max_body_bytes
        self.timeout = settings.read_timeout_s
        self.deadline = time.monotonic() + settings.read_timeout_s
        self.received = 0
        self.complete = False

    async def receive(self):
        if self.complete:  # after the body only a disconnect can come; waiting for it has no deadline
            return await self.inner()
        try:
            message = await asyncio.wait_for(self.inner(), timeout=max(self.deadline - time.monotonic(), 0.001))
        except asyncio.TimeoutError:
            message = f"the request body did not arrive within {self.timeout:g} s; send it faster."
            raise HTTPException(408, message, CLOSE) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise HTTPException(413, too_large(self.received, self.limit, sent=True), CLOSE)
            self.complete = not message.get("more_body", False)
        else:
            self.complete = True
        return message


def too_large(size: int, limit: int, sent: bool = False) -> str:
    told = "more than " if sent else ""
    return (
        f"the request body is {told}{size:,} bytes, at most {limit:,} on this server; "
        "send fewer or shorter texts per request."
    )


async def respond(send, status: int, message: str, headers: dict | None = None) -> None:
    """Send a whole `{"error": message}` response."""
    body = json.dumps({"error": message}).encode()
    fields = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    fields += [(key.encode(), value.encode()) for key, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})
