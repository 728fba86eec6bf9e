"""Desired state of OpenStack: the cloud itself and every VM tenant in it.

Keys are built from slugs and spec names only, so the same tenant always maps
to the same resources. Quota keys keep the spec's names; adapters translate
them to each service's own.
"""

from __future__ import annotations

from collections.abc import Iterator

from citycloud.desired.model import Resource, ResourceId, res
from citycloud.spec.models import HostRole, Tenant
from citycloud.spec.tree import Spec

DEFAULT_VOLUME_TYPE = "__DEFAULT__"


def cloud_resources(spec: Spec) -> Iterator[Resource]:
    """Cloud-wide resources: the city's domain, flavors, images, the external
    network with its floating range, and one host aggregate (with its
    availability zone) per rack."""
    dc = spec.datacenter
    yield res(
        "cloud",
        "domain",
        spec.domain,
        {"name": spec.domain, "description": spec.city.name, "enabled": True},
    )
    for flavor in dc.flavors:
        yield res(
            "cloud",
            "flavor",
            flavor.name,
            {
                "name": flavor.name,
                "vcpus": flavor.vcpus,
                "ram_mb": flavor.ram_mb,
                "disk_gb": flavor.disk_gb,
                "is_public": True,
            },
        )
    for image in dc.images:
        yield res(
            "cloud",
            "image",
            image.name,
            {
                "name": image.name,
                "disk_format": image.disk_format,
                "container_format": "bare",
                "min_disk_gb": image.min_disk_gb,
                "visibility": "public",
            },
        )
    for pool in dc.storage_pools:
        yield res(
            "cloud",
            "volume_type",
            pool.volume_type,
            {"name": pool.volume_type, "backend": pool.name, "is_public": True},
        )
    for net in dc.provider_networks:
        if not net.external:
            continue
        net_id = ResourceId("cloud", "external_network", net.name)
        yield Resource(
            net_id,
            {
                "name": net.name,
                "physical_network": net.physical_network,
                "network_type": net.type,
                "segmentation_id": net.segmentation_id,
                "external": True,
                "shared": False,
            },
        )
        pools = []
        if net.floating_range is not None:
            pools = [[str(net.floating_range[0]), str(net.floating_range[1])]]
        yield res(
            "cloud",
            "external_subnet",
            net.name,
            {
                "name": f"{net.name}-subnet",
                "network": net.name,
                "cidr": str(net.cidr),
                "gateway_ip": str(net.gateway) if net.gateway else None,
                "allocation_pools": pools,
                "enable_dhcp": False,
            },
            parent=net_id,
        )
    compute = [h for h in dc.hosts if h.role is HostRole.COMPUTE]
    for rack in dc.racks:
        members = sorted(h.hypervisor or h.name for h in compute if h.rack == rack.name)
        yield res(
            "cloud",
            "aggregate",
            rack.name,
            {"name": rack.name, "availability_zone": rack.zone, "hosts": members},
        )


def external_network(spec: Spec) -> str | None:
    for net in spec.datacenter.provider_networks:
        if net.external:
            return net.name
    return None


def _rule_key(direction: str, protocol: str, ports: str | None, remote: str) -> str:
    return f"{direction}-{protocol}-{ports or 'all'}-{remote}"


def tenant_resources(spec: Spec, tenant: Tenant) -> Iterator[Resource]:
    """A VM tenant's project, quotas, private network behind its own router, a
    base security group admitting only its own traffic and declared ports, and
    the servers and volumes of its VM workloads."""
    slug = tenant.slug or ""
    project = ResourceId("openstack", "project", slug)
    net = tenant.network
    cidr = net.cidr
    gateway = next(iter(cidr.hosts()))

    def child(kind: str, key: str, attrs: dict[str, object]) -> Resource:
        return res("openstack", kind, key, attrs, tenant=slug, parent=project)

    yield Resource(
        project,
        {
            "name": slug,
            "domain": spec.domain,
            "description": f"{tenant.name} / {tenant.department}",
            "enabled": True,
            "owner": tenant.owner,
            "tier": tenant.tier.value if tenant.tier else None,
        },
        tenant=slug,
    )
    yield child("quota", slug, {"project": slug, **tenant.quotas.items_set()})
    yield child(
        "network", slug, {"name": f"{slug}-net", "project": slug, "shared": False}
    )
    yield child(
        "subnet",
        slug,
        {
            "name": f"{slug}-subnet",
            "project": slug,
            "network": f"{slug}-net",
            "cidr": str(cidr),
            "gateway_ip": str(gateway),
            "dns_nameservers": [str(d) for d in net.dns],
            "enable_dhcp": True,
        },
    )
    yield child(
        "router",
        slug,
        {
            "name": f"{slug}-router",
            "project": slug,
            "external_network": external_network(spec),
            "interfaces": [f"{slug}-subnet"],
        },
    )
    group = f"{slug}-base"
    yield child(
        "security_group",
        f"{slug}/base",
        {
            "name": group,
            "project": slug,
            "description": f"{tenant.name}: own traffic and declared ports only",
        },
    )
    rules: list[tuple[str, str, str | None, str, str]] = [
        ("ingress", "any", None, str(cidr), "tenant's own network"),
    ]
    rules += [
        (r.direction, r.protocol, r.ports, str(r.remote), r.description)
        for r in tenant.security
    ]
    seen: set[str] = set()
    for direction, protocol, ports, remote, description in rules:
        key = _rule_key(direction, protocol, ports, remote)
        if key in seen:
            continue
        seen.add(key)
        low, _, high = (ports or "").partition("-")
        yield child(
            "security_group_rule",
            f"{slug}/base/{key}",
            {
                "security_group": group,
                "project": slug,
                "direction": direction,
                "ethertype": "IPv4",
                "protocol": None if protocol == "any" else protocol,
                "port_range_min": int(low) if low else None,
                "port_range_max": int(high or low) if low else None,
                "remote_ip_prefix": remote,
                "description": description,
            },
        )
    pools = {p.name: p.volume_type for p in spec.datacenter.storage_pools}
    for app in tenant.apps:
        for workload in app.workloads:
            if workload.kind != "vm":
                continue
            for index in range(workload.replicas):
                name = f"{slug}-{app.slug}-{workload.name}-{index + 1}"
                key = f"{slug}/{app.slug}-{workload.name}-{index + 1}"
                yield child(
                    "server",
                    key,
                    {
                        "name": name,
                        "project": slug,
                        "flavor": workload.flavor,
                        "image": workload.image,
                        "network": f"{slug}-net",
                        "security_groups": [group],
                        "app": app.slug,
                        "workload": workload.name,
                        "priority": tenant.priority.value,
                    },
                )
                if workload.volume_gb:
                    volume_type = (
                        pools.get(workload.storage_pool, DEFAULT_VOLUME_TYPE)
                        if workload.storage_pool
                        else DEFAULT_VOLUME_TYPE
                    )
                    yield child(
                        "volume",
                        f"{key}-data",
                        {
                            "name": f"{name}-data",
                            "project": slug,
                            "size_gb": workload.volume_gb,
                            "volume_type": volume_type,
                            "server": name,
                        },
                    )


def openstack_resources(spec: Spec) -> Iterator[Resource]:
    for tenant in spec.tenants:
        if tenant.kind == "vm":
            yield from tenant_resources(spec, tenant)
