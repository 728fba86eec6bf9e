"""Desired state of monitoring: what Prometheus scrapes, records and alerts
on, where Alertmanager sends alerts, and which Grafana dashboards exist.

Two layers come from here:

* ``monitoring``: Prometheus and Alertmanager configuration (scrape jobs,
  rule groups, routes), rendered as files;
* ``dashboards``: Grafana folders, teams, folder permissions and dashboards,
  applied through Grafana's HTTP API.

Every alert carries ``tier``, ``org_code`` and ``tenant`` labels where they
apply, so Alertmanager routes by tier and tenant and the portal can filter
alerts to what a user may see. Dashboards are described here as panels with
PromQL; the Grafana adapter turns them into Grafana's JSON model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from citycloud.desired.kubernetes import namespace_name
from citycloud.desired.model import Resource, ResourceId, res
from citycloud.desired.naming import fit_label
from citycloud.spec.models import Priority, Tenant
from citycloud.spec.tree import Spec

NODE_EXPORTER_PORT = 9100
PLATFORM_METRICS_PORT = 9464

# Share of a quota in use at which a tenant is warned, by priority: critical
# systems get told earlier because running out costs more.
QUOTA_WARN = {
    Priority.CRITICAL: 0.8,
    Priority.HIGH: 0.85,
    Priority.NORMAL: 0.9,
    Priority.BATCH: 0.95,
}
# openstack-exporter's per-project limits, as (resource, used, max).
QUOTA_METRICS = (
    (
        "instances",
        "openstack_nova_limits_instances_used",
        "openstack_nova_limits_instances_max",
    ),
    ("cores", "openstack_nova_limits_vcpus_used", "openstack_nova_limits_vcpus_max"),
    ("ram", "openstack_nova_limits_memory_used", "openstack_nova_limits_memory_max"),
)


# Container tenants: the ResourceQuota's resources, as (our name, Kubernetes's).
KUBE_QUOTAS = (
    ("cpu", "requests.cpu"),
    ("memory", "requests.memory"),
    ("volumes", "persistentvolumeclaims"),
)


def _alert(
    name: str,
    expr: str,
    for_: str,
    severity: str,
    summary: str,
    description: str,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, **(labels or {})},
        "annotations": {"summary": summary, "description": description},
    }


def host_rules() -> dict[str, Any]:
    """Recording rules for host use, and host alerts."""
    return {
        "name": "citycloud-hosts",
        "rules": [
            {
                "record": "instance:node_cpu_utilisation:rate5m",
                "expr": "1 - avg without (cpu, mode) "
                '(rate(node_cpu_seconds_total{mode="idle"}[5m]))',
            },
            {
                "record": "instance:node_memory_utilisation:ratio",
                "expr": "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
            },
            {
                "record": "instance:node_filesystem_utilisation:ratio",
                "expr": "max without (device, fstype, mountpoint) (1 - "
                'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / '
                'node_filesystem_size_bytes{fstype!~"tmpfs|overlay"})',
            },
            _alert(
                "HostDown",
                'up{job="node"} == 0',
                "2m",
                "critical",
                "主机 {{ $labels.host }} 失联 / host {{ $labels.host }} is down",
                "node_exporter on {{ $labels.instance }} (rack {{ $labels.rack }}) has not "
                "answered for 2 minutes.",
            ),
            _alert(
                "HostCPUPressure",
                "instance:node_cpu_utilisation:rate5m > 0.9",
                "10m",
                "warning",
                "主机 {{ $labels.host }} CPU 繁忙 / CPU pressure on {{ $labels.host }}",
                "CPU use has been above 90% for 10 minutes ({{ $value | humanizePercentage }}).",
            ),
            _alert(
                "HostMemoryPressure",
                "instance:node_memory_utilisation:ratio > 0.9",
                "10m",
                "warning",
                "主机 {{ $labels.host }} 内存紧张 / memory pressure on {{ $labels.host }}",
                "Memory use has been above 90% for 10 minutes ({{ $value | humanizePercentage }}).",
            ),
            _alert(
                "HostDiskPressure",
                "instance:node_filesystem_utilisation:ratio > 0.85",
                "15m",
                "warning",
                "主机 {{ $labels.host }} 磁盘将满 / disk filling on {{ $labels.host }}",
                "A file system is more than 85% full ({{ $value | humanizePercentage }}).",
            ),
        ],
    }


def platform_rules() -> dict[str, Any]:
    """Alerts on citycloud itself: failed applies and a scheduler on stale data."""
    return {
        "name": "citycloud-platform",
        "rules": [
            _alert(
                "CityCloudApplyFailed",
                'increase(citycloud_applies_total{outcome="failure"}[1h]) > 0',
                "0m",
                "critical",
                "变更执行失败 / an apply failed on layer {{ $labels.layer }}",
                "At least one apply to the {{ $labels.layer }} layer failed in the last hour; "
                "see `citycloud history`.",
            ),
            _alert(
                "CityCloudSchedulerStaleMetrics",
                "citycloud_scheduler_stale_hosts > 0",
                "10m",
                "warning",
                "调度器使用过期指标 / the scheduler works on stale metrics",
                "{{ $value }} candidate host(s) had stale or no metrics for 10 minutes; "
                "placements fall back to allocations only.",
            ),
            _alert(
                "CityCloudSchedulerNoMetrics",
                'absent(up{job="node"} == 1)',
                "5m",
                "critical",
                "调度器无可用指标 / no host metrics at all",
                "No node_exporter answers: every placement is made from allocations only.",
            ),
        ],
    }


def tenant_rules(spec: Spec, tenant: Tenant) -> dict[str, Any]:
    """Quota use of one tenant: recorded ratios and a near-quota alert."""
    slug = tenant.slug or ""
    labels = {
        "tenant": slug,
        "org_code": tenant.owner,
        "tier": tenant.tier.value if tenant.tier else "",
    }
    threshold = QUOTA_WARN[tenant.priority]
    rules: list[dict[str, Any]] = []
    if tenant.kind == "container":
        # kube-state-metrics reports each ResourceQuota's used and hard values.
        namespace = namespace_name(spec, tenant)
        for resource, name in KUBE_QUOTAS:
            series = f'kube_resourcequota{{namespace="{namespace}", resource="{name}"'
            rules.append(
                {
                    "record": f"tenant:quota_{resource}_used:ratio",
                    "expr": f'{series}, type="used"}} / ignoring(type) '
                    f'({series}, type="hard"}} > 0)',
                    "labels": labels,
                }
            )
    for resource, used, limit in QUOTA_METRICS if tenant.kind == "vm" else ():
        rules.append(
            {
                "record": f"tenant:quota_{resource}_used:ratio",
                "expr": f'{used}{{tenant="{slug}"}} / ({limit}{{tenant="{slug}"}} > 0)',
                "labels": labels,
            }
        )
    rules.append(
        _alert(
            "TenantNearQuota",
            f'{{__name__=~"tenant:quota_.*_used:ratio", tenant="{slug}"}} > {threshold}',
            "15m",
            "critical" if tenant.priority is Priority.CRITICAL else "warning",
            f"{tenant.name} 配额将用尽 / {slug} is near its quota",
            f"More than {threshold:.0%} of a quota is in use "
            "({{ $value | humanizePercentage }}); raise it in the spec or free resources.",
            labels,
        )
    )
    return {"name": f"tenant-{slug}", "rules": rules}


def _dashboard(
    uid: str, title: str, folder: str, panels: list[dict[str, Any]], tags: list[str]
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "folder": folder,
        "tags": tags,
        "panels": panels,
    }


def _panel(
    title: str, expr: str, unit: str = "percentunit", kind: str = "timeseries"
) -> dict[str, Any]:
    return {"title": title, "expr": expr, "unit": unit, "kind": kind}


def monitoring_resources(spec: Spec) -> Iterator[Resource]:
    """Scrape jobs, rule groups and one alert route per tenant."""
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
        for h in sorted(spec.datacenter.hosts, key=lambda h: h.name)
    ]
    yield res(
        "monitoring",
        "scrape_config",
        "node",
        {"job_name": "node", "scrape_interval": "15s", "static_configs": targets},
    )
    monitors = [h for h in spec.datacenter.hosts if h.role.value == "monitoring"]
    yield res(
        "monitoring",
        "scrape_config",
        "citycloud",
        {
            "job_name": "citycloud",
            "scrape_interval": "30s",
            "static_configs": [
                {"targets": [f"{h.address}:{PLATFORM_METRICS_PORT}" for h in monitors]}
            ],
        },
    )
    yield res("monitoring", "rule_group", "citycloud-hosts", host_rules())
    yield res("monitoring", "rule_group", "citycloud-platform", platform_rules())
    for tenant in spec.tenants:
        slug = tenant.slug or ""
        yield res(
            "monitoring",
            "rule_group",
            f"tenant-{slug}",
            tenant_rules(spec, tenant),
            tenant=slug,
        )
        yield res(
            "monitoring",
            "alert_route",
            f"tenant-{slug}",
            {
                "tenant": slug,
                "org_code": tenant.owner,
                "tier": tenant.tier.value if tenant.tier else "",
                "receiver": f"tenant-{slug}",
                "critical": tenant.priority is Priority.CRITICAL,
            },
            tenant=slug,
        )


OPS_TEAM = "citycloud-ops"


def folder_uid(name: str) -> str:
    """Grafana folder uids are at most 40 characters; ``cc-`` marks ours."""
    return fit_label(f"cc-{name}", 40)


def team_name(slug: str) -> str:
    return f"citycloud-{slug}"


def dashboard_resources(spec: Spec) -> Iterator[Resource]:
    """Grafana: a city folder for the shared dashboards, and per tenant a
    folder that only its team and the city's ops may open."""
    city = folder_uid("city")
    city_folder = ResourceId("dashboards", "folder", "city")
    yield Resource(city_folder, {"uid": city, "title": f"{spec.city.name} 城市云"})
    yield res("dashboards", "team", "ops", {"name": OPS_TEAM, "email": ""})
    yield res(
        "dashboards",
        "folder_permission",
        "city",
        {"folder": city, "teams": {OPS_TEAM: "Edit"}},
        parent=city_folder,
    )
    shared = [
        _dashboard(
            "cc-city-overview",
            f"{spec.city.name} 城市云总览 / city overview",
            city,
            [
                _panel("主机在线 / hosts up", 'sum(up{job="node"})', "short", "stat"),
                _panel(
                    "CPU 使用率 / CPU use", "avg(instance:node_cpu_utilisation:rate5m)"
                ),
                _panel(
                    "内存使用率 / memory use",
                    "avg(instance:node_memory_utilisation:ratio)",
                ),
                _panel(
                    "租户配额使用 / tenant quota use",
                    'max by (tenant) ({__name__=~"tenant:quota_.*_used:ratio"})',
                ),
                _panel(
                    "告警 / firing alerts",
                    'count(ALERTS{alertstate="firing"})',
                    "short",
                    "stat",
                ),
            ],
            ["citycloud", "city"],
        ),
        _dashboard(
            "cc-hosts",
            "主机 / hosts",
            city,
            [
                _panel("CPU", "instance:node_cpu_utilisation:rate5m"),
                _panel("内存 / memory", "instance:node_memory_utilisation:ratio"),
                _panel("磁盘 / disk", "instance:node_filesystem_utilisation:ratio"),
                _panel("在线 / up", 'up{job="node"}', "short"),
            ],
            ["citycloud", "hosts"],
        ),
        _dashboard(
            "cc-scheduler",
            "调度器 / scheduler",
            city,
            [
                _panel(
                    "决策速率 / decisions per second",
                    "sum by (outcome) (rate(citycloud_scheduler_decisions_total[5m]))",
                    "ops",
                ),
                _panel(
                    "决策耗时 p95 / decision latency p95",
                    "histogram_quantile(0.95, sum by (le) "
                    "(rate(citycloud_scheduler_decision_duration_seconds_bucket[5m])))",
                    "s",
                ),
                _panel(
                    "过期指标主机 / stale hosts",
                    "citycloud_scheduler_stale_hosts",
                    "short",
                ),
                _panel(
                    "抢占 / displacements",
                    "sum(increase(citycloud_scheduler_displacements_total[1h]))",
                    "short",
                    "stat",
                ),
            ],
            ["citycloud", "scheduler"],
        ),
    ]
    for board in shared:
        yield res("dashboards", "dashboard", board["uid"], board, parent=city_folder)
    for tenant in spec.tenants:
        slug = tenant.slug or ""
        uid = folder_uid(slug)
        folder = ResourceId("dashboards", "folder", slug)
        yield Resource(folder, {"uid": uid, "title": tenant.name}, tenant=slug)
        team = team_name(slug)
        yield res("dashboards", "team", slug, {"name": team, "email": ""}, tenant=slug)
        yield res(
            "dashboards",
            "folder_permission",
            slug,
            {"folder": uid, "teams": {team: "View", OPS_TEAM: "Edit"}},
            tenant=slug,
            parent=folder,
        )
        board = _dashboard(
            fit_label(f"cc-tenant-{slug}", 40),
            f"{tenant.name} / {slug}",
            uid,
            [
                _panel(
                    "配额使用 / quota use",
                    f'{{__name__=~"tenant:quota_.*_used:ratio", tenant="{slug}"}}',
                ),
                _panel(
                    "云主机 / instances",
                    f'openstack_nova_limits_instances_used{{tenant="{slug}"}}',
                    "short",
                    "stat",
                ),
                _panel(
                    "告警 / alerts",
                    f'count(ALERTS{{alertstate="firing", tenant="{slug}"}}) or vector(0)',
                    "short",
                    "stat",
                ),
            ],
            ["citycloud", "tenant"],
        )
        yield res(
            "dashboards", "dashboard", board["uid"], board, tenant=slug, parent=folder
        )


# -- rendered files ------------------------------------------------------------

TIERS = ("city", "county", "township", "village")


def alertmanager_config(spec: Spec, routes: list[Resource]) -> dict[str, Any]:
    """Routes per tier, and under each tier one route per tenant.

    Platform and host alerts (no tier label) stay with the city's ops.
    Critical tenants wait less before the first notification.
    """
    webhook = spec.city.monitoring.alert_webhook.rstrip("/")
    receivers = ["city-ops", *(f"tier-{tier}" for tier in TIERS)]
    tier_routes: list[dict[str, Any]] = []
    for tier in TIERS:
        tenant_routes = []
        for route in sorted(routes, key=lambda r: r.key):
            a = route.attrs
            if a["tier"] != tier:
                continue
            receivers.append(a["receiver"])
            entry: dict[str, Any] = {
                "receiver": a["receiver"],
                "matchers": [f'tenant="{a["tenant"]}"'],
            }
            if a.get("critical"):
                entry["group_wait"] = "10s"
                entry["repeat_interval"] = "1h"
            tenant_routes.append(entry)
        tier_routes.append(
            {
                "receiver": f"tier-{tier}",
                "matchers": [f'tier="{tier}"'],
                "routes": tenant_routes,
            }
        )
    return {
        "route": {
            "receiver": "city-ops",
            "group_by": ["alertname", "tier", "tenant"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": tier_routes,
        },
        "receivers": [
            {
                "name": name,
                "webhook_configs": [
                    {"url": f"{webhook}/{name}", "send_resolved": True}
                ],
            }
            for name in receivers
        ],
    }


def prometheus_config(
    spec: Spec, scrapes: list[Resource], rule_files: list[str]
) -> dict[str, Any]:
    managers = spec.city.monitoring.alertmanagers or [
        f"{h.address}:9093"
        for h in spec.datacenter.hosts
        if h.role.value == "monitoring"
    ]
    return {
        "global": {
            "scrape_interval": "15s",
            "evaluation_interval": "15s",
            "external_labels": {"city": spec.city.slug},
        },
        "rule_files": rule_files,
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": managers}]}]},
        "scrape_configs": [dict(s.attrs) for s in sorted(scrapes, key=lambda r: r.key)],
    }


def monitoring_files(
    spec: Spec, resources: list[Resource], dump: Any
) -> dict[str, str]:
    """``monitoring/`` as Prometheus and Alertmanager read it."""
    groups = sorted(
        (r for r in resources if r.id.kind == "rule_group"), key=lambda r: r.key
    )
    if not groups and not resources:
        return {}
    files = {
        f"monitoring/rules/{g.key}.yml": dump({"groups": [dict(g.attrs)]})
        for g in groups
    }
    scrapes = [r for r in resources if r.id.kind == "scrape_config"]
    files["monitoring/prometheus.yml"] = dump(
        prometheus_config(spec, scrapes, [f"rules/{g.key}.yml" for g in groups])
    )
    routes = [r for r in resources if r.id.kind == "alert_route"]
    files["monitoring/alertmanager.yml"] = dump(alertmanager_config(spec, routes))
    return files
