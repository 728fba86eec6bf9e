"""The workload must fit in what is left after allocation ratios and reserve."""

from __future__ import annotations

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class CapacityFilter:
    name = "capacity"
    resolvable_by_displacement = True

    def reject(self, state: HostState, workload: Workload, ctx: Context) -> str | None:
        need = workload.resources
        free = state.free
        if need.fits_in(free):
            return None
        return "does not fit: " + ", ".join(need.shortfall(free))
