"""Serve the fake Keycloak over HTTP/1.1 on 127.0.0.1 in a background thread.

Keep-alive matters: python-keycloak reuses one session, and a sync of a few
thousand groups would otherwise spend most of its time opening connections.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .app import FakeKeycloakApp
from .state import FakeState


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one small write per response part would otherwise meet delayed ACKs (40 ms)
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, payload = self.server.app.handle(
            self.command, parts.path, parts.query, headers, body
        )
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: FakeKeycloakApp


class FakeKeycloak:
    """A running fake: `url`, `app` (state, counters) and `stop()`.

    Use as a context manager or call `start()`/`stop()`; the port is chosen
    by the operating system.
    """

    def __init__(self, state: FakeState | None = None, **state_kw: Any) -> None:
        self.app = FakeKeycloakApp(state or FakeState(**state_kw))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def state(self) -> FakeState:
        return self.app.state

    def start(self, port: int = 0) -> FakeKeycloak:
        server = _Server(("127.0.0.1", port), _Handler)
        server.app = self.app
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self.app.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            args=(0.05,),
            name="fake-keycloak",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeKeycloak:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
