"""Hosts in maintenance take no new workloads."""

from __future__ import annotations

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class MaintenanceFilter:
    name = "maintenance"
    resolvable_by_displacement = False

    def reject(self, state: HostState, workload: Workload, ctx: Context) -> str | None:
        return "host in maintenance" if state.host.maintenance else None
