"""Realm sync against the fake: right result, only the needed calls, safe."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.adapters.keycloak.model import (
    ClientSpec,
    Delegation,
    GroupNameError,
    GroupSpec,
    RealmModel,
    RoleSpec,
    default_settings,
)
from citycloud.adapters.keycloak.sync import sync_realm
from tests.fakes.keycloak import FakeKeycloak
from tests.fakes.keycloak.state import Realm

Connect = Callable[..., KeycloakApi]


def org(code: str, name: str, parent: str | None, tier: str) -> GroupSpec:
    return GroupSpec(code, name, parent, {"org_code": [code], "tier": [tier]})


def small_tree(villages: int = 3) -> tuple[GroupSpec, ...]:
    groups = [
        org("1504", "赤峰市", None, "city"),
        org("150402", "红山区", "1504", "county"),
        org("150404", "松山区", "1504", "county"),
        org("150402001", "西屯街道", "150402", "township"),
        org("150404100", "穆家营子镇", "150404", "township"),
    ]
    groups += [
        org(f"150402001{i:03d}", f"西屯第{i}社区（合成）", "150402001", "village")
        for i in range(1, villages + 1)
    ]
    return tuple(groups)


def model(groups: tuple[GroupSpec, ...] | None = None, **kw: object) -> RealmModel:
    base = RealmModel(
        name="chifeng",
        settings=default_settings("赤峰市", events_retention_days=90),
        attributes={"adminEventsExpiration": str(365 * 86400)},
        groups=small_tree() if groups is None else groups,
        roles=tuple(
            RoleSpec(r) for r in ("cloud-admin", "ops", "tenant-admin", "staff")
        ),
        clients=(
            ClientSpec(
                "citycloud-portal",
                "门户",
                redirect_uris=("https://portal.example/oauth2callback",),
            ),
            ClientSpec(
                "onemap-web",
                "一张图",
                redirect_uris=("https://onemap.example/*",),
                tenant="onemap",
                access={"roles": ["staff"], "owner": "1504"},
            ),
        ),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def paths(realm: Realm, fake: FakeKeycloak) -> list[str]:
    return sorted(fake.state.group_path(realm, g) for g in realm.groups.values())


def test_first_sync_builds_the_realm_and_second_writes_nothing(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    first = sync_realm(api, model())
    assert first.count("create", "group") == 8
    realm = keycloak.state.realms["chifeng"]
    assert "/赤峰市/红山区/西屯街道/西屯第2社区（合成）" in paths(realm, keycloak)
    assert realm.rep["eventsEnabled"] and realm.rep["adminEventsEnabled"]
    assert realm.rep["eventsExpiration"] == 90 * 86400
    assert realm.rep["attributes"]["adminEventsExpiration"] == str(365 * 86400)

    keycloak.app.reset_counts()
    second = sync_realm(api, model())
    assert second.writes == 0
    assert keycloak.app.counts()["writes"] == 0
    assert not second.changed


def test_groups_carry_org_code_tier_and_the_managed_marker(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    sync_realm(connect(), model())
    realm = keycloak.state.realms["chifeng"]
    group = keycloak.state.find_by_path(realm, "/赤峰市/红山区/西屯街道")
    assert group is not None
    assert group.attributes["org_code"] == ["150402001"]
    assert group.attributes["tier"] == ["township"]
    assert group.attributes["citycloud.managed"] == ["true"]


@pytest.mark.parametrize(
    "page_size", [1, 2, 7, 100], ids=["page-1", "page-2", "page-7", "page-100"]
)
def test_small_pages_see_every_group(
    keycloak: FakeKeycloak, connect: Connect, page_size: int
) -> None:
    groups = small_tree(villages=25)  # more children than the server's default 10
    sync_realm(connect(page_size=100), model(groups))
    api = connect(page_size=page_size)
    # groups made by hand at the top level make the top listing page too
    realm = keycloak.state.realms["chifeng"]
    for i in range(5):
        keycloak.state.add_group(realm, None, {"name": f"手工组{i}"})
    again = sync_realm(api, model(groups))
    assert again.writes == 0
    assert len(realm.groups) == len(groups) + 5
    if page_size == 1:
        assert again.reads > 40  # every page of every level was fetched


def test_chinese_paths_resolve_by_percent_encoded_path(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    from citycloud.adapters.keycloak.sync import quote_path

    path = quote_path("/赤峰市/松山区/穆家营子镇")
    assert "%E8%B5%A4" in path  # 赤 as UTF-8 percent-encoding
    found = api.get(f"{api.base}/group-by-path/{path}")
    assert found["attributes"]["org_code"] == ["150404100"]


@pytest.mark.parametrize(
    "name",
    ["红山/区", "a\\b", "..", " 红山区", "红山区\n", "~x"],
    ids=["slash", "backslash", "dotdot", "leading-space", "newline", "tilde"],
)
def test_names_keycloak_treats_specially_are_refused_before_any_call(
    keycloak: FakeKeycloak, connect: Connect, name: str
) -> None:
    groups = (*small_tree(), org("150402002", name, "150402", "township"))
    api = connect()
    with pytest.raises(GroupNameError):
        sync_realm(api, model(groups))
    assert keycloak.app.counts()["writes"] == 0


def test_two_siblings_with_one_name_are_refused(connect: Connect) -> None:
    groups = (*small_tree(), org("150402099", "西屯街道", "150402", "township"))
    with pytest.raises(GroupNameError, match="both named"):
        sync_realm(connect(), model(groups))


@pytest.mark.parametrize("bulk", [True, False], ids=["partial-import", "one-by-one"])
def test_concurrent_syncs_do_not_create_twins(
    keycloak: FakeKeycloak, connect: Connect, bulk: bool
) -> None:
    groups = small_tree(villages=60)
    apis = [connect(), connect()]
    barrier = threading.Barrier(2)
    reports = []
    errors: list[BaseException] = []

    def run(api: KeycloakApi) -> None:
        barrier.wait()
        try:
            reports.append(sync_realm(api, model(groups), bulk_create=bulk))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(api,)) for api in apis]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    realm = keycloak.state.realms["chifeng"]
    found = paths(realm, keycloak)
    assert len(found) == len(set(found)) == len(groups)
    assert sum(r.count("create", "group") for r in reports) == len(groups)
    clients = [c.rep["clientId"] for c in realm.clients.values()]
    assert clients.count("onemap-web") == 1
    assert sync_realm(connect(), model(groups)).writes == 0


def test_users_and_hand_made_groups_are_left_alone(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    realm = keycloak.state.realms["chifeng"]
    township = keycloak.state.find_by_path(realm, "/赤峰市/红山区/西屯街道")
    songshan = keycloak.state.find_by_path(realm, "/赤峰市/松山区/穆家营子镇")
    assert township is not None and songshan is not None
    user = keycloak.state.add_user(realm, "wang.fang", "pw")
    user.groups.add(township.id)
    hand_top = keycloak.state.add_group(realm, None, {"name": "临时工作组"})
    hand_child = keycloak.state.add_group(realm, songshan.id, {"name": "防汛小组"})

    # 松山区 and everything under it leave the spec; deletes are allowed
    kept = tuple(g for g in small_tree() if not g.key.startswith("150404"))
    report = sync_realm(api, model(kept), allow_delete=True)

    assert user.id in realm.users and township.id in realm.users[user.id].groups
    assert hand_top.id in realm.groups and hand_child.id in realm.groups
    # the county holds a hand-made group deep down: it is kept, not deleted
    assert songshan.id in realm.groups
    assert report.count("keep", "group") >= 1
    assert report.count("delete", "group") == 0


def test_deletes_happen_only_when_allowed(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    realm = keycloak.state.realms["chifeng"]
    fewer = tuple(g for g in small_tree() if g.key != "150402001003")
    refused = sync_realm(api, model(fewer))
    assert refused.writes == 0 and refused.count("keep", "group") == 1
    assert len(realm.groups) == 8
    done = sync_realm(api, model(fewer), allow_delete=True)
    assert done.count("delete", "group") == 1
    assert len(realm.groups) == 7


def test_renamed_organisation_keeps_its_group(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    realm = keycloak.state.realms["chifeng"]
    before = keycloak.state.find_by_path(realm, "/赤峰市/红山区/西屯街道")
    renamed = tuple(
        replace(g, name="西屯新街道") if g.key == "150402001" else g
        for g in small_tree()
    )
    report = sync_realm(api, model(renamed))
    after = keycloak.state.find_by_path(realm, "/赤峰市/红山区/西屯新街道")
    assert after is not None and before is not None and after.id == before.id
    assert report.writes == 1


def test_moved_organisation_moves_its_group(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    moved = tuple(
        replace(g, parent="150404") if g.key == "150402001" else g for g in small_tree()
    )
    sync_realm(api, model(moved))
    realm = keycloak.state.realms["chifeng"]
    assert keycloak.state.find_by_path(
        realm, "/赤峰市/松山区/西屯街道/西屯第1社区（合成）"
    )
    assert sync_realm(api, model(moved)).writes == 0


def test_a_group_already_at_the_right_path_is_adopted(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model(small_tree()[:1]))  # realm and the city only
    realm = keycloak.state.realms["chifeng"]
    city = keycloak.state.find_by_path(realm, "/赤峰市")
    assert city is not None
    hand = keycloak.state.add_group(realm, city.id, {"name": "红山区"})
    sync_realm(api, model())
    assert hand.attributes["org_code"] == ["150402"]
    assert len(paths(realm, keycloak)) == 8


def test_expired_admin_token_is_refreshed_mid_sync(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    seen = {"n": 0}

    def age(method: str, path: str) -> None:
        seen["n"] += 1
        if seen["n"] == 20:
            keycloak.state.offset += 120  # access token (60 s) expired
        if seen["n"] == 40:
            keycloak.state.offset += 4000  # refresh token (1800 s) expired too

    keycloak.app.before_request = age
    # one call per group (no bulk import) so that the clock moves mid-sync
    report = sync_realm(connect(), model(small_tree(villages=40)), bulk_create=False)
    assert report.count("create", "group") == 45
    assert keycloak.app.counts()["tokens"] >= 3  # login, refresh, login again


def test_portal_client_puts_the_portal_claims_in_the_id_token(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    sync_realm(connect(), model())
    realm = keycloak.state.realms["chifeng"]
    portal = next(
        c for c in realm.clients.values() if c.rep["clientId"] == "citycloud-portal"
    )
    mappers = {m["config"]["claim.name"]: m for m in portal.mappers.values()}
    assert set(mappers) == {"groups", "org_code", "tier", "department", "roles"}
    assert all(m["config"]["id.token.claim"] == "true" for m in mappers.values())
    assert mappers["groups"]["config"]["full.path"] == "true"
    assert mappers["roles"]["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    declared = {a["name"] for a in realm.profile["attributes"]}
    assert {"org_code", "tier", "department"} <= declared


def test_user_attributes_for_the_token_survive_after_sync(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    response = api.post(
        f"{api.base}/users",
        {
            "username": "li.lei",
            "attributes": {"org_code": ["150402"], "tier": ["county"]},
        },
    )
    user_id = api.created_id(response)
    assert api.get(f"{api.base}/users/{user_id}")["attributes"]["org_code"] == [
        "150402"
    ]


def test_a_changed_mapper_is_corrected_and_a_hand_added_one_kept(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    realm = keycloak.state.realms["chifeng"]
    portal = next(
        c for c in realm.clients.values() if c.rep["clientId"] == "citycloud-portal"
    )
    groups = next(m for m in portal.mappers.values() if m["name"] == "groups")
    groups["config"]["full.path"] = "false"
    portal.mappers["extra"] = {"id": "extra", "name": "hand-made", "config": {}}
    report = sync_realm(api, model())
    assert report.writes == 1
    assert portal.mappers[groups["id"]]["config"]["full.path"] == "true"
    assert "extra" in portal.mappers


def test_county_admin_delegation_covers_the_whole_county(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    delegated = model(delegations=(Delegation("150402"),))
    sync_realm(api, delegated)
    realm = keycloak.state.realms["chifeng"]
    client = next(
        c for c in realm.clients.values() if c.rep["clientId"] == "admin-permissions"
    )
    [perm] = client.permissions.values()
    county = keycloak.state.find_by_path(realm, "/赤峰市/红山区")
    assert county is not None
    expected = {
        g.id
        for g in realm.groups.values()
        if keycloak.state.group_path(realm, g).startswith("/赤峰市/红山区")
    }
    assert set(perm["resources"]) == expected and len(expected) == 5
    assert "manage" in perm["scopes"] and perm["decisionStrategy"] == "UNANIMOUS"
    assert sync_realm(api, delegated).writes == 0

    more = (*small_tree(), org("150402001099", "新村（合成）", "150402001", "village"))
    report = sync_realm(api, model(more, delegations=(Delegation("150402"),)))
    assert report.count("update", "permission") == 1
    [updated] = client.permissions.values()
    assert len(updated["resources"]) == 6


def test_a_server_error_mid_sync_is_transient_and_a_rerun_completes(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    from citycloud.errors import TransientError
    from tests.fakes.keycloak.app import HttpError

    calls = {"n": 0}

    def flaky(method: str, path: str) -> None:
        calls["n"] += 1
        if calls["n"] == 12:
            raise HttpError(503, {"error": "unavailable"})

    keycloak.app.before_request = flaky
    api = connect()
    with pytest.raises(TransientError):
        sync_realm(api, model())
    keycloak.app.before_request = None
    sync_realm(api, model())
    realm = keycloak.state.realms["chifeng"]
    assert len(paths(realm, keycloak)) == len(small_tree())
    assert sync_realm(api, model()).writes == 0


def test_refused_admin_login_is_a_permanent_error(keycloak: FakeKeycloak) -> None:
    from citycloud.errors import PermanentError

    api = KeycloakApi.connect(keycloak.url, "chifeng", username="admin", password="no")
    with pytest.raises(PermanentError, match="login refused"):
        sync_realm(api, model())


def test_a_managed_twin_left_by_an_old_race_is_removed_when_allowed(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    api = connect()
    sync_realm(api, model())
    realm = keycloak.state.realms["chifeng"]
    twin = keycloak.state.add_group(
        realm,
        None,
        {
            "name": "西屯街道",
            "attributes": {"org_code": ["150402001"], "citycloud.managed": ["true"]},
        },
    )
    assert sync_realm(api, model()).writes == 0  # kept without allow_delete
    report = sync_realm(api, model(), allow_delete=["group"])
    assert report.count("delete", "group") == 1
    assert twin.id not in realm.groups
    assert keycloak.state.find_by_path(realm, "/赤峰市/红山区/西屯街道") is not None


def test_a_new_tree_goes_in_with_one_partial_import(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    groups = small_tree(villages=200)
    report = sync_realm(connect(), model(groups))
    assert report.count("create", "group") == len(groups)
    assert keycloak.app.calls["POST partialImport"] == 1
    assert (
        keycloak.app.calls["POST groups"] + keycloak.app.calls["POST group/children"]
        == 0
    )
    realm = keycloak.state.realms["chifeng"]
    assert len(paths(realm, keycloak)) == len(groups)
    assert sync_realm(connect(), model(groups)).writes == 0


def test_a_refused_partial_import_falls_back_to_one_call_per_group(
    keycloak: FakeKeycloak, connect: Connect
) -> None:
    from tests.fakes.keycloak.app import HttpError

    def refuse(method: str, path: str) -> None:
        if path.endswith("/partialImport"):
            raise HttpError(403, {"error": "HTTP 403 Forbidden"})

    keycloak.app.before_request = refuse
    report = sync_realm(connect(), model())
    assert report.count("create", "group") == len(small_tree())
    assert keycloak.app.calls["POST group/children"] == len(small_tree()) - 1
