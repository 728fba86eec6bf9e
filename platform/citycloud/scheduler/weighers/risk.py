"""Prefer hosts whose use is steady.

A host whose utilisation swung widely over the variation window is likely to
swing again; the standard deviation of its use (the larger of CPU and
memory), relative to a scale, gives a penalty from 0 to -1. Without fresh
variation data the weigher is neutral and says so.
"""

from __future__ import annotations

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class RiskWeigher:
    name = "risk"

    def __init__(self, multiplier: float = 0.5) -> None:
        self.multiplier = multiplier

    def weigh(self, state: HostState, workload: Workload, ctx: Context) -> float:
        stddev = _stddev(ctx, state)
        if stddev is None:
            return 0.0
        return -min(1.0, stddev / ctx.settings.risk_scale)

    def explain(self, state: HostState, workload: Workload, ctx: Context) -> str:
        if ctx.usage(state).stale:
            return "no fresh variation data"
        stddev = _stddev(ctx, state)
        if stddev is None:
            return "no variation data"
        return f"stddev of use {stddev:.2f} over the window"


def _stddev(ctx: Context, state: HostState) -> float | None:
    usage = ctx.usage(state)
    return None if usage.stale else usage.variation
