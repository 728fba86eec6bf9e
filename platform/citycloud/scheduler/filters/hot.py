"""No host is driven into the red.

With fresh metrics, a host whose utilisation (compensated for placements not
yet scraped, plus this workload) would pass the red line is rejected. A host
with stale or no metrics cannot be judged by load; the capacity filter alone
guards it, and this filter lets it pass.
"""

from __future__ import annotations

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class HotHostFilter:
    name = "hot"
    resolvable_by_displacement = False

    def reject(self, state: HostState, workload: Workload, ctx: Context) -> str | None:
        usage = ctx.usage(state)
        if usage.stale:
            return None
        red = ctx.settings.red_line
        if ctx.peak_after(state, workload) <= red:
            return None
        cpu, memory = usage.after(state, workload.resources, ctx.settings.cpu_use)
        return f"would reach cpu {cpu:.0%}, memory {memory:.0%}; red line {red:.0%}"
