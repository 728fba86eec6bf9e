"""Desired state of the identity layer (Keycloak): one realm for the city.

The group tree mirrors the organisation tree, keyed by statistical code so a
renamed organisation moves its group instead of replacing it; realm roles are
the platform roles; each tenant app and the portal get an OpenID Connect
client whose tokens carry the claims the portal reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from citycloud.desired.model import Resource, ResourceId, res
from citycloud.spec.tree import Spec

PORTAL_CLIENT = "citycloud-portal"
KUBERNETES_CLIENT = "citycloud-kubernetes"
DAY = 86400

# Claims put in the ID token, in the shapes the portal reads.
CLAIM_MAPPERS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "groups",
        "oidc-group-membership-mapper",
        {"claim.name": "groups", "full.path": "true"},
    ),
    (
        "org_code",
        "oidc-usermodel-attribute-mapper",
        {
            "user.attribute": "org_code",
            "claim.name": "org_code",
            "jsonType.label": "String",
        },
    ),
    (
        "tier",
        "oidc-usermodel-attribute-mapper",
        {"user.attribute": "tier", "claim.name": "tier", "jsonType.label": "String"},
    ),
    (
        "department",
        "oidc-usermodel-attribute-mapper",
        {
            "user.attribute": "department",
            "claim.name": "department",
            "jsonType.label": "String",
        },
    ),
    (
        "roles",
        "oidc-usermodel-realm-role-mapper",
        {"claim.name": "roles", "multivalued": "true", "jsonType.label": "String"},
    ),
)
DELEGATED_ROLE = "tenant-admin"
DELEGATED_SCOPES = (
    "view",
    "manage",
    "view-members",
    "manage-members",
    "manage-membership",
)
TOKEN_FLAGS = {
    "id.token.claim": "true",
    "access.token.claim": "true",
    "userinfo.token.claim": "true",
}


def identity_resources(spec: Spec) -> Iterator[Resource]:
    realm = spec.realm
    settings = spec.city.identity
    realm_id = ResourceId("identity", "realm", realm)
    yield Resource(
        realm_id,
        {
            "realm": realm,
            "displayName": spec.city.name,
            "enabled": True,
            "internationalizationEnabled": True,
            "supportedLocales": ["zh-CN", "en"],
            "defaultLocale": "zh-CN",
            "eventsEnabled": True,
            "eventsExpiration": settings.events_retention_days * DAY,
            "adminEventsEnabled": True,
            "adminEventsDetailsEnabled": True,
            # fine-grained admin permissions v2 (Keycloak 26.2+): county delegation
            "adminPermissionsEnabled": True,
            "attributes": {
                "adminEventsExpiration": str(settings.admin_events_retention_days * DAY)
            },
        },
    )
    for role in spec.roles:
        yield res(
            "identity",
            "role",
            role.name,
            {"name": role.name, "description": role.description},
            parent=realm_id,
        )
    for code in spec.subtree(spec.root.code):
        org = spec.orgs[code]
        parent = (
            ResourceId("identity", "group", org.parent)
            if org.parent is not None and org.parent in spec.orgs
            else realm_id
        )
        yield res(
            "identity",
            "group",
            code,
            {
                "name": org.name,
                "path": spec.group_path(code),
                "parent": org.parent if org.parent in spec.orgs else None,
                "attributes": {
                    "org_code": [code],
                    "tier": [org.level.value],
                    **({"synthetic": ["true"]} if org.synthetic else {}),
                },
            },
            parent=parent,
        )
        if org.level.value == "county":
            # County admins (tenant-admin members of the county's group)
            # manage the groups and members of their county only.
            yield res(
                "identity",
                "permission",
                f"manage-{code}",
                {
                    "group": code,
                    "role": DELEGATED_ROLE,
                    "scopes": list(DELEGATED_SCOPES),
                },
                parent=ResourceId("identity", "group", code),
            )
    clients: list[tuple[str, dict[str, object], str | None]] = [
        (
            PORTAL_CLIENT,
            {
                "name": "城市云平台门户（登录）",
                # Streamlit's callback, also its post-logout return address.
                "redirectUris": [f"{settings.portal_url.rstrip('/')}/oauth2callback"],
                "access": None,
            },
            None,
        )
    ]
    if any(tenant.kind == "container" for tenant in spec.tenants):
        # The cluster's API server trusts tokens of this client
        # (--oidc-client-id) and reads their `groups` claim for the tenants'
        # role bindings; kubectl signs in through it with a local callback.
        clients.append(
            (
                KUBERNETES_CLIENT,
                {
                    "name": "Kubernetes",
                    "publicClient": True,
                    "redirectUris": ["http://localhost:8000", "http://localhost:18000"],
                    "access": None,
                },
                None,
            )
        )
    for tenant, app in spec.apps():
        access = app.access
        clients.append(
            (
                Spec.client_id(tenant, app),
                {
                    "name": app.name,
                    "redirectUris": [f"{app.url.rstrip('/')}/*"] if app.url else [],
                    "access": {
                        "tiers": [t.value for t in access.tiers],
                        "roles": sorted(access.roles),
                        "departments": sorted(access.departments),
                        "scope": access.scope,
                        "owner": tenant.owner,
                    },
                },
                tenant.slug,
            )
        )
    for client_id, attrs, tenant_slug in clients:
        cid = ResourceId("identity", "client", client_id)
        yield Resource(
            cid,
            {
                "clientId": client_id,
                "protocol": "openid-connect",
                "publicClient": False,
                "standardFlowEnabled": True,
                "directAccessGrantsEnabled": False,
                **attrs,
            },
            tenant=tenant_slug,
            parent=realm_id,
        )
        for name, mapper, config in CLAIM_MAPPERS:
            yield res(
                "identity",
                "mapper",
                f"{client_id}/{name}",
                {
                    "client": client_id,
                    "name": name,
                    "protocol": "openid-connect",
                    "protocolMapper": mapper,
                    "config": {**config, **TOKEN_FLAGS},
                },
                tenant=tenant_slug,
                parent=cid,
            )
