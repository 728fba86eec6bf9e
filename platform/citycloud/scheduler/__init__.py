"""Places tenants' VM workloads on compute hosts.

Small filters and weighers (one per module) decide over the scheduler's own
view of the hosts, fed by Prometheus metrics when they are fresh and by
allocations when they are not; every decision carries its explanation and
can be recorded. Binding to OpenStack is separate (`binding`), so a shadow
run decides and reports without touching anything.
"""

from __future__ import annotations

from citycloud.scheduler.clock import Clock, FakeClock, SystemClock
from citycloud.scheduler.decision import Decision
from citycloud.scheduler.engine import Scheduler, ScheduleResult
from citycloud.scheduler.model import (
    PRIORITY_RANKS,
    Allocation,
    Host,
    HostMetrics,
    MetricsSnapshot,
    Resources,
    Workload,
    priority_rank,
)
from citycloud.scheduler.recorder import (
    DecisionRecorder,
    JsonLinesRecorder,
    ListRecorder,
)
from citycloud.scheduler.rules import Settings

__all__ = [
    "PRIORITY_RANKS",
    "Allocation",
    "Clock",
    "Decision",
    "DecisionRecorder",
    "FakeClock",
    "Host",
    "HostMetrics",
    "JsonLinesRecorder",
    "ListRecorder",
    "MetricsSnapshot",
    "Resources",
    "ScheduleResult",
    "Scheduler",
    "Settings",
    "SystemClock",
    "Workload",
    "priority_rank",
]
