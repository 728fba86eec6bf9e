"""Read the city's live OpenStack state in one pass.

A :class:`LiveCloud` is a plain snapshot of what the SDK returned, indexed for
the three readers that need it: the observer (which turns it into the desired
state's resource shapes), the conflict checks (which look beyond the city's
own domain) and the engine (which needs IDs to delete by). Listing calls page
through everything; per-project quota calls run on a few threads because each
is one round trip and there is one per project and service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from openstack.connection import Connection
from openstack.identity.v3._proxy import Proxy as IdentityProxy

from citycloud.adapters.openstack.errors import call, mapped
from citycloud.errors import PermanentError

log = logging.getLogger(__name__)

Raw = dict[str, Any]

# Spec quota name -> (service, the service's own field name).
QUOTA_FIELDS: dict[str, tuple[str, str]] = {
    "instances": ("compute", "instances"),
    "cores": ("compute", "cores"),
    "ram_mb": ("compute", "ram"),
    "volumes": ("volume", "volumes"),
    "gigabytes": ("volume", "gigabytes"),
    "floating_ips": ("network", "floatingip"),
    "networks": ("network", "network"),
    "security_groups": ("network", "security_group"),
    "security_group_rules": ("network", "security_group_rule"),
}

_QUOTA_THREADS = 8
_LIST_THREADS = 8


@dataclass
class ProjectQuota:
    """Limits (and usage, when asked for) of one project, by spec quota name."""

    limits: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class LiveCloud:
    """Everything observed, as plain dicts straight from the APIs."""

    domain: Raw | None = None
    domains: dict[str, Raw] = field(default_factory=dict)
    projects: list[Raw] = field(default_factory=list)
    all_projects: list[Raw] = field(default_factory=list)
    quotas: dict[str, ProjectQuota] = field(default_factory=dict)
    networks: list[Raw] = field(default_factory=list)
    subnets: list[Raw] = field(default_factory=list)
    routers: list[Raw] = field(default_factory=list)
    router_ports: list[Raw] = field(default_factory=list)
    security_groups: list[Raw] = field(default_factory=list)
    security_group_rules: list[Raw] = field(default_factory=list)
    floating_ips: list[Raw] = field(default_factory=list)
    servers: list[Raw] = field(default_factory=list)
    volumes: list[Raw] = field(default_factory=list)
    flavors: list[Raw] = field(default_factory=list)
    images: list[Raw] = field(default_factory=list)
    aggregates: list[Raw] = field(default_factory=list)
    volume_types: list[Raw] = field(default_factory=list)

    def project_ids(self) -> set[str]:
        return {p["id"] for p in self.projects}

    def project_by_name(self, name: str) -> Raw | None:
        return next((p for p in self.projects if p["name"] == name), None)

    def owned_by(self, project_id: str, items: Iterable[Raw]) -> list[Raw]:
        return [i for i in items if _project_of(i) == project_id]


def _project_of(item: Mapping[str, Any]) -> str | None:
    value = item.get("project_id") or item.get("tenant_id")
    if value is None and "os-vol-tenant-attr:tenant_id" in item:
        value = item["os-vol-tenant-attr:tenant_id"]
    return str(value) if value else None


def _plain(items: Iterable[Any]) -> list[Raw]:
    return [dict(item.to_dict(computed=False)) for item in items]


def _quota_of(conn: Connection, project_id: str, usage: bool) -> ProjectQuota:
    quota = ProjectQuota()
    compute = call(
        "read compute quota",
        lambda: conn.compute.get_quota_set(project_id, usage=usage),
    )
    network = call(
        "read network quota",
        lambda: conn.network.get_quota(project_id, details=usage),
    )
    volume = call(
        "read volume quota",
        lambda: conn.block_storage.get_quota_set(project_id, usage=usage),
    )
    raw = {
        "compute": compute.to_dict(computed=False),
        "network": network.to_dict(computed=False),
        "volume": volume.to_dict(computed=False),
    }
    for name, (service, field_name) in QUOTA_FIELDS.items():
        value = _quota_value(service, field_name, raw[service], usage)
        if value is None:
            continue
        quota.limits[name] = value[0]
        if value[1] is not None:
            quota.usage[name] = value[1]
    return quota


def _quota_value(
    service: str, field_name: str, data: Mapping[str, Any], usage: bool
) -> tuple[int, int | None] | None:
    # The SDK renames a few network fields (floatingip -> floating_ips ...).
    aliases = {
        "floatingip": "floating_ips",
        "network": "networks",
        "security_group": "security_groups",
        "security_group_rule": "security_group_rules",
    }
    key = aliases.get(field_name, field_name) if service == "network" else field_name
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        limit = int(value.get("limit", -1))
        used = int(value.get("used", 0)) + int(value.get("reserved", 0) or 0)
        return limit, used
    used_value = None
    if usage:
        usage_map = data.get("usage") or {}
        if key in usage_map:
            used_value = int(usage_map[key])
    return int(value), used_value


def read_quotas(
    conn: Connection, project_ids: Iterable[str], *, usage: bool = False
) -> dict[str, ProjectQuota]:
    """Quotas of several projects, read on a few threads."""
    ids = list(project_ids)
    if not ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(_QUOTA_THREADS, len(ids))) as pool:
        results = pool.map(lambda pid: _quota_of(conn, pid, usage), ids)
        return dict(zip(ids, results, strict=True))


def _identity(conn: Connection) -> IdentityProxy:
    identity = conn.identity
    if not isinstance(identity, IdentityProxy):
        raise PermanentError("openstack", "Keystone v3 is required")
    return identity


def find_domain(conn: Connection, name: str) -> Raw | None:
    with mapped(f"find domain {name}"):
        domain = _identity(conn).find_domain(name, ignore_missing=True)
    return None if domain is None else dict(domain.to_dict(computed=False))


def read_live(conn: Connection, domain_name: str, *, quotas: bool = True) -> LiveCloud:
    """Snapshot everything citycloud manages, scoped to ``domain_name``.

    Projects of other domains are kept in ``all_projects`` only, for conflict
    checks; network resources of every project are kept so that a CIDR taken
    anywhere in the cloud can be found.
    """
    listings: dict[str, tuple[str, Callable[[], Iterable[Any]]]] = {
        "domains": ("list domains", lambda: _identity(conn).domains()),
        "all_projects": ("list projects", lambda: _identity(conn).projects()),
        "networks": ("list networks", conn.network.networks),
        "subnets": ("list subnets", conn.network.subnets),
        "routers": ("list routers", conn.network.routers),
        "router_ports": (
            "list router ports",
            lambda: conn.network.ports(device_owner="network:router_interface"),
        ),
        "security_groups": ("list security groups", conn.network.security_groups),
        "security_group_rules": (
            "list security group rules",
            conn.network.security_group_rules,
        ),
        "floating_ips": ("list floating IPs", conn.network.ips),
        "servers": ("list servers", lambda: conn.compute.servers(all_projects=True)),
        "flavors": ("list flavors", lambda: conn.compute.flavors(is_public=None)),
        "aggregates": ("list aggregates", conn.compute.aggregates),
        "volumes": (
            "list volumes",
            lambda: conn.block_storage.volumes(all_projects=True),
        ),
        "volume_types": ("list volume types", conn.block_storage.types),
        "images": ("list images", conn.image.images),
    }

    def fetch(item: tuple[str, Callable[[], Iterable[Any]]]) -> list[Raw]:
        action, lister = item
        with mapped(action):
            return _plain(lister())

    # Each listing is a round trip (or a few pages) to a different API: done
    # side by side, the observation costs about its slowest listing.
    with ThreadPoolExecutor(max_workers=_LIST_THREADS) as pool:
        found = dict(zip(listings, pool.map(fetch, listings.values()), strict=True))
    live = LiveCloud(domains={d["id"]: d for d in found.pop("domains")})
    for name, items in found.items():
        setattr(live, name, items)
    live.domain = next(
        (d for d in live.domains.values() if d["name"] == domain_name), None
    )
    if live.domain is not None:
        live.projects = [
            p for p in live.all_projects if p.get("domain_id") == live.domain["id"]
        ]
    if quotas:
        live.quotas = read_quotas(conn, live.project_ids())
    log.debug(
        "observed %d project(s), %d network(s), %d server(s) in domain %s",
        len(live.projects),
        len(live.networks),
        len(live.servers),
        domain_name,
    )
    return live
