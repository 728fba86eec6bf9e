"""Replicas of one app go to different hosts, and are spread over racks.

On hosts the rule is strict: two replicas never share a host. On racks each
rack takes at most its fair share, ceil(replicas / racks), so losing one rack
never takes more than that share of the app down.
"""

from __future__ import annotations

import math

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class SpreadFilter:
    name = "spread"
    resolvable_by_displacement = False

    def reject(self, state: HostState, workload: Workload, ctx: Context) -> str | None:
        if workload.replicas <= 1:
            return None
        group = workload.group
        if state.groups[group] > 0:
            return f"already runs a replica of {group}"
        share = math.ceil(workload.replicas / ctx.cluster.active_racks)
        on_rack = ctx.cluster.rack_groups[(state.host.rack, group)]
        if on_rack >= share:
            return (
                f"rack {state.host.rack} already has {on_rack} of {group} (max {share})"
            )
        return None
