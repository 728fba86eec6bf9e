"""The fake behaves like Keycloak 26 where the sync depends on it."""

from __future__ import annotations

import pytest
import requests
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakPostError

from tests.fakes.keycloak import FakeKeycloak
from tests.unit.keycloak.conftest import ADMIN


@pytest.fixture
def admin(keycloak: FakeKeycloak) -> KeycloakAdmin:
    kc = KeycloakAdmin(
        server_url=keycloak.url,
        username=ADMIN[0],
        password=ADMIN[1],
        realm_name="master",
        user_realm_name="master",
    )
    kc.create_realm({"realm": "demo", "enabled": True})
    kc.change_current_realm("demo")
    return kc


def get(admin: KeycloakAdmin, path: str, **params: object) -> requests.Response:
    return admin.connection.raw_get(f"admin/realms/demo/{path}", **params)


def test_duplicate_sibling_is_409_with_keycloaks_message(admin: KeycloakAdmin) -> None:
    city = admin.create_group({"name": "赤峰市"})
    admin.create_group({"name": "红山区"}, parent=city)
    with pytest.raises(KeycloakPostError) as err:
        admin.create_group({"name": "红山区"}, parent=city)
    assert err.value.response_code == 409
    assert (
        "Sibling group named '红山区' already exists."
        in err.value.response_body.decode()
    )


def test_duplicate_top_level_group_is_409(admin: KeycloakAdmin) -> None:
    admin.create_group({"name": "赤峰市"})
    with pytest.raises(KeycloakPostError) as err:
        admin.create_group({"name": "赤峰市"})
    assert "Top level group named" in err.value.response_body.decode()


def test_children_default_to_ten_and_full_representation(admin: KeycloakAdmin) -> None:
    city = admin.create_group({"name": "city"})
    for i in range(12):
        admin.create_group(
            {"name": f"c{i:02d}", "attributes": {"n": [str(i)]}}, parent=city
        )
    children = get(admin, f"groups/{city}/children").json()
    assert len(children) == 10
    assert "attributes" in children[0]
    brief = get(admin, f"groups/{city}/children", briefRepresentation="true").json()
    assert "attributes" not in brief[0]
    rest = get(admin, f"groups/{city}/children", first=10, max=10).json()
    assert [g["name"] for g in rest] == ["c10", "c11"]


def test_top_level_listing_is_brief_with_subgroup_count(admin: KeycloakAdmin) -> None:
    city = admin.create_group({"name": "city", "attributes": {"k": ["v"]}})
    admin.create_group({"name": "kid"}, parent=city)
    [top] = get(admin, "groups").json()
    assert top["subGroupCount"] == 1
    assert top["subGroups"] == []
    assert "attributes" not in top


def test_group_by_path_decodes_percent_encoded_chinese(admin: KeycloakAdmin) -> None:
    city = admin.create_group({"name": "赤峰市"})
    admin.create_group({"name": "红山区"}, parent=city)
    found = admin.get_group_by_path("/赤峰市/红山区")
    assert found["path"] == "/赤峰市/红山区"
    missing = get(admin, "group-by-path/%E8%B5%A4/nowhere")
    assert missing.status_code == 404


def test_slash_in_a_name_makes_paths_ambiguous(admin: KeycloakAdmin) -> None:
    """What the sync guards against: "a/b" at the top and "b" under "a"."""
    a = admin.create_group({"name": "a"})
    admin.create_group({"name": "b"}, parent=a)
    admin.create_group({"name": "a/b"})
    paths = sorted(
        g["path"]
        for g in admin.get_groups(full_hierarchy=True)
        for g in [g, *g["subGroups"]]
    )
    assert paths.count("/a/b") == 2


def test_mapper_create_answers_201_with_an_empty_body(admin: KeycloakAdmin) -> None:
    client = admin.create_client({"clientId": "app"})
    body = admin.add_mapper_to_client(
        client,
        {
            "name": "groups",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-group-membership-mapper",
            "config": {},
        },
    )
    assert body == b""


def test_client_lookup_by_client_id_is_exact(admin: KeycloakAdmin) -> None:
    admin.create_client({"clientId": "app"})
    admin.create_client({"clientId": "app-two"})
    found = get(admin, "clients", clientId="app").json()
    assert [c["clientId"] for c in found] == ["app"]
    with pytest.raises(KeycloakPostError) as err:
        admin.create_client({"clientId": "app"})
    assert err.value.response_code == 409


def test_expired_admin_token_gets_401_and_the_client_recovers(
    keycloak: FakeKeycloak, admin: KeycloakAdmin
) -> None:
    admin.get_realm_roles()
    before = keycloak.app.counts()["tokens"]
    keycloak.state.offset += 120  # the 60 s master token is now expired
    token = admin.connection.token["access_token"]
    raw = requests.get(
        f"{keycloak.url}admin/realms/demo/roles",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert raw.status_code == 401
    assert admin.get_realm_roles()  # python-keycloak refreshes and retries
    assert keycloak.app.counts()["tokens"] == before + 1


def test_events_default_to_100_newest_first(
    keycloak: FakeKeycloak, admin: KeycloakAdmin
) -> None:
    admin.update_realm("demo", {"eventsEnabled": True})
    realm = keycloak.state.realms["demo"]
    for i in range(130):
        keycloak.state.record_event(realm, "LOGIN", userId=f"u{i}")
    events = get(admin, "events").json()
    assert len(events) == 100
    assert events[0]["userId"] == "u129"
    tail = get(admin, "events", first=100, max=100).json()
    assert [e["userId"] for e in tail][-1] == "u0"


def test_undeclared_user_attributes_are_dropped(
    keycloak: FakeKeycloak, admin: KeycloakAdmin
) -> None:
    user_id = admin.create_user(
        {"username": "li", "attributes": {"org_code": ["150402"]}}
    )
    assert admin.get_user(user_id)["attributes"] == {}
