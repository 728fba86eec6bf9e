"""The OpenStack engine gives back the HTTP connections it opened: the portal
runs for weeks and applies many times."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from citycloud.adapters.openstack import engine as engine_module
from citycloud.adapters.openstack.engine import OpenStackEngine
from citycloud.apply import Workspace


class FakeConnection:
    def __init__(self) -> None:
        self.closed = False
        self.session = SimpleNamespace(session=SimpleNamespace(close=self._close_http))
        self.http_closed = False

    def close(self) -> None:
        self.closed = True

    def _close_http(self) -> None:
        self.http_closed = True


def test_the_engine_closes_the_connection_it_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[Any] = []

    def connect(cloud: str) -> Any:
        opened.append(FakeConnection())
        return opened[-1]

    monkeypatch.setattr(engine_module, "connect", connect)
    engine = OpenStackEngine("devcloud")
    first: Any = engine.conn
    assert first is opened[0]

    engine.close()
    engine.close()

    assert first.closed and first.http_closed
    # Used again, it opens a new one.
    assert engine.conn is opened[1]


def test_a_connection_given_to_the_engine_stays_open() -> None:
    given = FakeConnection()
    engine = OpenStackEngine("devcloud", connection=given)  # type: ignore[arg-type]

    engine.close()

    assert not given.closed and not given.http_closed


class Closing:
    def __init__(self, name: str, layers: tuple[str, ...], fail: bool = False) -> None:
        self.name = name
        self.layers = layers
        self.fail = fail
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        if self.fail:
            raise RuntimeError("socket already gone")


def test_a_workspace_closes_each_engine_once_even_when_one_fails() -> None:
    both = Closing("openstack", ("cloud", "openstack"), fail=True)
    other = Closing("keycloak", ("identity",))
    engines: dict[str, Any] = {"cloud": both, "openstack": both, "identity": other}
    ws = Workspace(spec=None, desired=None, store=None, engines=engines)  # type: ignore[arg-type]

    with ws:
        pass

    assert (both.closed, other.closed) == (1, 1)
