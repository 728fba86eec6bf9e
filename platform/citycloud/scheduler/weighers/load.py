"""Pack hosts up to a target utilisation, then prefer the emptier ones.

The host's utilisation once the workload runs there (from fresh metrics plus
placements since the scrape, or from allocations when stale) scores
p / target up to the target, and falls towards -1 as it nears 100 %. Packing
keeps whole hosts free for large workloads; the target keeps headroom for
peaks.
"""

from __future__ import annotations

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class LoadWeigher:
    name = "load"

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def weigh(self, state: HostState, workload: Workload, ctx: Context) -> float:
        target = ctx.settings.target_utilisation
        peak = ctx.peak_after(state, workload)
        if peak <= target:
            return peak / target
        return -min(1.0, (peak - target) / max(1e-9, 1.0 - target))

    def explain(self, state: HostState, workload: Workload, ctx: Context) -> str:
        usage = ctx.usage(state)
        peak = ctx.peak_after(state, workload)
        target = ctx.settings.target_utilisation
        note = f"{peak:.0%} after placing (target {target:.0%}) from {usage.source}"
        if usage.stale:
            note += f" ({usage.note})"
        elif usage.compensated.vcpus or usage.compensated.ram_mb:
            note += (
                f", +{usage.compensated.vcpus:g} vCPU/{usage.compensated.ram_mb} MB"
                " placed since the scrape"
            )
        return note
