"""Desired state of the data center's hosts: the Ansible inventory."""

from __future__ import annotations

from collections.abc import Iterator

from citycloud.desired.model import Resource, res
from citycloud.spec.tree import Spec


def host_resources(spec: Spec) -> Iterator[Resource]:
    racks = {r.name: r for r in spec.datacenter.racks}
    for host in spec.datacenter.hosts:
        rack = racks.get(host.rack)
        yield res(
            "hosts",
            "host",
            host.name,
            {
                "name": host.name,
                "address": str(host.address),
                "role": host.role.value,
                "rack": host.rack,
                "region": rack.region if rack else None,
                "zone": rack.zone if rack else None,
                "cpu": host.cpu,
                "ram_gb": host.ram_gb,
                "disk_gb": host.disk_gb,
                "maintenance": host.maintenance,
            },
        )
