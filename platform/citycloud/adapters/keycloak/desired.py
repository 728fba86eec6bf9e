"""Read the desired identity layer into a :class:`RealmModel`.

The identity layer (``citycloud.desired.identity``) holds one realm, its
roles, one group per organisation keyed by code, clients with their claim
mappers, and county delegations (``permission``). The sync works on the
model; this is the only place that knows the layer's attribute names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from citycloud.adapters.keycloak.model import (
    DELEGATED_SCOPES,
    ClientSpec,
    Delegation,
    GroupSpec,
    MapperSpec,
    RealmModel,
    RoleSpec,
)
from citycloud.desired.model import Resource


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def realm_model(resources: Iterable[Resource]) -> RealmModel:
    """The realm the identity resources describe (exactly one realm)."""
    identity = [r for r in resources if r.layer == "identity"]
    realms = [r for r in identity if r.kind == "realm"]
    if len(realms) != 1:
        raise ValueError(f"the identity layer must hold one realm, not {len(realms)}")
    realm = realms[0]
    settings = {
        k: v for k, v in realm.attrs.items() if k not in ("realm", "attributes")
    }
    attributes = {
        str(k): str(v) for k, v in (realm.attrs.get("attributes") or {}).items()
    }

    roles = tuple(
        RoleSpec(str(r.attrs["name"]), str(r.attrs.get("description") or ""))
        for r in sorted((r for r in identity if r.kind == "role"), key=lambda r: r.key)
    )
    groups = tuple(
        GroupSpec(
            key=r.key,
            name=str(r.attrs["name"]),
            parent=r.attrs.get("parent"),
            attrs={
                k: _strings(v) for k, v in (r.attrs.get("attributes") or {}).items()
            },
            description=str(r.attrs.get("description") or ""),
        )
        for r in identity
        if r.kind == "group"
    )
    mappers: dict[str, list[MapperSpec]] = {}
    for r in sorted((r for r in identity if r.kind == "mapper"), key=lambda r: r.key):
        config: Mapping[str, Any] = r.attrs.get("config") or {}
        mappers.setdefault(str(r.attrs["client"]), []).append(
            MapperSpec(
                str(r.attrs["name"]),
                str(r.attrs["protocolMapper"]),
                {str(k): str(v) for k, v in config.items()},
            )
        )
    clients = tuple(
        ClientSpec(
            client_id=str(r.attrs["clientId"]),
            name=str(r.attrs.get("name") or r.attrs["clientId"]),
            root_url=str(r.attrs.get("rootUrl") or ""),
            redirect_uris=tuple(_strings(r.attrs.get("redirectUris"))),
            public=bool(r.attrs.get("publicClient", False)),
            standard_flow=bool(r.attrs.get("standardFlowEnabled", True)),
            direct_access=bool(r.attrs.get("directAccessGrantsEnabled", False)),
            description=str(r.attrs.get("description") or ""),
            tenant=r.tenant,
            access=r.attrs.get("access"),
            mappers=tuple(mappers.get(str(r.attrs["clientId"]), ())),
        )
        for r in sorted(
            (r for r in identity if r.kind == "client"), key=lambda r: r.key
        )
    )
    delegations = tuple(
        Delegation(
            str(r.attrs["group"]),
            str(r.attrs.get("role") or "tenant-admin"),
            tuple(_strings(r.attrs.get("scopes"))) or DELEGATED_SCOPES,
        )
        for r in sorted(
            (r for r in identity if r.kind == "permission"), key=lambda r: r.key
        )
    )
    return RealmModel(
        name=str(realm.attrs.get("realm") or realm.key),
        settings=settings,
        attributes=attributes,
        groups=groups,
        roles=roles,
        clients=clients,
        delegations=delegations,
    )
