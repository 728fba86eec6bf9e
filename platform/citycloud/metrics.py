"""The platform's own metrics: applies, changes, errors, scheduler decisions.

Names follow Prometheus's naming guide: a `citycloud_` prefix, base units
(seconds), `_total` on counters. Every label takes its value from a small
fixed set (anything else is counted as "other"), so no tenant name or host
can ever blow up the number of series.

When the portal or an API runs in several processes, start them with
PROMETHEUS_MULTIPROC_DIR pointing at an empty folder (set before Python
starts); each process then writes its values there and `exposition()` sums
them. Without it, values live in this process only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from citycloud.desired.model import LAYERS

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

APPLY_OUTCOMES = ("success", "failure", "partial", "noop")
ACTIONS = ("create", "update", "delete")
COMPONENTS = ("spec", "plan", "apply", "store", "adapter", "scheduler", "portal", "cli")
ERROR_KINDS = ("spec", "plan", "safety", "transient", "permanent", "other")
DECISION_OUTCOMES = ("placed", "unplaced")
MODES = ("live", "shadow")
OTHER = "other"

# Our own registry, so the package never collides with whatever else a host
# process registers in prometheus_client's global one.
REGISTRY = CollectorRegistry(auto_describe=True)

APPLIES = Counter(
    "citycloud_applies_total",
    "Applies of a plan to one layer, by outcome.",
    ["layer", "outcome"],
    registry=REGISTRY,
)
APPLY_DURATION = Histogram(
    "citycloud_apply_duration_seconds",
    "Time taken to apply a plan to one layer.",
    ["layer"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
CHANGES = Counter(
    "citycloud_changes_total",
    "Changes made to outside systems, by layer and action.",
    ["layer", "action"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "citycloud_errors_total",
    "Errors raised by the platform, by component and kind.",
    ["component", "kind"],
    registry=REGISTRY,
)
SCHEDULER_DECISIONS = Counter(
    "citycloud_scheduler_decisions_total",
    "Placement decisions made by the scheduler, by outcome and mode.",
    ["outcome", "mode"],
    registry=REGISTRY,
)
SCHEDULER_DECISION_DURATION = Histogram(
    "citycloud_scheduler_decision_duration_seconds",
    "Time the scheduler took to decide one placement.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
    registry=REGISTRY,
)
SCHEDULER_DISPLACEMENTS = Counter(
    "citycloud_scheduler_displacements_total",
    "Lower-priority workloads displaced to make room for higher ones.",
    ["mode"],
    registry=REGISTRY,
)
SCHEDULER_STALE_DECISIONS = Counter(
    "citycloud_scheduler_stale_decisions_total",
    "Decisions in which at least one candidate host had stale or no metrics.",
    ["mode"],
    registry=REGISTRY,
)
SCHEDULER_STALE_HOSTS = Gauge(
    "citycloud_scheduler_stale_hosts",
    "Candidate hosts judged from allocations only in the latest decision.",
    multiprocess_mode="mostrecent",
    registry=REGISTRY,
)


def bounded(value: str, allowed: Iterable[str]) -> str:
    """`value` when it is one of `allowed`, else "other"."""
    return value if value in allowed else OTHER


def observe_apply(layer: str, outcome: str, duration_s: float) -> None:
    layer = bounded(layer, LAYERS)
    APPLIES.labels(layer, bounded(outcome, APPLY_OUTCOMES)).inc()
    APPLY_DURATION.labels(layer).observe(duration_s)


def count_change(layer: str, action: str, amount: int = 1) -> None:
    CHANGES.labels(bounded(layer, LAYERS), bounded(action, ACTIONS)).inc(amount)


def observe_applied_plan(
    plan: Any, status: str, duration_s: float | None = None
) -> None:
    """Count one finished apply of `plan` (a citycloud.plan.Plan) per layer.

    Changes are counted only when the apply succeeded; `status` is the apply
    record's ("succeeded", "failed", "unchanged").
    """
    outcome = {"succeeded": "success", "failed": "failure", "unchanged": "noop"}.get(
        status, OTHER
    )
    for layer, changes in plan.by_layer().items():
        APPLIES.labels(bounded(layer, LAYERS), outcome).inc()
        if duration_s is not None:
            APPLY_DURATION.labels(bounded(layer, LAYERS)).observe(duration_s)
        if outcome == "success":
            for change in changes:
                count_change(layer, str(getattr(change.action, "value", change.action)))


def count_error(component: str, kind: str) -> None:
    ERRORS.labels(bounded(component, COMPONENTS), bounded(kind, ERROR_KINDS)).inc()


def error_kind(exc: BaseException) -> str:
    """The kind label for a citycloud error, by its class name."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for kind, name in (
        ("spec", "SpecError"),
        ("safety", "SafetyError"),
        ("plan", "PlanError"),
        ("transient", "TransientError"),
        ("permanent", "PermanentError"),
    ):
        if name in names:
            return kind
    return OTHER


def observe_scheduler_decision(
    outcome: str,
    duration_s: float,
    *,
    shadow: bool = False,
    stale_hosts: int = 0,
    displaced: int = 0,
) -> None:
    mode = "shadow" if shadow else "live"
    SCHEDULER_DECISIONS.labels(bounded(outcome, DECISION_OUTCOMES), mode).inc()
    SCHEDULER_DECISION_DURATION.observe(duration_s)
    if displaced:
        SCHEDULER_DISPLACEMENTS.labels(mode).inc(displaced)
    if stale_hosts:
        SCHEDULER_STALE_DECISIONS.labels(mode).inc()
    SCHEDULER_STALE_HOSTS.set(stale_hosts)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and their content type.

    In multiprocess mode the values of every process (live or finished) are
    read from the shared folder and summed.
    """
    path = multiprocess_dir()
    if path:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Tell multiprocess mode a worker is gone (for its live gauges)."""
    path = multiprocess_dir()
    if path:
        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
