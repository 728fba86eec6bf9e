"""The scheduler's hosts and workloads, read from the spec.

Hosts are the data center's compute hosts (named as Nova knows them) with the
data center's allocation ratios. Workloads are the desired state's servers,
so their keys and names are the ones the OpenStack layer creates; priority,
the preemption flag and host restrictions come from the owning tenant.
"""

from __future__ import annotations

from collections import Counter

from citycloud.desired import build_desired
from citycloud.scheduler.model import Host, Resources, Workload, priority_rank
from citycloud.spec import Spec

COMPUTE_ROLE = "compute"


def hosts_from_spec(spec: Spec) -> list[Host]:
    dc = spec.datacenter
    return [
        Host(
            name=h.hypervisor or h.name,
            rack=h.rack,
            vcpus=h.cpu,
            ram_mb=h.ram_gb * 1024,
            disk_gb=h.disk_gb,
            cpu_allocation_ratio=dc.cpu_allocation_ratio,
            ram_allocation_ratio=dc.ram_allocation_ratio,
            maintenance=h.maintenance,
        )
        for h in dc.hosts
        if h.role.value == COMPUTE_ROLE
    ]


def workloads_from_spec(spec: Spec) -> list[Workload]:
    """Every VM server the spec asks for."""
    flavors = {f.name: f for f in spec.datacenter.flavors}
    by_slug = {t.slug: t for t in spec.tenants}
    servers = [
        r for r in build_desired(spec, layers=["openstack"]) if r.kind == "server"
    ]
    replicas = Counter((r.tenant, r.attrs["app"], r.attrs["workload"]) for r in servers)
    out: list[Workload] = []
    for server in sorted(servers, key=lambda r: r.key):
        tenant = by_slug[server.tenant]
        attrs = server.attrs
        flavor = flavors.get(str(attrs["flavor"]))
        if flavor is None:
            # The spec checks refuse unknown flavors; nothing to size here.
            continue
        app = f"{attrs['app']}/{attrs['workload']}"
        out.append(
            Workload(
                key=server.key,
                tenant=server.tenant or "",
                app=app,
                resources=Resources(flavor.vcpus, flavor.ram_mb, flavor.disk_gb),
                priority=priority_rank(tenant.priority.value),
                preemptible=tenant.preemptible,
                replicas=replicas[(server.tenant, attrs["app"], attrs["workload"])],
                allowed_hosts=frozenset(tenant.hosts),
                extra={
                    "name": str(attrs["name"]),
                    "project": str(attrs["project"]),
                    "flavor": flavor.name,
                    "image": str(attrs.get("image") or ""),
                    "network": str(attrs["network"]),
                },
            )
        )
    return out
