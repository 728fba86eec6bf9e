"""The identity layer as a Keycloak realm import file (``keycloak/realm-*.json``).

The same desired state the sync applies, in Keycloak's RealmRepresentation:
import it with ``kc.sh import --file`` or the admin console's partial import to
stand up the realm without citycloud. The managed markers are included, so
a later ``citycloud apply --keycloak`` recognises the imported objects as its
own and changes nothing.

Not in the file, because an import cannot express them well: the user-profile
declarations of ``org_code``/``tier``/``department`` and the county admin
delegations (fine-grained admin permissions v2). The first sync adds both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from citycloud.desired.artifacts import renderer, to_json
from citycloud.desired.model import DesiredState, Resource
from citycloud.spec.tree import Spec

MANAGED_KEY = "citycloud.managed"
MANAGED = "true"
ACCESS_KEY = "citycloud.access"
TENANT_KEY = "citycloud.tenant"


def _group_tree(groups: list[Resource]) -> list[dict[str, Any]]:
    nodes: dict[str, dict[str, Any]] = {}
    for group in groups:
        attributes = {
            k: list(v) for k, v in (group.attrs.get("attributes") or {}).items()
        }
        attributes[MANAGED_KEY] = [MANAGED]
        nodes[group.key] = {
            "name": group.attrs["name"],
            "path": group.attrs.get("path"),
            "attributes": attributes,
            "subGroups": [],
        }
    roots: list[dict[str, Any]] = []
    for group in sorted(groups, key=lambda g: str(g.attrs["name"])):
        parent = group.attrs.get("parent")
        if parent in nodes:
            nodes[parent]["subGroups"].append(nodes[group.key])
        else:
            roots.append(nodes[group.key])
    return roots


def _client(client: Resource, mappers: list[Resource]) -> dict[str, Any]:
    attrs = dict(client.attrs)
    access = attrs.pop("access", None)
    attributes: dict[str, str] = {
        MANAGED_KEY: MANAGED,
        "post.logout.redirect.uris": "+",
    }
    if client.tenant:
        attributes[TENANT_KEY] = client.tenant
    if access is not None:
        attributes[ACCESS_KEY] = json.dumps(access, ensure_ascii=False, sort_keys=True)
    return {
        **attrs,
        "enabled": True,
        "webOrigins": ["+"],
        "attributes": attributes,
        "protocolMappers": [
            {
                "name": m.attrs["name"],
                "protocol": m.attrs.get("protocol", "openid-connect"),
                "protocolMapper": m.attrs["protocolMapper"],
                "config": dict(m.attrs.get("config") or {}),
            }
            for m in sorted(mappers, key=lambda m: m.key)
        ],
    }


def realm_import(desired: DesiredState) -> dict[str, Any] | None:
    """The realm import document, or None when there is no identity layer."""
    realms = desired.kind("identity", "realm")
    if not realms:
        return None
    realm = realms[0]
    settings: Mapping[str, Any] = realm.attrs
    mappers: dict[str, list[Resource]] = {}
    for mapper in desired.kind("identity", "mapper"):
        mappers.setdefault(str(mapper.attrs["client"]), []).append(mapper)
    document: dict[str, Any] = {
        **{k: v for k, v in settings.items() if k != "adminPermissionsEnabled"},
        "realm": settings.get("realm", realm.key),
        "roles": {
            "realm": [
                {
                    "name": r.attrs["name"],
                    "description": r.attrs.get("description", ""),
                    "attributes": {MANAGED_KEY: [MANAGED]},
                }
                for r in sorted(desired.kind("identity", "role"), key=lambda r: r.key)
            ]
        },
        "groups": _group_tree(desired.kind("identity", "group")),
        "clients": [
            _client(c, mappers.get(c.key, []))
            for c in sorted(desired.kind("identity", "client"), key=lambda c: c.key)
        ],
    }
    return document


@renderer("keycloak")
def render_realm(desired: DesiredState, spec: Spec) -> Mapping[str, str]:
    document = realm_import(desired)
    if document is None:
        return {}
    return {f"keycloak/realm-{document['realm']}.json": to_json(document)}
