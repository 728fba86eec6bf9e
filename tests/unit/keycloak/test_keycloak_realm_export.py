"""The realm import file rendered among the artifacts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.adapters.keycloak.desired import realm_model
from citycloud.adapters.keycloak.sync import sync_realm
from citycloud.desired import build_desired
from citycloud.desired.artifacts import render_all
from citycloud.spec import load_spec
from tests.fakes.keycloak import FakeKeycloak
from tests.fakes.keycloak.chifeng import EXAMPLE


def walk(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for group in groups:
        out.append(group)
        out.extend(walk(group["subGroups"]))
    return out


def test_realm_file_holds_the_tree_roles_clients_and_claims(
    divisions_csv: Path,
) -> None:
    spec = load_spec(EXAMPLE, [divisions_csv])
    files = render_all(build_desired(spec, ["identity"]), spec)
    document = json.loads(files["keycloak/realm-chifeng.json"])
    assert document["realm"] == "chifeng"
    assert document["eventsEnabled"] and document["adminEventsEnabled"]
    groups = walk(document["groups"])
    assert len(groups) == len(spec.orgs) == 210
    assert {g["path"] for g in groups} == {spec.group_path(c) for c in spec.orgs}
    assert [g["name"] for g in document["groups"]] == ["赤峰市"]
    assert {r["name"] for r in document["roles"]["realm"]} >= {
        "cloud-admin",
        "ops",
        "tenant-admin",
        "staff",
        "auditor",
    }
    portal = next(c for c in document["clients"] if c["clientId"] == "citycloud-portal")
    claims = {m["config"]["claim.name"] for m in portal["protocolMappers"]}
    assert claims == {"groups", "org_code", "tier", "department", "roles"}


def test_an_imported_realm_needs_no_group_client_or_role_writes(
    keycloak: FakeKeycloak, connect: Callable[..., KeycloakApi]
) -> None:
    spec = load_spec(EXAMPLE)
    desired = build_desired(spec, ["identity"])
    document = json.loads(render_all(desired, spec)["keycloak/realm-chifeng.json"])
    api = connect()
    api.post("admin/realms", document)
    report = sync_realm(api, realm_model(desired))
    touched = {c.kind for c in report.changes if c.action != "keep"}
    # only what an import cannot carry: user profile, delegation, its switch
    assert touched <= {"realm", "user-profile", "policy", "permission"}
    assert sync_realm(api, realm_model(desired)).writes == 0
