"""Rules across the whole spec, checked before anything is planned.

Each check returns problems instead of raising on the first, so a person sees
everything to fix in one run, each pointing at a file, line and field.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping

from citycloud.errors import Problem
from citycloud.spec.loading import Path_, SourceMap
from citycloud.spec.models import Organisation, Quotas, Tenant
from citycloud.spec.naming import bad_path_chars
from citycloud.spec.tree import Spec


def _dupes(
    items: Iterable[tuple[Path_, str]], what: str, sources: SourceMap
) -> Iterator[Problem]:
    seen: dict[str, Path_] = {}
    for path, value in items:
        if value in seen:
            first_file, first_line = sources.locate(seen[value])
            yield sources.problem(
                path,
                f"duplicate {what} {value!r} (first at {first_file}:{first_line})",
            )
        else:
            seen[value] = path


def check_organisations(
    spec: Spec, locate: Callable[[str, str], Problem]
) -> Iterator[Problem]:
    """Tree shape: one root that is the city, parents exist, tiers step by one."""
    city = spec.city
    for org in spec.orgs.values():
        if org.code == city.code:
            if org.level.value != "city":
                yield locate(org.code, f"the city's code {org.code} must be level city")
            continue
        if org.level.value == "city":
            yield locate(org.code, f"second city-level organisation {org.code}")
            continue
        parent = spec.orgs.get(org.parent or "")
        if parent is None:
            yield locate(
                org.code,
                f"parent {org.parent!r} of {org.name} ({org.code}) does not exist",
            )
            continue
        if org.level.depth != parent.level.depth + 1:
            yield locate(
                org.code,
                f"{org.name} is {org.level.value} but its parent {parent.name} is "
                f"{parent.level.value}; a {org.level.value} belongs under a "
                f"{_tier_above(org)}",
            )
        bad = bad_path_chars(org.name)
        if bad:
            yield locate(
                org.code,
                f"name {org.name!r} contains {bad!r}, which would break the group path",
            )
    siblings: dict[tuple[str | None, str], str] = {}
    for org in spec.orgs.values():
        key = (org.parent, org.name)
        if key in siblings:
            yield locate(
                org.code,
                f"two organisations named {org.name!r} under the same parent "
                f"({siblings[key]} and {org.code}); group paths would clash",
            )
        else:
            siblings[key] = org.code


def _tier_above(org: Organisation) -> str:
    return ["-", "city", "county", "township"][org.level.depth]


def check_datacenter(spec: Spec) -> Iterator[Problem]:
    dc, src = spec.datacenter, spec.sources
    base: Path_ = ("datacenter",)
    for key, attr in (
        ("regions", "name"),
        ("racks", "name"),
        ("hosts", "name"),
        ("provider_networks", "name"),
        ("storage_pools", "name"),
        ("flavors", "name"),
        ("images", "name"),
    ):
        items = getattr(dc, key)
        yield from _dupes(
            (((*base, key, i, attr), getattr(x, attr)) for i, x in enumerate(items)),
            f"{key[:-1].replace('_', ' ')} name",
            src,
        )
    yield from _dupes(
        (
            ((*base, "hosts", i, "address"), str(h.address))
            for i, h in enumerate(dc.hosts)
        ),
        "host address",
        src,
    )
    regions = {r.name for r in dc.regions}
    for i, rack in enumerate(dc.racks):
        if rack.region not in regions:
            yield src.problem(
                (*base, "racks", i, "region"), f"unknown region {rack.region!r}"
            )
    racks = {r.name for r in dc.racks}
    for i, host in enumerate(dc.hosts):
        if host.rack not in racks:
            yield src.problem(
                (*base, "hosts", i, "rack"), f"unknown rack {host.rack!r}"
            )


def _network_owners(spec: Spec) -> list[tuple[Path_, ipaddress.IPv4Network, str]]:
    nets: list[tuple[Path_, ipaddress.IPv4Network, str]] = []
    for i, pn in enumerate(spec.datacenter.provider_networks):
        path = ("datacenter", "provider_networks", i, "cidr")
        nets.append((path, pn.cidr, f"provider network {pn.name}"))
    for i, tenant in enumerate(spec.tenants):
        nets.append(
            (("tenants", i, "network", "cidr"), tenant.network.cidr, tenant.name)
        )
    return nets


def check_networks(spec: Spec) -> Iterator[Problem]:
    """No two tenant networks (or a tenant and a provider network) overlap."""
    nets = sorted(
        _network_owners(spec), key=lambda n: (int(n[1].network_address), n[0])
    )
    # After sorting by start address, an overlap shows up between a network and
    # the widest one still open before it: one pass, not all pairs.
    widest: tuple[Path_, ipaddress.IPv4Network, str] | None = None
    for current in nets:
        if widest is not None and current[1].overlaps(widest[1]):
            file, line = spec.sources.locate(widest[0])
            yield spec.sources.problem(
                current[0],
                f"{current[1]} of {current[2]} overlaps {widest[1]} of {widest[2]} "
                f"({file}:{line})",
            )
        if widest is None or current[1].broadcast_address > widest[1].broadcast_address:
            widest = current


def check_tenants(spec: Spec) -> Iterator[Problem]:
    src = spec.sources
    dc = spec.datacenter
    flavors = {f.name for f in dc.flavors}
    images = {i.name for i in dc.images}
    pools = {p.name for p in dc.storage_pools}
    hosts = {h.name for h in dc.hosts}
    roles = {r.name for r in spec.roles}
    yield from _dupes(
        ((("tenants", i, "slug"), t.slug or "") for i, t in enumerate(spec.tenants)),
        "tenant slug",
        src,
    )
    yield from _dupes(
        ((("tenants", i, "name"), t.name) for i, t in enumerate(spec.tenants)),
        "tenant name",
        src,
    )
    client_ids = (
        (("tenants", i, "apps", j, "slug"), Spec.client_id(t, a))
        for i, t in enumerate(spec.tenants)
        for j, a in enumerate(t.apps)
    )
    yield from _dupes(client_ids, "app client id", src)
    for i, tenant in enumerate(spec.tenants):
        here: Path_ = ("tenants", i)
        owner = spec.orgs.get(tenant.owner)
        if owner is None:
            yield src.problem(
                (*here, "owner"),
                f"organisation {tenant.owner!r} does not exist in the organisation tree",
            )
        elif tenant.tier is not None and tenant.tier != owner.level:
            yield src.problem(
                (*here, "tier"),
                f"tier {tenant.tier.value} does not match the owner {owner.name}, "
                f"which is {owner.level.value}",
            )
        for j, rule in enumerate(tenant.security):
            # Any remote that is not wholly private (0.0.0.0/0, but also
            # 0.0.0.0/1 and 128.0.0.0/1 together) opens the port to the internet.
            if (
                rule.direction == "ingress"
                and not rule.remote.is_private
                and not rule.public
            ):
                yield src.problem(
                    (*here, "security", j, "remote"),
                    f"ingress from {rule.remote}, which is not a private range, needs "
                    "public: true (a declared public port) or a private remote",
                )
        for h, name in enumerate(tenant.hosts):
            if name not in hosts:
                yield src.problem((*here, "hosts", h), f"unknown host {name!r}")
        for j, app in enumerate(tenant.apps):
            app_path: Path_ = (*here, "apps", j)
            yield from _dupes(
                (
                    ((*app_path, "workloads", k, "name"), w.name)
                    for k, w in enumerate(app.workloads)
                ),
                "workload name",
                src,
            )
            for r, role in enumerate(app.access.roles):
                if role not in roles:
                    yield src.problem(
                        (*app_path, "access", "roles", r),
                        f"unknown platform role {role!r}",
                    )
            for k, wl in enumerate(app.workloads):
                wl_path: Path_ = (*app_path, "workloads", k)
                if wl.kind != tenant.kind:
                    yield src.problem(
                        (*wl_path, "kind"),
                        f"a {wl.kind} workload in a {tenant.kind} tenant",
                    )
                if wl.kind == "vm":
                    if wl.flavor is None:
                        yield src.problem(
                            (*wl_path, "flavor"), "a vm workload needs a flavor"
                        )
                    elif wl.flavor not in flavors:
                        yield src.problem(
                            (*wl_path, "flavor"), f"unknown flavor {wl.flavor!r}"
                        )
                    if wl.image is None:
                        yield src.problem(
                            (*wl_path, "image"), "a vm workload needs an image"
                        )
                    elif wl.image not in images:
                        yield src.problem(
                            (*wl_path, "image"), f"unknown image {wl.image!r}"
                        )
                elif wl.image is None:
                    yield src.problem(
                        (*wl_path, "image"), "a container workload needs an image"
                    )
                if wl.storage_pool is not None and wl.storage_pool not in pools:
                    yield src.problem(
                        (*wl_path, "storage_pool"),
                        f"unknown storage pool {wl.storage_pool!r}",
                    )


QUOTA_KEYS = tuple(Quotas.model_fields)


def _add(total: dict[str, int], quotas: Quotas | None, keys: Iterable[str]) -> None:
    for key in keys:
        value = getattr(quotas, key) if quotas is not None else None
        if value is None:
            continue
        if value < 0 or total.get(key, 0) < 0:
            total[key] = -1
        else:
            total[key] = total.get(key, 0) + value


def check_envelopes(
    spec: Spec, locate: Callable[[str, str], Problem]
) -> Iterator[Problem]:
    """Within every organisation that has a quota envelope, the sum of what its
    subtree claims (children's envelopes where they have one, otherwise their
    tenants' quotas) must fit in the envelope. A limited key must be set."""
    tenants_of: dict[str, list[tuple[int, Tenant]]] = defaultdict(list)
    for i, tenant in enumerate(spec.tenants):
        tenants_of[tenant.owner].append((i, tenant))

    def claim(code: str, keys: tuple[str, ...]) -> tuple[dict[str, int], list[Problem]]:
        """What ``code``'s subtree claims, stopping at children with envelopes."""
        total: dict[str, int] = {}
        problems: list[Problem] = []
        stack = [code]
        while stack:
            current = stack.pop()
            for i, tenant in tenants_of.get(current, []):
                for key in keys:
                    if getattr(tenant.quotas, key) is None:
                        problems.append(
                            spec.sources.problem(
                                ("tenants", i, "quotas", key),
                                f"must be set: {spec.orgs[code].name} limits {key}",
                            )
                        )
                _add(total, tenant.quotas, keys)
            for child in spec.children.get(current, ()):
                envelope = spec.orgs[child].envelope
                if envelope is not None:
                    _add(total, envelope, keys)
                    unset = [k for k in keys if getattr(envelope, k) is None]
                    total.update(dict.fromkeys(unset, -1))
                else:
                    stack.append(child)
        return total, problems

    for org in spec.orgs.values():
        if org.envelope is None:
            continue
        limits = {k: v for k, v in org.envelope.items_set().items() if v >= 0}
        if not limits:
            continue
        total, problems = claim(org.code, tuple(limits))
        yield from problems
        for key, limit in limits.items():
            used = total.get(key, 0)
            if used < 0:
                yield locate(
                    org.code,
                    f"envelope.{key} of {org.name} is {limit} but something under it "
                    f"is unlimited (-1) or sets no {key}",
                )
            elif used > limit:
                yield locate(
                    org.code,
                    f"envelope.{key} of {org.name} is {limit} but its subtree claims "
                    f"{used}",
                )


def run_checks(
    spec: Spec, org_origin: Mapping[str, tuple[str, int | None, str]]
) -> list[Problem]:
    """Every cross-object check. ``org_origin`` gives, for each organisation
    code, the file, line and field it was declared at (YAML or divisions CSV)."""

    def locate(code: str, message: str) -> Problem:
        file, line, field = org_origin.get(
            code, (spec.sources.default_file, None, code)
        )
        return Problem(file, line, field, message)

    problems: list[Problem] = []
    for check in (
        check_organisations(spec, locate),
        check_datacenter(spec),
        check_networks(spec),
        check_tenants(spec),
        check_envelopes(spec, locate),
    ):
        problems.extend(check)
    return problems
