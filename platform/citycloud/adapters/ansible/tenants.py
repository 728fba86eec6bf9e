"""Inventory and variables for playbooks/tenants.yml and playbooks/cloud.yml.

One inventory host per tenant that the plan changes, and nothing else: a
no-op Ansible run still costs seconds per tenant, so the plan decides who
runs. Present tenants get their whole desired state (the role is idempotent,
so resources the plan leaves alone stay as they are) plus the IDs of what the
plan deletes inside them; a tenant the plan removes gets the IDs of everything
its project still holds, which the role deletes children first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from citycloud.adapters.openstack.live import QUOTA_FIELDS, LiveCloud, Raw
from citycloud.adapters.openstack.observe import DEFAULT_GROUP, meta_key
from citycloud.desired.model import DesiredState, Resource
from citycloud.plan.model import Action, Plan

HostVars = dict[str, Any]

# The collection's quota module names a few limits its own way.
_ANSIBLE_QUOTA = {"ram_mb": "ram"}


@dataclass(frozen=True)
class OpsUser:
    """The operations account the engine acts as inside tenant projects."""

    name: str
    domain: str
    role: str = "admin"


def _one(resources: Iterable[Resource], kind: str) -> Resource | None:
    return next((r for r in resources if r.kind == kind), None)


def _many(resources: Iterable[Resource], kind: str) -> list[Resource]:
    return sorted((r for r in resources if r.kind == kind), key=lambda r: r.key)


def _quota_vars(quota: Resource | None) -> dict[str, int]:
    if quota is None:
        return {}
    return {
        _ANSIBLE_QUOTA.get(name, name): int(value)
        for name, value in quota.attrs.items()
        if name in QUOTA_FIELDS and value is not None
    }


def present_vars(slug: str, desired: DesiredState) -> HostVars:
    """The role variables that converge tenant ``slug`` to its desired state."""
    mine = [r for r in desired.layer("openstack") if r.tenant == slug]
    project = _one(mine, "project")
    if project is None:
        raise ValueError(f"tenant {slug} has no project in the desired state")
    attrs = project.attrs
    routers = _many(mine, "router")
    return {
        "citycloud_tenant_state": "present",
        "citycloud_tenant_domain": attrs["domain"],
        "citycloud_tenant_project": {
            "name": attrs["name"],
            "description": attrs.get("description", ""),
            "enabled": bool(attrs.get("enabled", True)),
            "properties": {
                meta_key(name): attrs.get(name) or "" for name in ("owner", "tier")
            },
        },
        "citycloud_tenant_quota": _quota_vars(_one(mine, "quota")),
        "citycloud_tenant_networks": [
            {"name": r.attrs["name"]} for r in _many(mine, "network")
        ],
        "citycloud_tenant_subnets": [
            {
                "name": r.attrs["name"],
                "network": r.attrs["network"],
                "cidr": r.attrs["cidr"],
                "gateway_ip": r.attrs.get("gateway_ip"),
                "dns_nameservers": list(r.attrs.get("dns_nameservers") or []),
                "enable_dhcp": bool(r.attrs.get("enable_dhcp", True)),
            }
            for r in _many(mine, "subnet")
        ],
        "citycloud_tenant_routers": [
            {
                "name": r.attrs["name"],
                "external_network": r.attrs.get("external_network") or "",
                "interfaces": list(r.attrs.get("interfaces") or []),
            }
            for r in routers
        ],
        "citycloud_tenant_security_groups": [
            {"name": r.attrs["name"], "description": r.attrs.get("description", "")}
            for r in _many(mine, "security_group")
        ],
        "citycloud_tenant_security_group_rules": [
            {
                "security_group": r.attrs["security_group"],
                "direction": r.attrs["direction"],
                "ethertype": r.attrs.get("ethertype") or "IPv4",
                "protocol": r.attrs.get("protocol") or "",
                "port_range_min": r.attrs.get("port_range_min") or "",
                "port_range_max": r.attrs.get("port_range_max") or "",
                "remote_ip_prefix": r.attrs.get("remote_ip_prefix") or "",
                "description": r.attrs.get("description") or "",
            }
            for r in _many(mine, "security_group_rule")
        ],
        "citycloud_tenant_volumes": [
            {
                "name": r.attrs["name"],
                "size": r.attrs["size_gb"],
                "volume_type": r.attrs.get("volume_type") or "",
            }
            for r in _many(mine, "volume")
        ],
        "citycloud_tenant_servers": [
            {
                "name": r.attrs["name"],
                "flavor": r.attrs["flavor"],
                "image": r.attrs["image"],
                "networks": [r.attrs["network"]],
                "security_groups": list(r.attrs.get("security_groups") or []),
                "volumes": [
                    v.attrs["name"]
                    for v in _many(mine, "volume")
                    if v.attrs.get("server") == r.attrs["name"]
                ],
                "metadata": {
                    meta_key(name): str(r.attrs.get(name) or "")
                    for name in ("app", "workload", "priority")
                },
            }
            for r in _many(mine, "server")
        ],
    }


_REMOVAL_KINDS = {
    "server": "servers",
    "volume": "volumes",
    "router": "routers",
    "subnet": "subnets",
    "network": "networks",
    "security_group_rule": "security_group_rules",
    "security_group": "security_groups",
}


def _empty_removal() -> dict[str, Any]:
    return {
        "floating_ips": [],
        "servers": [],
        "volumes": [],
        "routers": [],
        "subnets": [],
        "networks": [],
        "security_group_rules": [],
        "security_groups": [],
        "project": "",
    }


def _live_items(live: LiveCloud, kind: str, project_id: str) -> list[Raw]:
    source: Mapping[str, list[Raw]] = {
        "server": live.servers,
        "volume": live.volumes,
        "router": live.routers,
        "subnet": live.subnets,
        "network": live.networks,
        "security_group": live.security_groups,
    }
    return live.owned_by(project_id, source.get(kind, []))


def removal_vars(
    slug: str, deletes: Iterable[Resource], live: LiveCloud, *, whole: bool
) -> dict[str, Any]:
    """IDs to delete in tenant ``slug``: the deleted resources, or everything."""
    removal = _empty_removal()
    project = live.project_by_name(slug)
    if project is None:
        return removal
    pid = project["id"]
    if whole:
        removal["floating_ips"] = [
            f["id"] for f in live.owned_by(pid, live.floating_ips)
        ]
        for kind, slot in _REMOVAL_KINDS.items():
            if kind == "security_group_rule":
                continue
            removal[slot] = [i["id"] for i in _live_items(live, kind, pid)]
        removal["project"] = pid
        return removal
    groups = {g["name"]: g["id"] for g in _live_items(live, "security_group", pid)}
    for resource in deletes:
        if resource.kind not in _REMOVAL_KINDS:
            continue
        slot = _REMOVAL_KINDS[resource.kind]
        name = resource.attrs.get("name")
        if resource.kind == "security_group_rule":
            removal[slot].extend(_rule_ids(live, resource, groups))
            continue
        for item in _live_items(live, resource.kind, pid):
            if item.get("name") == name and item.get("name") != DEFAULT_GROUP:
                removal[slot].append(item["id"])
    return removal


def _rule_ids(live: LiveCloud, rule: Resource, groups: Mapping[str, str]) -> list[str]:
    from citycloud.adapters.openstack.observe import rule_key

    group_id = groups.get(str(rule.attrs.get("security_group")))
    wanted = rule_key(rule.attrs)
    return [
        r["id"]
        for r in live.security_group_rules
        if r.get("security_group_id") == group_id
        and rule_key(
            {
                "direction": r["direction"],
                "protocol": r.get("protocol"),
                "port_range_min": r.get("port_range_min"),
                "port_range_max": r.get("port_range_max"),
                "remote_ip_prefix": r.get("remote_ip_prefix"),
            }
        )
        == wanted
    ]


def tenant_hosts(
    plan: Plan, desired: DesiredState, live: LiveCloud, ops: OpsUser, cloud: str
) -> dict[str, HostVars]:
    """Inventory hosts for every tenant with an ``openstack`` change in ``plan``."""
    changes = [c for c in plan if c.id.layer == "openstack" and c.tenant]
    by_tenant: dict[str, list[Resource]] = {}
    for change in changes:
        deletes = by_tenant.setdefault(str(change.tenant), [])
        if change.action is Action.DELETE:
            deletes.append(change.resource)
    desired_tenants = {
        r.tenant for r in desired.kind("openstack", "project") if r.tenant
    }
    hosts: dict[str, HostVars] = {}
    for slug, deletes in sorted(by_tenant.items()):
        common: HostVars = {
            "citycloud_tenant_cloud": cloud,
            "citycloud_tenant_ops_user": ops.name,
            "citycloud_tenant_ops_user_domain": ops.domain,
            "citycloud_tenant_ops_role": ops.role,
        }
        if slug in desired_tenants:
            host = {**common, **present_vars(slug, desired)}
            host["citycloud_tenant_remove"] = removal_vars(
                slug, deletes, live, whole=False
            )
        else:
            host = {
                **common,
                "citycloud_tenant_state": "absent",
                "citycloud_tenant_remove": removal_vars(
                    slug, deletes, live, whole=True
                ),
            }
        hosts[slug] = host
    return hosts


def all_tenant_hosts(
    desired: DesiredState, ops: OpsUser, cloud: str
) -> dict[str, HostVars]:
    """Every desired tenant as a host, for a full verification run."""
    hosts: dict[str, HostVars] = {}
    for project in desired.kind("openstack", "project"):
        slug = str(project.tenant)
        hosts[slug] = {
            "citycloud_tenant_cloud": cloud,
            "citycloud_tenant_ops_user": ops.name,
            "citycloud_tenant_ops_user_domain": ops.domain,
            "citycloud_tenant_ops_role": ops.role,
            **present_vars(slug, desired),
        }
    return hosts


def cloud_vars(
    desired: DesiredState,
    cloud: str,
    image_file: str,
    image_files: Mapping[str, str] | None = None,
) -> HostVars:
    """Variables for playbooks/cloud.yml from the ``cloud`` layer."""
    layer = desired.layer("cloud")
    domain = _one(layer, "domain")
    files = dict(image_files or {})
    return {
        "citycloud_cloud_cloud": cloud,
        "citycloud_cloud_image_file": image_file,
        "citycloud_cloud_domain": dict(domain.attrs) if domain else {},
        "citycloud_cloud_flavors": [dict(r.attrs) for r in _many(layer, "flavor")],
        "citycloud_cloud_images": [
            {**r.attrs, **({"filename": files[r.key]} if r.key in files else {})}
            for r in _many(layer, "image")
        ],
        "citycloud_cloud_volume_types": [
            dict(r.attrs) for r in _many(layer, "volume_type")
        ],
        "citycloud_cloud_external_networks": [
            dict(r.attrs) for r in _many(layer, "external_network")
        ],
        "citycloud_cloud_external_subnets": [
            {
                **dict(r.attrs),
                "allocation_pools": [
                    {"start": start, "end": end}
                    for start, end in r.attrs.get("allocation_pools") or []
                ],
            }
            for r in _many(layer, "external_subnet")
        ],
        "citycloud_cloud_aggregates": [
            dict(r.attrs) for r in _many(layer, "aggregate")
        ],
    }
