"""Running the application: bind a socket, serve with uvicorn, in the foreground or a background thread."""

from __future__ import annotations

import socket as sockets
import threading
import time

from seq2seq.errors import Seq2SeqError

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
        raise Seq2SeqError(f"cannot listen on {host}:{port} ({getattr(error, 'strerror', None) or error}); choose another --port or --host.") from None
    return bound


def uvicorn_server(model, bound: sockets.socket, log_level: str = "info", **settings):
    """A `uvicorn.Server` for `model`'s application (not yet started)."""
    import uvicorn

    from seq2seq.serving.app import ServeSettings, create_app

    app = create_app(model, ServeSettings(**settings))
    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, timeout_graceful_shutdown=10))


def serve(model, bound: sockets.socket, **settings) -> None:
    """Serve `model` on `bound` until interrupted."""
    uvicorn_server(model, bound, **settings).run(sockets=[bound])


class BackgroundServer:
    """`with BackgroundServer(model) as url:` serves `model` on 127.0.0.1 at a free port in a thread."""

    def __init__(self, model, host: str = "127.0.0.1", log_level: str = "warning", **settings):
        self.socket = listen(host, 0)
        self.url = f"http://{host}:{self.socket.getsockname()[1]}"
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
