"""Running the application: bind a socket, serve with uvicorn, in the foreground or a background thread.

Connections are bounded in time: uvicorn closes a kept-alive connection idle for
`keep_alive_s`, and `guarded_protocol` closes one whose request line and headers have not
all arrived `read_timeout_s` after it opened (or after its previous response), however
slowly the bytes trickle in; the body has its own read timeout (`guard.py`).
"""

from __future__ import annotations

import socket as sockets
import threading
import time

from seq2seq.errors import Seq2SeqError
from seq2seq.serving.hosts import answered_hosts

INSTALL_HINT = 'the HTTP service needs FastAPI and uvicorn; install them with: pip install "keras-seq2seq[serve]"'


def require_serving_packages() -> None:
    """Say how to install the `serve` extra when FastAPI or uvicorn is missing."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise Seq2SeqError(f"{INSTALL_HINT} ({error}).") from None


def listen(host: str, port: int) -> sockets.socket:
    """A socket bound to `host:port` (port 0: any free port), or one sentence saying why not."""
    require_serving_packages()
    try:
        family = sockets.AF_INET6 if ":" in host else sockets.AF_INET
        bound = sockets.socket(family, sockets.SOCK_STREAM)
        bound.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
        # Accepted connections inherit this; without it a response written in two parts waits
        # for the client's delayed acknowledgement (about 40 ms a request on Linux).
        bound.setsockopt(sockets.IPPROTO_TCP, sockets.TCP_NODELAY, 1)
        bound.bind((host, port))
    except (OSError, OverflowError) as error:
        reason = getattr(error, "strerror", None) or error
        raise Seq2SeqError(f"cannot listen on {host}:{port} ({reason}); choose another --port or --host.") from None
    return bound


def guarded_protocol(read_timeout_s: float):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers are slower than `read_timeout_s`."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedProtocol(H11Protocol):
        header_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._await_headers()

        def data_received(self, data: bytes) -> None:
            cycle = self.cycle
            super().data_received(data)
            if self.cycle is not cycle:  # a request's headers are complete
                self._stop_waiting()

        def on_response_complete(self) -> None:
            cycle = self.cycle
            super().on_response_complete()
            if self.cycle is cycle and not self.transport.is_closing():
                self._await_headers()

        def connection_lost(self, exc) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def _await_headers(self) -> None:
            self._stop_waiting()
            self.header_timer = self.loop.call_later(read_timeout_s, self._headers_too_slow)

        def _stop_waiting(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _headers_too_slow(self) -> None:
            self.header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol


def uvicorn_server(model, bound: sockets.socket, log_level: str = "info", **settings):
    """A `uvicorn.Server` for `model`'s application (not yet started)."""
    import uvicorn

    from seq2seq.serving.limits import ServeSettings
    from seq2seq.serving.service_for_model import create_service

    settings = ServeSettings(**settings)
    config = uvicorn.Config(
        create_service(model, settings),
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=settings.keep_alive_s,
        http=guarded_protocol(settings.read_timeout_s),
    )
    return uvicorn.Server(config)


def serve(model, bound: sockets.socket, **settings) -> None:
    """Serve `model` on `bound` until interrupted."""
    uvicorn_server(model, bound, **settings).run(sockets=[bound])


class BackgroundServer:
    """`with BackgroundServer(model) as url:` serves `model` on 127.0.0.1 at a free port in a thread."""

    def __init__(self, model, host: str = "127.0.0.1", log_level: str = "warning", **settings):
        self.socket = listen(host, 0)
        self.url = f"http://{host}:{self.socket.getsockname()[1]}"
        settings.setdefault("allowed_hosts", answered_hosts(host))
        self.server = uvicorn_server(model, self.socket, log_level=log_level, **settings)
        self.app = self.server.config.app
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the background server did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()
