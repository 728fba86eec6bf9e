"""The same sync against a real Keycloak, when one is named in the environment.

Set CITYCLOUD_KEYCLOAK_URL (e.g. http://127.0.0.1:8080/), CITYCLOUD_KEYCLOAK_USER
and CITYCLOUD_KEYCLOAK_PASSWORD (a master-realm admin). Each test works in a
realm of its own, ``citycloud-live-<random>``, deleted afterwards; nothing
else on the server is touched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from citycloud.adapters.keycloak.client import KeycloakApi, NotFound
from citycloud.adapters.keycloak.model import GroupNameError, RealmModel
from citycloud.adapters.keycloak.sync import quote_path, sync_realm
from tests.unit.keycloak.test_keycloak_sync import model, org, small_tree

URL = os.environ.get("CITYCLOUD_KEYCLOAK_URL")
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (
            URL
            and os.environ.get("CITYCLOUD_KEYCLOAK_USER")
            and os.environ.get("CITYCLOUD_KEYCLOAK_PASSWORD")
        ),
        reason="needs CITYCLOUD_KEYCLOAK_URL, _USER and _PASSWORD (a real Keycloak)",
    ),
]


@pytest.fixture
def realm() -> Iterator[str]:
    name = f"citycloud-live-{secrets.token_hex(4)}"
    yield name
    assert URL is not None
    api = KeycloakApi.connect(URL, name)
    with contextlib.suppress(NotFound):
        api.delete(f"admin/realms/{name}")


def live_model(realm: str, **kw: object) -> RealmModel:
    return replace(model(**kw), name=realm)  # type: ignore[arg-type]


def connect(realm: str, page_size: int = 100) -> KeycloakApi:
    assert URL is not None
    return KeycloakApi.connect(URL, realm, page_size=page_size)


def test_live_sync_then_no_writes(realm: str) -> None:
    api = connect(realm)
    first = sync_realm(api, live_model(realm))
    assert first.count("create", "group") == 8
    found = api.get(f"{api.base}/group-by-path/{quote_path('/赤峰市/红山区/西屯街道')}")
    assert found["attributes"]["org_code"] == ["150402001"]
    assert sync_realm(api, live_model(realm)).writes == 0


def test_live_small_pages_see_every_child(realm: str) -> None:
    groups = small_tree(villages=25)
    sync_realm(connect(realm), live_model(realm, groups=groups))
    assert (
        sync_realm(connect(realm, page_size=2), live_model(realm, groups=groups)).writes
        == 0
    )


def test_live_concurrent_syncs_make_no_twins(realm: str) -> None:
    groups = small_tree(villages=30)
    sync_realm(connect(realm), live_model(realm, groups=groups[:1]))  # the realm exists
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            sync_realm(connect(realm), live_model(realm, groups=groups))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    api = connect(realm)
    assert api.get(f"{api.base}/groups/count")["count"] == len(groups)


def test_live_hand_made_user_survives_a_sync_with_deletes(realm: str) -> None:
    api = connect(realm)
    sync_realm(api, live_model(realm))
    api.post(f"{api.base}/users", {"username": "live.user", "enabled": True})
    fewer = tuple(g for g in small_tree() if g.key != "150402001003")
    report = sync_realm(api, live_model(realm, groups=fewer), allow_delete=True)
    assert report.count("delete", "group") == 1
    users = api.get(f"{api.base}/users", username="live.user", exact=True)
    assert [u["username"] for u in users] == ["live.user"]


def test_live_slash_names_are_refused(realm: str) -> None:
    groups = (*small_tree(), org("150402002", "a/b", "150402", "township"))
    with pytest.raises(GroupNameError):
        sync_realm(connect(realm), live_model(realm, groups=groups))


def test_live_county_delegation_when_the_server_has_permissions_v2(realm: str) -> None:
    from citycloud.adapters.keycloak.model import Delegation

    api = connect(realm)
    delegated = live_model(realm, delegations=(Delegation("150402"),))
    report = sync_realm(api, delegated)
    if report.count("keep", "permission"):
        pytest.skip("server without fine-grained admin permissions v2 (< 26.2)")
    assert report.count("create", "permission") == 1
    assert sync_realm(api, delegated).writes == 0
