"""Serve the fake Keycloak over HTTP/1.1 on 127.0.0.1 in a background thread.

Keep-alive matters: python-keycloak reuses one session, and a sync of a few
thousand groups would otherwise spend most of its time opening connections
(the shared server keeps connections open and sends small writes at once).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from tests.fakes.httpserver import FakeServer

from .app import FakeKeycloakApp
from .state import FakeState


class FakeKeycloak:
    """A running fake: `url`, `app` (state, counters) and `stop()`.

    Use as a context manager or call `start()`/`stop()`; the port is chosen
    by the operating system unless given.
    """

    def __init__(self, state: FakeState | None = None, **state_kw: Any) -> None:
        self.app = FakeKeycloakApp(state or FakeState(**state_kw))
        self._server = FakeServer(self.app, "fake-keycloak")
        self.url = ""

    @property
    def state(self) -> FakeState:
        return self.app.state

    def start(self, port: int = 0) -> FakeKeycloak:
        self._server.start(port)
        self.app.base_url = self._server.url
        self.url = f"{self._server.url}/"
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeKeycloak:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
