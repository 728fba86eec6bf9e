"""Serve a fake's app over HTTP/1.1 on 127.0.0.1 in a background thread.

An app is any object with ``handle(method, path, query, headers, body)``
returning ``(status, headers, payload bytes)``. The fakes only model the
servers' behaviour; the HTTP itself is the standard library's.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit


class App(Protocol):
    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
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

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: App


class FakeServer:
    """A running fake: ``url``, ``app`` and ``stop()``; a context manager."""

    def __init__(self, app: App, name: str = "fake") -> None:
        self.app = app
        self.name = name
        self.url = ""
        self._server: _Server | None = None

    def start(self, port: int = 0) -> FakeServer:
        server = _Server(("127.0.0.1", port), _Handler)
        server.app = self.app
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        threading.Thread(
            target=server.serve_forever, args=(0.05,), name=self.name, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
