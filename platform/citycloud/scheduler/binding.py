"""Binding decisions to OpenStack, and reading its hosts for the scheduler.

A placed workload becomes a server created with the chosen host in the
request (compute API 2.74 or later; admin only under Nova's default policy),
and the binding then checks the server's host attribute: a server that runs
anywhere else is reported, never silently accepted. Hosts, their allocation
ratios and what is already allocated on them come from Placement.

The scheduler is an orchestration layer beside the adapters, so it talks to
openstacksdk itself and maps its errors to citycloud's types like they do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from citycloud.errors import PermanentError, TransientError
from citycloud.scheduler.engine import ScheduleResult
from citycloud.scheduler.model import (
    PRIORITY_RANKS,
    Allocation,
    Host,
    Resources,
    Workload,
)

log = logging.getLogger(__name__)

SYSTEM = "openstack"
# The first compute API version that takes a host in the create request.
HOST_MICROVERSION = "2.74"
_TRANSIENT = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class Binding:
    workload: str
    host: str
    server_id: str | None
    server_name: str
    # Where the server really runs, from its host attribute.
    actual_host: str | None
    status: str

    @property
    def verified(self) -> bool:
        return self.status == "ACTIVE" and self.actual_host == self.host

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "scheduler.binding",
            "workload": self.workload,
            "host": self.host,
            "server_id": self.server_id,
            "server_name": self.server_name,
            "actual_host": self.actual_host,
            "status": self.status,
            "verified": self.verified,
        }


class Binder(Protocol):
    def bind(self, workload: Workload, host: str) -> Binding: ...


class ShadowModeError(RuntimeError):
    """A shadow run only reports; binding it would break that promise."""


def bind_placements(result: ScheduleResult, binder: Binder) -> list[Binding]:
    """Create a server for every workload the run placed, in decision order."""
    if result.shadow:
        raise ShadowModeError("a shadow run is never bound")
    # Workloads go by priority, so only servers that ran before the run can
    # be displaced. TODO: evicting them needs a step through Nova (shelve and
    # offload); until it exists such runs are refused, not bound half-way.
    if result.displaced:
        raise NotImplementedError(
            "evicting running servers is not implemented yet: "
            + ", ".join(result.displaced)
        )
    bindings = []
    for decision in result.decisions:
        key = decision.workload.key
        host = result.placements.get(key)
        if host is None or decision.host != host:
            continue
        bindings.append(binder.bind(decision.workload, host))
    return bindings


@contextmanager
def _mapped(action: str) -> Iterator[None]:
    from keystoneauth1 import exceptions as ksa_exc
    from openstack import exceptions as sdk_exc

    try:
        yield
    except (sdk_exc.SDKException, ksa_exc.ClientException, OSError) as error:
        status = getattr(error, "status_code", None) or getattr(
            error, "http_status", None
        )
        message = (
            f"{action}: {str(error).strip().splitlines()[0] if str(error) else error!r}"
        )
        transient = isinstance(
            error,
            ksa_exc.ConnectFailure
            | ksa_exc.ConnectTimeout
            | ksa_exc.ServiceUnavailable
            | sdk_exc.ResourceTimeout
            | OSError,
        ) or (isinstance(status, int) and status in _TRANSIENT)
        if transient:
            raise TransientError(SYSTEM, message) from error
        raise PermanentError(SYSTEM, message) from error


class OpenStackBinder:
    """Creates each placed workload's server on its chosen host.

    `conn` is an admin openstacksdk Connection. Workloads carry the server's
    name, flavor, image, network and project in `extra` (see `inputs`); the
    server is created in that project when the admin can scope to it.
    """

    def __init__(self, conn: Any, *, timeout_s: float = 180.0) -> None:
        self.conn = conn
        self.timeout_s = timeout_s

    def _connection_for(self, project: str | None) -> Any:
        if not project or project == self.conn.current_project.name:
            return self.conn
        with _mapped(f"scope to project {project}"):
            return self.conn.connect_as_project(project)

    def bind(self, workload: Workload, host: str) -> Binding:
        extra = workload.extra
        name = extra.get("name") or workload.key.replace("/", "-")
        conn = self._connection_for(extra.get("project"))
        with _mapped(f"create server {name} on {host}"):
            image = conn.image.find_image(extra["image"], ignore_missing=False)
            flavor = conn.compute.find_flavor(extra["flavor"], ignore_missing=False)
            networks = []
            if extra.get("network"):
                network = conn.network.find_network(
                    extra["network"], ignore_missing=False
                )
                networks.append({"uuid": network.id})
            # The server resource negotiates the newest compute microversion,
            # which takes `host` from 2.74 on.
            server = conn.compute.create_server(
                name=name,
                image_id=image.id,
                flavor_id=flavor.id,
                networks=networks or "none",
                host=host,
            )
            server = conn.compute.wait_for_server(server, wait=self.timeout_s)
        log.info("Created server %s (%s) on host %s", name, server.id, host)
        with _mapped(f"read server {name}"):
            found = self.conn.compute.get_server(server.id)
        actual = found.compute_host or found.hypervisor_hostname
        binding = Binding(workload.key, host, server.id, name, actual, found.status)
        if not binding.verified:
            log.warning(
                "Server %s asked for %s runs on %s (status %s)",
                name,
                host,
                actual,
                found.status,
            )
        return binding


def read_placement(conn: Any) -> tuple[list[Host], list[Allocation]]:
    """Compute hosts and their current usage, as Placement sees them.

    Each host's usage becomes one allocation that cannot be displaced: the
    scheduler knows how much is taken, not by which workloads.
    """
    hosts: list[Host] = []
    used: list[Allocation] = []
    with _mapped("read placement resource providers"):
        providers = list(conn.placement.resource_providers())
        for rp in providers:
            inventories = conn.placement.get(
                f"/resource_providers/{rp.id}/inventories"
            ).json()["inventories"]
            usages = conn.placement.get(f"/resource_providers/{rp.id}/usages").json()[
                "usages"
            ]
            if "VCPU" not in inventories or "MEMORY_MB" not in inventories:
                continue  # not a compute node (e.g. a sharing storage provider)
            cpu, ram = inventories["VCPU"], inventories["MEMORY_MB"]
            disk = inventories.get("DISK_GB", {"total": 0, "allocation_ratio": 1.0})
            hosts.append(
                Host(
                    name=rp.name,
                    rack="default",
                    vcpus=int(cpu["total"]) - int(cpu.get("reserved", 0)),
                    ram_mb=int(ram["total"]),
                    disk_gb=int(disk["total"]) - int(disk.get("reserved", 0)),
                    cpu_allocation_ratio=float(cpu["allocation_ratio"]),
                    ram_allocation_ratio=float(ram["allocation_ratio"]),
                    disk_allocation_ratio=float(disk["allocation_ratio"]),
                    reserved_ram_mb=int(ram.get("reserved", 0)),
                )
            )
            taken = Resources(
                usages.get("VCPU", 0),
                usages.get("MEMORY_MB", 0),
                usages.get("DISK_GB", 0),
            )
            if taken != Resources():
                usage = Workload(
                    f"placement-usage/{rp.name}",
                    "placement",
                    rp.name,
                    taken,
                    PRIORITY_RANKS["critical"],
                )
                used.append(Allocation(usage, rp.name, 0.0))
    log.debug("Read %d compute hosts from Placement", len(hosts))
    return hosts, used


def merge_hosts(spec_hosts: list[Host], live_hosts: list[Host]) -> list[Host]:
    """Live sizes and ratios, with the spec's racks and maintenance flags.

    Hosts the spec does not name are kept (Nova runs them); spec hosts Nova
    does not know are dropped, since nothing can be created there.
    """
    by_name = {h.name: h for h in spec_hosts}
    merged = []
    for live in live_hosts:
        known = by_name.get(live.name)
        if known is None:
            merged.append(live)
            continue
        merged.append(
            Host(
                live.name,
                known.rack,
                live.vcpus,
                live.ram_mb,
                live.disk_gb,
                live.cpu_allocation_ratio,
                live.ram_allocation_ratio,
                live.disk_allocation_ratio,
                live.reserved_ram_mb,
                known.maintenance,
                known.dedicated_to,
            )
        )
    return merged


def wait_gone(conn: Any, server_ids: list[str], timeout_s: float = 120.0) -> None:
    """Delete servers and wait until Nova forgets them (used by tests)."""
    with _mapped("delete servers"):
        for server_id in server_ids:
            conn.compute.delete_server(server_id, ignore_missing=True)
        deadline = time.monotonic() + timeout_s
        for server_id in server_ids:
            while conn.compute.find_server(server_id, ignore_missing=True) is not None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server {server_id} still there")
                time.sleep(1)
