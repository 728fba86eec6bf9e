"""Pulling login and admin events since a cursor."""

from __future__ import annotations

from collections.abc import Callable

from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.adapters.keycloak.events import pull_events
from citycloud.adapters.keycloak.model import RealmModel, default_settings
from citycloud.adapters.keycloak.sync import sync_realm
from tests.fakes.keycloak import FakeKeycloak

Connect = Callable[..., KeycloakApi]


def realm_with_events(
    keycloak: FakeKeycloak, connect: Connect, page_size: int
) -> KeycloakApi:
    api = connect(page_size=page_size)
    sync_realm(api, RealmModel("chifeng", settings=default_settings("赤峰市")))
    return api


def test_every_event_since_the_cursor_comes_back_oldest_first(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = realm_with_events(keycloak, connect, page_size=7)
    realm = keycloak.state.realms["chifeng"]
    for i in range(130):  # beyond the server's default page of 100
        keycloak.state.record_event(realm, "LOGIN", userId=f"u{i}")
    events = pull_events(api, None)
    logins = [e for e in events if e["kind"] == "login"]
    assert [e["userId"] for e in logins] == [f"u{i}" for i in range(130)]
    assert any(e["kind"] == "admin" for e in events)  # the sync's own admin events
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)


def test_a_pull_from_the_last_cursor_returns_only_new_events(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = realm_with_events(keycloak, connect, page_size=100)
    realm = keycloak.state.realms["chifeng"]
    keycloak.state.record_event(realm, "LOGIN", userId="first")
    first = pull_events(api, None)
    cursor = first[-1]["time"]
    seen = [e["id"] for e in first if e["time"] == cursor]
    keycloak.state.offset += 5
    keycloak.state.record_event(realm, "LOGIN_ERROR", userId="second")
    second = pull_events(api, cursor, seen=seen)
    assert [e.get("userId") for e in second] == ["second"]


def test_real_logins_in_the_city_realm_are_recorded(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    import requests

    api = realm_with_events(keycloak, connect, page_size=100)
    realm = keycloak.state.realms["chifeng"]
    keycloak.state.add_user(realm, "zhang.wei", "pw")
    url = f"{keycloak.url}realms/chifeng/protocol/openid-connect/token"
    ok = requests.post(
        url,
        data={
            "grant_type": "password",
            "client_id": "account",
            "username": "zhang.wei",
            "password": "pw",
        },
        timeout=5,
    )
    bad = requests.post(
        url,
        data={
            "grant_type": "password",
            "client_id": "account",
            "username": "zhang.wei",
            "password": "no",
        },
        timeout=5,
    )
    assert ok.status_code == 200 and bad.status_code == 401
    types = [e["type"] for e in pull_events(api) if e["kind"] == "login"]
    assert types == ["LOGIN", "LOGIN_ERROR"]
