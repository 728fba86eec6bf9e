"""What the city realm must hold, in the shapes the Keycloak sync compares.

The sync never reads the spec: it gets a :class:`RealmModel` built from the
desired identity layer (see :mod:`citycloud.adapters.keycloak.desired`) or,
in tests, built directly. Everything here is immutable plain data; the
Keycloak-specific representations (group attributes as lists, mapper config
as strings) are produced by small functions next to the data they describe.

Managed objects carry a marker so a sync can tell its own groups, roles and
clients from those an operator created by hand: a group or role attribute
``citycloud.managed = ["true"]`` and a client attribute
``citycloud.managed = "true"``. Only marked objects are ever updated away from
their state or deleted; users are never touched.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The markers are shared with the realm export so an imported realm is ours.
from citycloud.desired.identity_export import ACCESS_KEY as ACCESS_KEY
from citycloud.desired.identity_export import MANAGED as MANAGED
from citycloud.desired.identity_export import MANAGED_KEY as MANAGED_KEY
from citycloud.desired.identity_export import TENANT_KEY as TENANT_KEY
from citycloud.errors import PlanError

DELEGATED_SCOPES = (
    "view",
    "manage",
    "view-members",
    "manage-members",
    "manage-membership",
)
PORTAL_CLIENT = "citycloud-portal"
#: User attributes the ID token carries (read by the portal as these claim names).
TOKEN_ATTRIBUTES = ("org_code", "tier", "department")


class GroupNameError(PlanError, ValueError):
    """A name that would make a Keycloak group path ambiguous (nothing is sent)."""


def check_group_name(name: str) -> str:
    """Return ``name`` if it is safe as one segment of a group path.

    Keycloak (by default) does not escape ``/`` in group names, so the name
    ``a/b`` under the root gives the same path as group ``b`` under ``a``.
    Such names are refused, as are blank names, control characters and the
    segments ``.`` and ``..`` (rejected by 26.4's path normalisation).
    """
    if not name.strip():
        raise GroupNameError("a group name cannot be blank")
    if name != name.strip():
        raise GroupNameError(f"group name {name!r} has leading or trailing spaces")
    if name in (".", ".."):
        raise GroupNameError(f"group name {name!r} is a relative path segment")
    bad = sorted(
        {ch for ch in name if ch in "/\\~" or unicodedata.category(ch)[0] == "C"}
    )
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        raise GroupNameError(f"group name {name!r} contains {shown}")
    return name


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """One organisation as a group. ``key`` is its code (stable identity).

    ``attrs`` are the group attributes the organisation needs (org_code,
    tier, ...); the managed marker is added on top.
    """

    key: str
    name: str
    parent: str | None
    attrs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    description: str = ""

    def attributes(self) -> dict[str, list[str]]:
        out = {k: list(v) for k, v in self.attrs.items()}
        out[MANAGED_KEY] = [MANAGED]
        return out

    @property
    def tier(self) -> str:
        values = list(self.attrs.get("tier") or [""])
        return values[0]


@dataclass(frozen=True, slots=True)
class RoleSpec:
    name: str
    description: str = ""

    def attributes(self) -> dict[str, list[str]]:
        return {MANAGED_KEY: [MANAGED]}


@dataclass(frozen=True, slots=True)
class MapperSpec:
    name: str
    protocol_mapper: str
    config: Mapping[str, str]

    def representation(self) -> dict[str, object]:
        return {
            "name": self.name,
            "protocol": "openid-connect",
            "protocolMapper": self.protocol_mapper,
            "config": dict(self.config),
        }


def _token_flags() -> dict[str, str]:
    # Flags count only when exactly "true"; the console's defaults do not apply.
    return {
        "id.token.claim": "true",
        "access.token.claim": "true",
        "userinfo.token.claim": "true",
        "introspection.token.claim": "true",
    }


def standard_mappers() -> tuple[MapperSpec, ...]:
    """The claims the portal and apps read from the ID token."""
    mappers = [
        MapperSpec(
            "groups",
            "oidc-group-membership-mapper",
            {"claim.name": "groups", "full.path": "true", **_token_flags()},
        ),
        MapperSpec(
            "roles",
            "oidc-usermodel-realm-role-mapper",
            {
                "claim.name": "roles",
                "multivalued": "true",
                "jsonType.label": "String",
                **_token_flags(),
            },
        ),
    ]
    for attribute in TOKEN_ATTRIBUTES:
        mappers.append(
            MapperSpec(
                attribute,
                "oidc-usermodel-attribute-mapper",
                {
                    "user.attribute": attribute,
                    "claim.name": attribute,
                    "jsonType.label": "String",
                    "multivalued": "false",
                    "aggregate.attrs": "false",
                    **_token_flags(),
                },
            )
        )
    return tuple(mappers)


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """An OpenID Connect client: one per tenant app, one for the portal.

    ``access`` (who may use the app) is not a Keycloak setting; it is kept in
    a client attribute so the plan can say who gains or loses access
    against what the realm really holds.
    """

    client_id: str
    name: str
    root_url: str = ""
    redirect_uris: tuple[str, ...] = ()
    public: bool = False
    standard_flow: bool = True
    direct_access: bool = False
    description: str = ""
    tenant: str | None = None
    access: Mapping[str, object] | None = None
    mappers: tuple[MapperSpec, ...] = field(default_factory=standard_mappers)

    def attributes(self) -> dict[str, str]:
        attrs = {MANAGED_KEY: MANAGED, "post.logout.redirect.uris": "+"}
        if self.tenant is not None:
            attrs[TENANT_KEY] = self.tenant
        if self.access is not None:
            attrs[ACCESS_KEY] = json.dumps(
                self.access, ensure_ascii=False, sort_keys=True
            )
        return attrs

    def representation(self) -> dict[str, object]:
        """The fields the sync owns; anything else on the client is left alone."""
        rep: dict[str, object] = {
            "clientId": self.client_id,
            "name": self.name,
            "description": self.description,
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": self.public,
            "standardFlowEnabled": self.standard_flow,
            "directAccessGrantsEnabled": self.direct_access,
            "rootUrl": self.root_url,
            "redirectUris": list(self.redirect_uris),
            # "+": the origins of the redirect URIs (Keycloak's shorthand)
            "webOrigins": ["+"],
            "attributes": self.attributes(),
        }
        return rep


@dataclass(frozen=True, slots=True)
class Delegation:
    """Members of ``group`` holding realm role ``role`` administer its subtree."""

    group: str
    role: str = "tenant-admin"
    scopes: tuple[str, ...] = DELEGATED_SCOPES

    @property
    def key(self) -> str:
        return f"manage-{self.group}"

    @property
    def permission_name(self) -> str:
        return f"citycloud-{self.key}"

    def description(self, group_ids: Sequence[str]) -> str:
        """What the permission holds, readable back by observe.

        Listings of permissions do not carry their resources on every
        Keycloak version, so the subtree's fingerprint lives here: when a
        group is added under the county, the description changes and the
        permission is updated.
        """
        digest = hashlib.sha256("\n".join(sorted(group_ids)).encode()).hexdigest()[:12]
        payload = {
            "group": self.group,
            "role": self.role,
            "scopes": list(self.scopes),
            "groups": len(group_ids),
            "digest": digest,
        }
        return "citycloud " + json.dumps(payload, ensure_ascii=False, sort_keys=True)


def default_settings(
    display_name: str, events_retention_days: int = 180
) -> dict[str, object]:
    """Realm-level fields for a model built without the desired state."""
    return {
        "enabled": True,
        "displayName": display_name,
        "eventsEnabled": True,
        "eventsExpiration": events_retention_days * 86400,
        "adminEventsEnabled": True,
        "adminEventsDetailsEnabled": True,
        "internationalizationEnabled": True,
        "supportedLocales": ["zh-CN", "en"],
        "defaultLocale": "zh-CN",
    }


@dataclass(frozen=True, slots=True)
class RealmModel:
    """The whole desired realm.

    ``settings`` are top-level realm fields the sync owns (events on, their
    retention, locales...); ``attributes`` are realm attributes such as
    ``adminEventsExpiration``. Any other realm field is left alone.
    """

    name: str
    settings: Mapping[str, object] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[GroupSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    clients: tuple[ClientSpec, ...] = ()
    delegations: tuple[Delegation, ...] = ()

    def wanted_settings(self) -> dict[str, object]:
        wanted = dict(self.settings)
        if self.delegations:
            wanted["adminPermissionsEnabled"] = True
        return wanted

    def ordered_groups(self) -> list[GroupSpec]:
        """Parents before children; siblings by name (stable, readable plans)."""
        by_parent: dict[str | None, list[GroupSpec]] = {}
        keys = {g.key for g in self.groups}
        for group in self.groups:
            parent = group.parent if group.parent in keys else None
            by_parent.setdefault(parent, []).append(group)
        ordered: list[GroupSpec] = []
        stack = sorted(by_parent.get(None, []), key=lambda g: g.name, reverse=True)
        while stack:
            group = stack.pop()
            ordered.append(group)
            kids = by_parent.get(group.key, [])
            stack.extend(sorted(kids, key=lambda g: g.name, reverse=True))
        return ordered

    def validate(self) -> None:
        """Refuse a model whose group paths would be ambiguous."""
        seen: dict[tuple[str | None, str], str] = {}
        keys = {g.key for g in self.groups}
        for group in self.groups:
            check_group_name(group.name)
            if group.parent is not None and group.parent not in keys:
                raise GroupNameError(
                    f"group {group.key} has unknown parent {group.parent}"
                )
            slot = (group.parent, group.name)
            if slot in seen:
                raise GroupNameError(
                    f"groups {seen[slot]} and {group.key} are both named "
                    f"{group.name!r} under the same parent"
                )
            seen[slot] = group.key
        client_ids = [c.client_id for c in self.clients]
        if len(client_ids) != len(set(client_ids)):
            raise GroupNameError("two clients share a clientId")
