"""The resolved spec: models plus the organisation tree and derived names.

``Spec`` is what every layer above reads. It is built once by
:func:`citycloud.spec.load_spec`, after every check passed, and never changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from citycloud.spec.loading import SourceMap
from citycloud.spec.models import (
    App,
    City,
    DataCenter,
    Organisation,
    PlatformRole,
    SpecDocument,
    Tenant,
    Tier,
)


@dataclass(frozen=True)
class Spec:
    """A checked spec. Organisations carry slugs; tenants and apps carry slugs."""

    document: SpecDocument
    orgs: Mapping[str, Organisation]
    tenants: tuple[Tenant, ...]
    roles: tuple[PlatformRole, ...]
    sources: SourceMap = field(default_factory=SourceMap, compare=False, repr=False)

    @property
    def city(self) -> City:
        return self.document.city

    @property
    def datacenter(self) -> DataCenter:
        return self.document.datacenter

    @property
    def realm(self) -> str:
        return self.city.identity.realm or self.city.slug

    @property
    def domain(self) -> str:
        return self.city.domain or self.city.slug

    @cached_property
    def root(self) -> Organisation:
        return self.orgs[self.city.code]

    @cached_property
    def children(self) -> Mapping[str, tuple[str, ...]]:
        kids: dict[str, list[str]] = {code: [] for code in self.orgs}
        for org in self.orgs.values():
            if org.parent is not None and org.parent in kids:
                kids[org.parent].append(org.code)
        return {code: tuple(sorted(v)) for code, v in kids.items()}

    def ancestors(self, code: str) -> list[str]:
        """Codes from the root down to ``code``'s parent."""
        chain: list[str] = []
        parent = self.orgs[code].parent
        while parent is not None and parent in self.orgs:
            chain.append(parent)
            parent = self.orgs[parent].parent
        return chain[::-1]

    def lineage(self, code: str) -> list[str]:
        """Codes from the root down to ``code`` itself."""
        return [*self.ancestors(code), code]

    def subtree(self, code: str) -> Iterator[str]:
        """``code`` and every organisation under it, depth first."""
        stack = [code]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(self.children.get(current, ())))

    def is_within(self, code: str, ancestor: str) -> bool:
        """Whether ``code`` is ``ancestor`` or lies in its subtree."""
        return code == ancestor or ancestor in self.ancestors(code)

    def group_path(self, code: str) -> str:
        """Keycloak-style path of names: ``/赤峰市/红山区/西屯街道``."""
        return "/" + "/".join(self.orgs[c].name for c in self.lineage(code))

    def tier_of(self, code: str) -> Tier:
        return self.orgs[code].level

    def tenant(self, slug: str) -> Tenant:
        for tenant in self.tenants:
            if tenant.slug == slug:
                return tenant
        raise KeyError(slug)

    def apps(self) -> Iterator[tuple[Tenant, App]]:
        for tenant in self.tenants:
            for app in tenant.apps:
                yield tenant, app

    @staticmethod
    def client_id(tenant: Tenant, app: App) -> str:
        """The app's OpenID Connect client id, unique across the realm."""
        return f"{tenant.slug}-{app.slug}"
