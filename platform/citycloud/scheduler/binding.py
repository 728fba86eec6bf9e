"""Binding decisions to OpenStack, and reading its hosts for the scheduler.

A placed workload becomes a server created with the chosen host in the
request (compute API 2.74 or later; admin only under Nova's default policy),
and the binding then checks the server's host attribute: a server that runs
anywhere else is reported, never silently accepted. Hosts, their allocation
ratios and what is already allocated on them come from Placement.

A running server the run displaces is shelved and offloaded, which frees its
host in Placement but keeps the server (its ports, volumes and id). If the
run re-placed it, it is unshelved onto its new host (compute API 2.91);
otherwise it waits shelved, and a later run that finds room unshelves it.
A displaced server is never created a second time.

The scheduler is an orchestration layer beside the adapters, so it talks to
openstacksdk itself and maps its errors to citycloud's types like they do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
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
# Key in Workload.extra of the server a workload already has.
SERVER_ID = "server_id"
# What a binding did to its server.
CREATE, UNSHELVE, EVICT = "create", "unshelve", "evict"
OFFLOADED = "SHELVED_OFFLOADED"
SHELVED = "SHELVED"
# Server states whose host may be freed by shelving (Nova's shelve accepts
# these) or, for one left shelved on its host, by offloading; servers in any
# other state, or busy with a task, hold their host untouched.
_EVICTABLE = frozenset({"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", SHELVED})


@dataclass(frozen=True, slots=True)
class Binding:
    workload: str
    # The chosen host; for an eviction, the host the server was freed from.
    host: str
    server_id: str | None
    server_name: str
    # Where the server really runs, from its host attribute.
    actual_host: str | None
    status: str
    action: str = CREATE

    @property
    def verified(self) -> bool:
        if self.action == EVICT:
            return self.status == OFFLOADED and self.actual_host is None
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
            "action": self.action,
            "verified": self.verified,
        }


class Binder(Protocol):
    def bind(self, workload: Workload, host: str) -> Binding:
        """Run the workload on `host`: create its server, or unshelve the
        one it has (`extra[SERVER_ID]`) onto that host."""
        ...

    def evict(self, workload: Workload, host: str) -> Binding:
        """Free `host` of the workload's running server, keeping the server."""
        ...


class ShadowModeError(RuntimeError):
    """A shadow run only reports; binding it would break that promise."""


def bind_placements(
    result: ScheduleResult,
    binder: Binder,
    report: Callable[[Binding], None] | None = None,
) -> list[Binding]:
    """Carry out a run in decision order: the servers a decision displaces are
    evicted before its workload is bound, and every placed workload is bound.

    Workloads go by priority, so a run only displaces servers that ran
    before it; a displaced one that the run re-placed is bound by its own
    later decision (unshelved, not created). Binding stops at an eviction
    that did not free its host, since the workload after it would not fit;
    that eviction is the last, unverified, binding returned. `report` sees
    each binding as soon as it is made, so a failure further on (raised)
    loses none that were done.
    """
    if result.shadow:
        raise ShadowModeError("a shadow run is never bound")
    bindings = []
    for decision in result.decisions:
        for victim in decision.displaced:
            eviction = binder.evict(victim.workload, victim.host)
            bindings.append(eviction)
            if report is not None:
                report(eviction)
            if not eviction.verified:
                log.warning(
                    "Stopped binding: %s still holds %s (status %s)",
                    eviction.server_name,
                    victim.host,
                    eviction.status,
                )
                return bindings
        key = decision.workload.key
        host = result.placements.get(key)
        if host is None or decision.host != host:
            continue
        bound = binder.bind(decision.workload, host)
        bindings.append(bound)
        if report is not None:
            report(bound)
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
    """Runs each placed workload's server on its chosen host.

    `conn` is an admin openstacksdk Connection. Workloads carry the server's
    name, flavor, image, network and project in `extra` (see `inputs`); the
    server is created in that project when the admin can scope to it. A
    workload whose server exists (`extra[SERVER_ID]`, shelved and offloaded)
    is unshelved onto the host instead.
    """

    def __init__(
        self, conn: Any, *, timeout_s: float = 180.0, poll_s: float = 1.0
    ) -> None:
        self.conn = conn
        self.timeout_s = timeout_s
        self.poll_s = poll_s

    def _connection_for(self, project: str | None) -> Any:
        if not project or project == self.conn.current_project.name:
            return self.conn
        with _mapped(f"scope to project {project}"):
            return self.conn.connect_as_project(project)

    def bind(self, workload: Workload, host: str) -> Binding:
        if workload.extra.get(SERVER_ID):
            return self._unshelve(workload, host)
        extra = workload.extra
        name = _server_name(workload)
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
        return self._checked(workload, host, server.id, name, CREATE)

    def _unshelve(self, workload: Workload, host: str) -> Binding:
        server_id = workload.extra[SERVER_ID]
        name = _server_name(workload)
        with _mapped(f"unshelve server {name} onto {host}"):
            # Unshelving onto a named host needs compute API 2.91, which the
            # server resource negotiates like `host` on create.
            self.conn.compute.unshelve_server(server_id, host=host)
            server = self.conn.compute.wait_for_server(
                self.conn.compute.get_server(server_id), wait=self.timeout_s
            )
        log.info("Unshelved server %s (%s) onto host %s", name, server.id, host)
        return self._checked(workload, host, server_id, name, UNSHELVE)

    def _checked(
        self, workload: Workload, host: str, server_id: str, name: str, action: str
    ) -> Binding:
        with _mapped(f"read server {name}"):
            found = self.conn.compute.get_server(server_id)
        actual = _host_of(found)
        binding = Binding(
            workload.key, host, server_id, name, actual, found.status, action
        )
        if not binding.verified:
            log.warning(
                "Server %s asked for %s runs on %s (status %s)",
                name,
                host,
                actual,
                found.status,
            )
        return binding

    def evict(self, workload: Workload, host: str) -> Binding:
        """Shelve the server and offload it, then wait until Nova says so.

        Nova offloads at once by default (`shelved_offload_time = 0`); a cloud
        that keeps shelved servers on their host is asked to offload. Only a
        server `read_cloud` matched (`extra[SERVER_ID]`) is evicted: a lookup
        by name could find another project's server.
        """
        name = _server_name(workload)
        server_id = workload.extra.get(SERVER_ID)
        if not server_id:
            raise PermanentError(
                SYSTEM, f"evict {workload.key}: no server matched to it (read_cloud)"
            )
        with _mapped(f"shelve server {name} on {host}"):
            # One an interrupted run left shelved on its host is only offloaded
            # (and one shelved meanwhile only waited for): Nova refuses to
            # shelve it again.
            if self.conn.compute.get_server(server_id).status not in {
                SHELVED,
                OFFLOADED,
            }:
                self.conn.compute.shelve_server(server_id)
            deadline = time.monotonic() + self.timeout_s
            offload_asked = False
            while True:
                server = self.conn.compute.get_server(server_id)
                # Nova says SHELVED_OFFLOADED a moment before it clears the host.
                gone = _host_of(server) is None
                done = (server.status == OFFLOADED and gone) or server.status == "ERROR"
                if done or time.monotonic() > deadline:
                    break
                if (
                    server.status == SHELVED
                    and server.task_state is None
                    and not offload_asked
                ):
                    self.conn.compute.shelve_offload_server(server_id)
                    offload_asked = True
                time.sleep(self.poll_s)
        actual = _host_of(server)
        binding = Binding(
            workload.key, host, server_id, name, actual, server.status, EVICT
        )
        if binding.verified:
            log.info("Shelved and offloaded server %s from host %s", name, host)
        return binding


def _host_of(server: Any) -> str | None:
    """The compute host a server runs on, None once it has none."""
    return server.compute_host or server.hypervisor_hostname or None


def _server_name(workload: Workload) -> str:
    return workload.extra.get("name") or workload.key.replace("/", "-")


@dataclass
class LiveCloud:
    """What the scheduler needs to know of a running cloud."""

    hosts: list[Host]
    # Servers of known workloads one by one (so the spec may let them be
    # displaced); everything else on a host as one fixed allocation.
    allocations: list[Allocation]
    # Known workloads to place: without a server, or shelved and offloaded
    # (those carry `extra[SERVER_ID]` and are unshelved when placed).
    pending: list[Workload]
    # Keys of known workloads whose server exists and is not waiting shelved.
    existing: list[str] = field(default_factory=list)


def read_cloud(
    conn: Any, workloads: Iterable[Workload], place: Iterable[str] | None = None
) -> LiveCloud:
    """The cloud's hosts and servers, matched to `workloads` by server name
    within the workload's project (the admin's own when it names none).

    Only workloads whose keys are in `place` (all, if None) become pending;
    the others are still recognised, so their servers may be displaced.
    A name two servers of the project share matches neither: both stay fixed
    usage, like servers of other projects whatever their names.
    """
    wanted = set(place) if place is not None else None
    with _mapped("list servers"):
        servers = list(conn.compute.servers(details=True, all_projects=True))
    with _mapped("list projects"):
        project_ids: dict[str, set[str]] = {}
        for project in conn.identity.projects():
            project_ids.setdefault(project.name, set()).add(project.id)
        own_id = conn.current_project_id
    named: dict[tuple[str, str], list[Any]] = {}
    for server in servers:
        named.setdefault((server.name, server.project_id), []).append(server)
    running: dict[str, tuple[Workload, float]] = {}
    pending: list[Workload] = []
    existing: list[str] = []
    for workload in workloads:
        project = workload.extra.get("project")
        owners = project_ids.get(project, set()) if project else {own_id}
        matches = [
            s
            for owner in sorted(owners)
            for s in named.get((_server_name(workload), owner), [])
        ]
        if len(matches) > 1:
            log.warning(
                "%d servers are named %s: none is treated as workload %s",
                len(matches),
                _server_name(workload),
                workload.key,
            )
        if not matches:
            if wanted is None or workload.key in wanted:
                pending.append(workload)
            continue
        server = matches[0]
        mine = replace(workload, extra={**workload.extra, SERVER_ID: server.id})
        # Nova refuses to shelve or unshelve a server busy with a task.
        idle = len(matches) == 1 and server.task_state is None
        if idle and server.status == OFFLOADED:
            if wanted is None or workload.key in wanted:
                pending.append(mine)
            continue
        existing.append(workload.key)
        if idle and server.status in _EVICTABLE:
            running[server.id] = (mine, _epoch(server))
    hosts, allocations = read_placement(conn, running)
    return LiveCloud(hosts, allocations, pending, existing)


def _epoch(server: Any) -> float:
    """When the server started, as Unix time (0 when Nova does not say)."""
    for value in (server.launched_at, server.created_at):
        if value:
            try:
                stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                continue
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            return stamp.timestamp()
    return 0.0


def read_placement(
    conn: Any, servers: Mapping[str, tuple[Workload, float]] | None = None
) -> tuple[list[Host], list[Allocation]]:
    """Compute hosts and what is allocated on them, as Placement sees them.

    Allocations of the consumers in `servers` (server id -> its workload and
    when it started) become that workload's allocation, sized as Placement
    has it; the rest of a
    host's usage is one allocation that cannot be displaced: the scheduler
    knows how much it is, not which workloads take it.
    """
    known = servers or {}
    hosts: list[Host] = []
    used: list[Allocation] = []
    with _mapped("read placement resource providers"):
        providers = list(conn.placement.resource_providers())
        for rp in providers:
            inventories = conn.placement.get(
                f"/resource_providers/{rp.id}/inventories"
            ).json()["inventories"]
            consumers = conn.placement.get(
                f"/resource_providers/{rp.id}/allocations"
            ).json()["allocations"]
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
            taken = Resources()
            for consumer, allocation in sorted(consumers.items()):
                size = _resources(allocation.get("resources", {}))
                if consumer not in known:
                    taken = taken + size
                    continue
                workload, placed_at = known[consumer]
                used.append(
                    Allocation(replace(workload, resources=size), rp.name, placed_at)
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


def _resources(amounts: Mapping[str, Any]) -> Resources:
    return Resources(
        amounts.get("VCPU", 0), amounts.get("MEMORY_MB", 0), amounts.get("DISK_GB", 0)
    )


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
