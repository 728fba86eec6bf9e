"""The scheduler's own view of the hosts while it decides.

Every placement made during a run is applied here at once, so the next
decision sees it (Prometheus will only see it after its next scrape).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from citycloud.scheduler.model import Allocation, Host, Resources

if TYPE_CHECKING:
    from citycloud.scheduler.usage import Usage


class HostState:
    __slots__ = ("allocations", "capacity", "free", "groups", "host", "usage", "used")

    def __init__(self, host: Host) -> None:
        self.host = host
        self.capacity = host.capacity
        self.used = Resources()
        self.free = self.capacity
        self.allocations: dict[str, Allocation] = {}
        self.groups: Counter[str] = Counter()
        # The usage estimate for this run, dropped when allocations change.
        self.usage: Usage | None = None

    def add(self, allocation: Allocation) -> None:
        self.allocations[allocation.workload.key] = allocation
        self.usage = None
        self.used = self.used + allocation.workload.resources
        self.free = self.capacity - self.used
        self.groups[allocation.workload.group] += 1

    def remove(self, key: str) -> Allocation:
        allocation = self.allocations.pop(key)
        self.usage = None
        self.used = self.used - allocation.workload.resources
        self.free = self.capacity - self.used
        self.groups[allocation.workload.group] -= 1
        return allocation


class ClusterState:
    def __init__(
        self,
        hosts: Iterable[Host],
        allocations: Iterable[Allocation] = (),
        started_at: float = 0.0,
    ) -> None:
        self.hosts: dict[str, HostState] = {h.name: HostState(h) for h in hosts}
        self.started_at = started_at
        # Where the next decision starts looking when only some hosts are
        # examined (Settings.max_candidates).
        self.rotation = 0
        self.rack_groups: Counter[tuple[str, str]] = Counter()
        self.where: dict[str, str] = {}
        # Racks that can take workloads; rack spread is judged against them.
        self.active_racks = (
            len({s.host.rack for s in self.hosts.values() if not s.host.maintenance})
            or 1
        )
        for allocation in allocations:
            if allocation.host in self.hosts:
                self.add(allocation)

    def add(self, allocation: Allocation) -> None:
        state = self.hosts[allocation.host]
        state.add(allocation)
        self.rack_groups[(state.host.rack, allocation.workload.group)] += 1
        self.where[allocation.workload.key] = allocation.host

    def remove(self, key: str) -> Allocation:
        state = self.hosts[self.where.pop(key)]
        allocation = state.remove(key)
        self.rack_groups[(state.host.rack, allocation.workload.group)] -= 1
        return allocation
