"""The identity layer's engine: observe the realm, apply by sync.

``observe`` reads the realm and returns it in the desired layer's shapes
(only the fields the desired state sets), so ``citycloud plan`` shows the
real difference. ``apply`` runs the sync, which recomputes the difference on
fresh reads and writes only that; deletes happen only when the plan being
applied contains deletes (the plan's safety flags were checked before).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from citycloud.adapters.keycloak.client import KeycloakApi, path_segment
from citycloud.adapters.keycloak.desired import realm_model
from citycloud.adapters.keycloak.model import (
    ACCESS_KEY,
    MANAGED,
    MANAGED_KEY,
    TENANT_KEY,
    RealmModel,
)
from citycloud.adapters.keycloak.sync import (
    RealmSync,
    SyncReport,
    sync_realm,
)
from citycloud.desired.model import DesiredState, Resource, ResourceId
from citycloud.plan.model import Action, Plan
from citycloud.spec.tree import Spec

log = logging.getLogger(__name__)

ProgressFn = Any


def _project(held: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: held.get(k) for k in keys}


class KeycloakEngine:
    """Engine for the ``identity`` layer on one Keycloak server."""

    name = "keycloak"
    layers: Sequence[str] = ("identity",)

    def __init__(self, api: KeycloakApi) -> None:
        self.api = api
        self.last_report: SyncReport | None = None

    # -- observe -------------------------------------------------------------

    def observe(
        self, desired: DesiredState, spec: Spec | None = None
    ) -> list[Resource]:
        want = {r.id: r for r in desired.layer("identity")}
        model = realm_model(want.values())
        return observe_realm(self.api, model, want)

    # -- apply ---------------------------------------------------------------

    def apply(
        self, plan: Plan, desired: DesiredState, spec: Spec | None, progress: ProgressFn
    ) -> list[Resource] | None:
        model = realm_model(desired.layer("identity"))
        # only the kinds whose deletes are in the plan (and so passed its
        # safety check): a realm that changed since the plan loses nothing more
        allow_delete = {c.id.kind for c in plan if c.action is Action.DELETE}
        progress("keycloak:sync", 0, 1)
        self.last_report = sync_realm(self.api, model, allow_delete=allow_delete)
        progress("keycloak:sync", 1, 1)
        log.info(
            "keycloak sync of %s: %s reads, %s writes",
            model.name,
            self.last_report.reads,
            self.last_report.writes,
        )
        return None


def observe_realm(
    api: KeycloakApi, model: RealmModel, want: Mapping[ResourceId, Resource]
) -> list[Resource]:
    """The realm's managed objects as identity-layer resources."""
    reader = RealmSync(api, model)
    realm_rep = reader.read_realm()
    if realm_rep is None:
        return []
    out: list[Resource] = []
    realm_id = ResourceId("identity", "realm", model.name)
    desired_realm = want.get(realm_id)
    keys = [
        k for k in (desired_realm.attrs if desired_realm else {}) if k != "attributes"
    ]
    attrs = _project(realm_rep, keys)
    attrs["realm"] = model.name
    if desired_realm is not None and "attributes" in desired_realm.attrs:
        held_attrs = realm_rep.get("attributes") or {}
        attrs["attributes"] = {
            k: held_attrs.get(k) for k in desired_realm.attrs["attributes"]
        }
    out.append(Resource(realm_id, _normalise_lists(attrs, desired_realm)))

    wanted_roles = {r.name for r in model.roles}
    for role in api.paged(f"{api.base}/roles", briefRepresentation=False):
        managed = (role.get("attributes") or {}).get(MANAGED_KEY) == [MANAGED]
        if managed or role["name"] in wanted_roles:
            out.append(
                Resource(
                    ResourceId("identity", "role", role["name"]),
                    {
                        "name": role["name"],
                        "description": role.get("description") or "",
                    },
                    parent=realm_id,
                )
            )

    groups = reader.read_groups()
    reader.groups = groups
    codes = {g.id: g.code for g in groups.values() if g.managed and g.code}
    # one code on two groups (a twin): report the one at the desired path
    chosen: dict[str, str] = {}
    for group_id, code in sorted(codes.items(), key=lambda i: reader.path_of(i[0])):
        wanted = want.get(ResourceId("identity", "group", code))
        at_home = wanted is not None and wanted.attrs.get("path") == reader.path_of(
            group_id
        )
        if code not in chosen or at_home:
            chosen[code] = group_id
    for code, group_id in sorted(chosen.items()):
        group = groups[group_id]
        rid = ResourceId("identity", "group", code)
        desired_group = want.get(rid)
        keys = list(
            (desired_group.attrs.get("attributes") or {}) if desired_group else ()
        )
        keys = keys or ["org_code", "tier"]
        parent = codes.get(group.parent_id or "")
        out.append(
            Resource(
                rid,
                {
                    "name": group.name,
                    "path": reader.path_of(group.id),
                    "parent": parent,
                    "attributes": {
                        k: group.attributes[k] for k in keys if k in group.attributes
                    },
                },
                parent=ResourceId("identity", "group", parent) if parent else realm_id,
            )
        )

    wanted_clients = {c.client_id for c in model.clients}
    wanted_mappers = {r.key for r in want.values() if r.kind == "mapper"}
    for client in api.paged(f"{api.base}/clients"):
        client_attrs = client.get("attributes") or {}
        managed = client_attrs.get(MANAGED_KEY) == MANAGED
        client_id = client["clientId"]
        if not managed and client_id not in wanted_clients:
            continue
        rid = ResourceId("identity", "client", client_id)
        desired_client = want.get(rid)
        keys = (
            list(desired_client.attrs)
            if desired_client
            else [
                "clientId",
                "name",
                "protocol",
                "publicClient",
                "standardFlowEnabled",
                "directAccessGrantsEnabled",
                "redirectUris",
                "access",
            ]
        )
        attrs = {k: client.get(k) for k in keys if k != "access"}
        if "access" in keys:
            raw = client_attrs.get(ACCESS_KEY)
            attrs["access"] = json.loads(raw) if raw else None
        tenant = client_attrs.get(TENANT_KEY) or None
        out.append(
            Resource(rid, _normalise_lists(attrs, desired_client), tenant, realm_id)
        )
        for mapper in client.get("protocolMappers") or []:
            key = f"{client_id}/{mapper.get('name')}"
            if key not in wanted_mappers and client_id in wanted_clients:
                continue  # a mapper someone added by hand: not ours to report
            desired_mapper = want.get(ResourceId("identity", "mapper", key))
            config = mapper.get("config") or {}
            config_keys = (
                list(desired_mapper.attrs.get("config") or {})
                if desired_mapper
                else list(config)
            )
            out.append(
                Resource(
                    ResourceId("identity", "mapper", key),
                    {
                        "client": client_id,
                        "name": mapper.get("name"),
                        "protocol": mapper.get("protocol"),
                        "protocolMapper": mapper.get("protocolMapper"),
                        "config": {k: config[k] for k in config_keys if k in config},
                    },
                    tenant,
                    rid,
                )
            )

    authz = reader.admin_permissions_path(realm_rep)
    if authz is not None:
        for perm in api.paged(f"{authz}/permission"):
            name = str(perm.get("name") or "")
            description = str(perm.get("description") or "")
            if not name.startswith("citycloud-manage-"):
                continue
            try:
                payload = json.loads(description.removeprefix("citycloud "))
            except ValueError:
                payload = {}
            key = name.removeprefix("citycloud-")
            out.append(
                Resource(
                    ResourceId("identity", "permission", key),
                    {
                        "group": payload.get("group"),
                        "role": payload.get("role"),
                        "scopes": payload.get("scopes"),
                    },
                    parent=ResourceId("identity", "group", str(payload.get("group"))),
                )
            )
    return out


def _normalise_lists(attrs: dict[str, Any], desired: Resource | None) -> dict[str, Any]:
    """Lists Keycloak keeps as sets come back in any order: use the desired order."""
    if desired is None:
        return attrs
    for key, wanted in desired.attrs.items():
        held = attrs.get(key)
        if (
            isinstance(wanted, list)
            and isinstance(held, list)
            and sorted(map(str, held)) == sorted(map(str, wanted))
        ):
            attrs[key] = list(wanted)
    return attrs


def connect_engine(
    url: str,
    realm: str,
    *,
    username: str | None = None,
    password: str | None = None,
    page_size: int = 100,
) -> KeycloakEngine:
    return KeycloakEngine(
        KeycloakApi.connect(
            url, realm, username=username, password=password, page_size=page_size
        )
    )


__all__ = ["KeycloakEngine", "connect_engine", "observe_realm", "path_segment"]
