"""Who may see what in the portal: pure rules over the spec and ID-token claims.

The portal never decides access inline. It turns the signed-in user's claims
into a :class:`PortalUser` and asks this module which pages, apps, tenants,
requests and audit records that user may see. Keeping the rules here (no
Streamlit, no I/O) lets tests call them directly and lets the CLI or other
front ends reuse them.

The claims are the ones the city's Keycloak realm puts in the ID token:
``groups`` (full group paths such as ``/赤峰市/红山区/西屯街道``), ``org_code``,
``tier``, ``department``, ``roles`` (flat list of realm roles) and the usual
``preferred_username``, ``name`` and ``email``. Keycloak's own shape for
roles (``realm_access.roles``) is accepted too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from citycloud.spec.models import Access, App, Organisation, Tenant, Tier


class Role(StrEnum):
    """Platform roles, as realm roles in Keycloak."""

    CLOUD_ADMIN = "cloud-admin"
    OPS = "ops"
    TENANT_ADMIN = "tenant-admin"
    STAFF = "staff"
    AUDITOR = "auditor"


class Page(StrEnum):
    """The portal's pages, in navigation order."""

    APP_CENTRE = "app_centre"
    ONBOARDING = "onboarding"
    OPERATIONS = "operations"
    MONITORING = "monitoring"
    AUDIT = "audit"


# Which roles open which page. The app centre is for everyone signed in; the
# pages themselves filter their content further by organisation.
PAGE_ROLES: Mapping[Page, frozenset[Role]] = {
    Page.APP_CENTRE: frozenset(Role),
    Page.ONBOARDING: frozenset({Role.TENANT_ADMIN, Role.CLOUD_ADMIN}),
    Page.OPERATIONS: frozenset({Role.CLOUD_ADMIN, Role.OPS}),
    Page.MONITORING: frozenset({Role.CLOUD_ADMIN, Role.OPS, Role.TENANT_ADMIN}),
    Page.AUDIT: frozenset({Role.AUDITOR}),
}

# Roles that see every tenant of the city, whatever their own organisation.
CITY_WIDE_ROLES = frozenset({Role.CLOUD_ADMIN, Role.OPS})


@dataclass(frozen=True, slots=True)
class PortalUser:
    """The signed-in person, as far as access decisions go."""

    username: str
    name: str = ""
    email: str = ""
    org_code: str | None = None
    tier: Tier | None = None
    department: str = ""
    roles: frozenset[Role] = frozenset()
    groups: tuple[str, ...] = ()
    demo: bool = False

    def has_any(self, roles: Iterable[Role | str]) -> bool:
        return any(str(r) in self.roles for r in roles)

    @property
    def display_name(self) -> str:
        return self.name or self.username


def _roles_from_claims(claims: Mapping[str, object]) -> frozenset[Role]:
    raw: list[object] = []
    flat = claims.get("roles")
    if isinstance(flat, list | tuple):
        raw.extend(flat)
    realm_access = claims.get("realm_access")
    if isinstance(realm_access, Mapping):
        nested = realm_access.get("roles")
        if isinstance(nested, list | tuple):
            raw.extend(nested)
    known = {r.value for r in Role}
    # Keycloak adds default roles (offline_access, default-roles-*): ignore them.
    return frozenset(Role(str(r)) for r in raw if str(r) in known)


def user_from_claims(claims: Mapping[str, object], *, demo: bool = False) -> PortalUser:
    """Build a :class:`PortalUser` from ID-token claims; unknown values are dropped."""
    username = str(
        claims.get("preferred_username")
        or claims.get("email")
        or claims.get("sub")
        or ""
    )
    tier_claim = claims.get("tier")
    tier = Tier(tier_claim) if tier_claim in {t.value for t in Tier} else None
    groups_claim = claims.get("groups")
    groups = (
        tuple(str(g) for g in groups_claim)
        if isinstance(groups_claim, list | tuple)
        else ()
    )
    org = claims.get("org_code")
    return PortalUser(
        username=username,
        name=str(claims.get("name") or ""),
        email=str(claims.get("email") or ""),
        org_code=str(org) if org else None,
        tier=tier,
        department=str(claims.get("department") or ""),
        roles=_roles_from_claims(claims),
        groups=groups,
        demo=demo,
    )


@dataclass(frozen=True)
class OrgTree:
    """Parent links of the organisation tree, enough to answer "is X under Y"."""

    orgs: Mapping[str, Organisation] = field(default_factory=dict)

    @classmethod
    def of(cls, organisations: Iterable[Organisation]) -> OrgTree:
        return cls({o.code: o for o in organisations})

    def ancestors(self, code: str) -> list[str]:
        """Codes from ``code``'s parent up to the root (cycles are cut)."""
        chain: list[str] = []
        seen = {code}
        parent = self.orgs[code].parent if code in self.orgs else None
        while parent is not None and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = self.orgs[parent].parent if parent in self.orgs else None
        return chain

    def is_within(self, code: str, ancestor: str) -> bool:
        """True when ``code`` is ``ancestor`` itself or lies below it."""
        return code == ancestor or ancestor in self.ancestors(code)

    def subtree(self, code: str) -> list[str]:
        return [c for c in self.orgs if self.is_within(c, code)]

    def name(self, code: str) -> str:
        org = self.orgs.get(code)
        return org.name if org else code


def visible_pages(user: PortalUser) -> list[Page]:
    """Pages the user may open, in navigation order."""
    return [page for page in Page if may_open_page(user, page)]


def may_open_page(user: PortalUser, page: Page) -> bool:
    return bool(user.roles & PAGE_ROLES[page])


def may_open_app(user: PortalUser, tenant: Tenant, app: App, tree: OrgTree) -> bool:
    """Whether the app centre offers ``app`` of ``tenant`` to ``user``."""
    access: Access = app.access
    if user.org_code is None or user.tier is None:
        return False
    if user.tier not in access.tiers:
        return False
    if not user.has_any(access.roles):
        return False
    if access.departments and user.department not in access.departments:
        return False
    if access.scope == "city":
        return True
    return tree.is_within(user.org_code, tenant.owner)


def visible_apps(
    user: PortalUser, tenants: Sequence[Tenant], tree: OrgTree
) -> list[tuple[Tenant, App]]:
    return [
        (tenant, app)
        for tenant in tenants
        for app in tenant.apps
        if may_open_app(user, tenant, app, tree)
    ]


def sees_whole_city(user: PortalUser) -> bool:
    return bool(user.roles & CITY_WIDE_ROLES)


def may_see_org(user: PortalUser, org_code: str | None, tree: OrgTree) -> bool:
    """Organisation-scoped records (tenants, requests, audit) under the user's org."""
    if sees_whole_city(user):
        return True
    if user.org_code is None or org_code is None:
        return False
    return tree.is_within(org_code, user.org_code)


def may_manage_tenant(user: PortalUser, tenant: Tenant, tree: OrgTree) -> bool:
    """Tenant admins manage tenants their organisation owns or oversees."""
    if Role.CLOUD_ADMIN in user.roles:
        return True
    if Role.TENANT_ADMIN not in user.roles:
        return False
    if tenant.admins and user.username in tenant.admins:
        return True
    return may_see_org(user, tenant.owner, tree)


def visible_tenants(
    user: PortalUser, tenants: Sequence[Tenant], tree: OrgTree
) -> list[Tenant]:
    """Tenants whose use and state the user may look at (monitoring, operations)."""
    if sees_whole_city(user):
        return list(tenants)
    return [t for t in tenants if may_manage_tenant(user, t, tree)]


def requestable_orgs(user: PortalUser, tree: OrgTree) -> list[str]:
    """Organisations a user may request a tenant for: their own and below."""
    if Role.CLOUD_ADMIN in user.roles:
        return list(tree.orgs)
    if Role.TENANT_ADMIN not in user.roles or user.org_code is None:
        return []
    return tree.subtree(user.org_code)


def approval_route(owner: str, tree: OrgTree) -> list[str]:
    """Organisations whose admins may approve a request for ``owner``, nearest first."""
    return [owner, *tree.ancestors(owner)]


def may_approve(user: PortalUser, owner: str, requester: str, tree: OrgTree) -> bool:
    """Approvers sit at or above the owning organisation; nobody approves their own."""
    if user.username == requester:
        return False
    if Role.CLOUD_ADMIN in user.roles:
        return True
    if Role.TENANT_ADMIN not in user.roles or user.org_code is None:
        return False
    return user.org_code in approval_route(owner, tree)


def may_see_request(
    user: PortalUser, owner: str, requester: str, tree: OrgTree
) -> bool:
    if user.username == requester:
        return True
    if Role.CLOUD_ADMIN in user.roles or Role.OPS in user.roles:
        return True
    if Role.TENANT_ADMIN not in user.roles:
        return False
    return may_see_org(user, owner, tree)


def audit_scope(user: PortalUser, tree: OrgTree) -> list[str] | None:
    """Org codes whose audit records an auditor may read; None means all of them."""
    if Role.AUDITOR not in user.roles or user.org_code is None:
        return []
    if user.tier == Tier.CITY:
        return None
    return tree.subtree(user.org_code)
