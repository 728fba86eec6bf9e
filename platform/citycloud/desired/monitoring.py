"""Desired state of monitoring: what Prometheus scrapes and alerts on.

Scrape targets come from the data center's hosts; every tenant gets its own
alert rule group and dashboard, so a tenant added to the spec is watched from
its first apply.
"""

from __future__ import annotations

from collections.abc import Iterator

from citycloud.desired.model import Resource, res
from citycloud.spec.tree import Spec

NODE_EXPORTER_PORT = 9100


def monitoring_resources(spec: Spec) -> Iterator[Resource]:
    racks = {r.name: r for r in spec.datacenter.racks}
    targets = [
        {
            "targets": [f"{h.address}:{NODE_EXPORTER_PORT}"],
            "labels": {
                "host": h.name,
                "rack": h.rack,
                "zone": racks[h.rack].zone if h.rack in racks else "",
                "role": h.role.value,
            },
        }
        for h in spec.datacenter.hosts
    ]
    yield res(
        "monitoring",
        "scrape_config",
        "node",
        {"job_name": "node", "scrape_interval": "15s", "static_configs": targets},
    )
    for tenant in spec.tenants:
        slug = tenant.slug or ""
        yield res(
            "monitoring",
            "rule_group",
            f"tenant-{slug}",
            {
                "name": f"tenant-{slug}",
                "tenant": slug,
                "priority": tenant.priority.value,
                "quotas": tenant.quotas.items_set(),
            },
            tenant=slug,
        )
        yield res(
            "monitoring",
            "alert_route",
            f"tenant-{slug}",
            {
                "tenant": slug,
                "org_code": tenant.owner,
                "tier": tenant.tier.value if tenant.tier else None,
                "receiver": f"tenant-{slug}",
            },
            tenant=slug,
        )
        yield res(
            "monitoring",
            "dashboard",
            f"tenant-{slug}",
            {"title": f"{tenant.name} ({slug})", "tenant": slug, "folder": slug},
            tenant=slug,
        )
    for name, title in (
        ("city-overview", f"{spec.city.name} 城市云总览"),
        ("hosts", "主机 / Hosts"),
        ("scheduler", "调度器 / Scheduler"),
    ):
        yield res("monitoring", "dashboard", name, {"title": title, "folder": "city"})
