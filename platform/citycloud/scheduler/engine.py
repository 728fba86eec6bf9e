"""The scheduling loop: order the workloads, filter, weigh, place, explain.

Workloads go by priority (critical first), then in the order given. Each one
passes through the filters host set by host set, the survivors are weighed,
and the best total wins (ties to the host name, so runs are repeatable).
When no host is left and the workload outranks preemptible workloads, the
cheapest set of those on one host is displaced and queued again; the spec's
priority and preemption flag are the only things that allow it.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from citycloud import metrics as platform_metrics
from citycloud.scheduler.clock import Clock, SystemClock
from citycloud.scheduler.decision import (
    PLACED,
    UNPLACED,
    Decision,
    Displacement,
    FilterReport,
    HostScore,
)
from citycloud.scheduler.filters import default_filters
from citycloud.scheduler.model import (
    Allocation,
    Host,
    MetricsSnapshot,
    Workload,
)
from citycloud.scheduler.recorder import DecisionRecorder
from citycloud.scheduler.rules import Context, HostFilter, HostWeigher, Settings
from citycloud.scheduler.state import ClusterState, HostState
from citycloud.scheduler.weighers import default_weighers

log = logging.getLogger(__name__)


@dataclass
class ScheduleResult:
    decisions: list[Decision] = field(default_factory=list)
    # Workload key -> host, for every workload placed in this run.
    placements: dict[str, str] = field(default_factory=dict)
    # Workload keys displaced in this run (they appear in decisions again).
    displaced: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    shadow: bool = False
    metrics_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "scheduler.run",
            "shadow": self.shadow,
            "metrics_note": self.metrics_note,
            "placements": dict(self.placements),
            "displaced": list(self.displaced),
            "unplaced": list(self.unplaced),
            "decisions": [d.to_dict() for d in self.decisions],
        }


class Scheduler:
    def __init__(
        self,
        *,
        filters: Sequence[HostFilter] | None = None,
        weighers: Sequence[HostWeigher] | None = None,
        settings: Settings | None = None,
        clock: Clock | None = None,
        recorder: DecisionRecorder | None = None,
        shadow: bool = False,
        keep_decisions: bool = True,
        explain_top: int = 5,
        report_top: int | None = 10,
    ) -> None:
        self.filters = list(filters) if filters is not None else default_filters()
        self.weighers = list(weighers) if weighers is not None else default_weighers()
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()
        self.recorder = recorder
        self.shadow = shadow
        self.keep_decisions = keep_decisions
        # Weigher notes are written for the best `explain_top` hosts; scores
        # are reported for the best `report_top` (None: every candidate).
        self.explain_top = explain_top
        self.report_top = report_top

    def schedule(
        self,
        hosts: Iterable[Host],
        workloads: Iterable[Workload],
        allocations: Iterable[Allocation] = (),
        metrics: MetricsSnapshot | None = None,
    ) -> ScheduleResult:
        """Place `workloads` on `hosts` that already carry `allocations`."""
        snapshot = metrics or MetricsSnapshot.empty("no metrics source")
        cluster = ClusterState(hosts, allocations, started_at=self.clock.now())
        note = _metrics_note(snapshot, len(cluster.hosts))
        result = ScheduleResult(shadow=self.shadow, metrics_note=note)
        if note:
            log.info("Scheduling without full metrics: %s", note)
        queue: list[tuple[int, int, Workload, str]] = []
        for order, workload in enumerate(workloads):
            heapq.heappush(queue, (-workload.priority, order, workload, ""))
        order = len(queue)
        while queue:
            _, _, workload, why = heapq.heappop(queue)
            decision = self._decide(
                len(result.decisions) + 1, workload, cluster, snapshot, note, why
            )
            for victim in decision.displaced:
                result.placements.pop(victim.workload.key, None)
                result.displaced.append(victim.workload.key)
                order += 1
                again = f"displaced from {victim.host} by {workload.key}"
                heapq.heappush(
                    queue, (-victim.workload.priority, order, victim.workload, again)
                )
            if decision.host is not None:
                cluster.add(Allocation(workload, decision.host, self.clock.now()))
                result.placements[workload.key] = decision.host
            else:
                result.unplaced.append(workload.key)
            self._publish(decision, result)
        return result

    def _publish(self, decision: Decision, result: ScheduleResult) -> None:
        platform_metrics.observe_scheduler_decision(
            decision.outcome,
            decision.latency_s,
            shadow=self.shadow,
            stale_hosts=len(decision.stale_hosts),
            displaced=len(decision.displaced),
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Decision %s", decision.explain())
        if self.recorder is not None:
            self.recorder.record(decision.to_dict())
        if self.keep_decisions:
            result.decisions.append(decision)

    def _decide(
        self,
        sequence: int,
        workload: Workload,
        cluster: ClusterState,
        snapshot: MetricsSnapshot,
        note: str | None,
        why: str,
    ) -> Decision:
        started = time.perf_counter()
        ctx = Context(self.clock.now(), cluster, snapshot.hosts, self.settings)
        if self.settings.max_candidates is None:
            survivors, reports = self._filter_all(workload, cluster, ctx)
        else:
            survivors, reports = self._filter_some(
                workload, cluster, ctx, self.settings.max_candidates
            )
        displaced: list[Displacement] = []
        reason = why
        if not survivors:
            found = self._displace(workload, cluster, ctx)
            if found is not None:
                state, displaced = found
                for victim in displaced:
                    cluster.remove(victim.workload.key)
                ctx.forget(state.host.name)
                survivors = [state]
                reason = _join(
                    why,
                    f"displaced {len(displaced)} lower-priority workload(s)",
                )
        scores = self._scores(survivors, workload, ctx)
        stale = {
            name: usage.note
            for name, usage in ((s.host.name, ctx.usage(s)) for s in survivors)
            if usage.stale
        }
        host = scores[0].host if scores else None
        if host is None:
            out = [f"{r.name} {len(r.rejected)}" for r in reports if r.rejected]
            reason = _join(
                why,
                "no host passed the filters"
                + (f" (hosts out by {', '.join(out)})" if out else " (no hosts)"),
            )
        if host is not None:
            log.debug("Placing %s on %s", workload.key, host)
        else:
            log.info("No host for %s: %s", workload.key, reason)
        return Decision(
            sequence=sequence,
            workload=workload,
            host=host,
            outcome=PLACED if host is not None else UNPLACED,
            decided_at=ctx.now,
            filters=reports,
            scores=scores,
            candidates=len(survivors),
            stale_hosts=stale,
            displaced=displaced,
            metrics_note=note,
            shadow=self.shadow,
            reason=reason,
            latency_s=time.perf_counter() - started,
        )

    def _filter_all(
        self, workload: Workload, cluster: ClusterState, ctx: Context
    ) -> tuple[list[HostState], list[FilterReport]]:
        """Every host through every filter, one filter at a time."""
        survivors = list(cluster.hosts.values())
        reports: list[FilterReport] = []
        for rule in self.filters:
            kept: list[HostState] = []
            rejected: dict[str, str] = {}
            for state in survivors:
                reason = rule.reject(state, workload, ctx)
                if reason is None:
                    kept.append(state)
                else:
                    rejected[state.host.name] = reason
            reports.append(FilterReport(rule.name, len(kept), rejected))
            survivors = kept
        return survivors, reports

    def _filter_some(
        self, workload: Workload, cluster: ClusterState, ctx: Context, wanted: int
    ) -> tuple[list[HostState], list[FilterReport]]:
        """Hosts one at a time, from where the last decision stopped, until
        `wanted` hosts passed every filter: large clusters are then decided
        on a rotating share of their hosts, like Kubernetes' scheduler does."""
        hosts = list(cluster.hosts.values())
        count = len(hosts)
        start = cluster.rotation % count if count else 0
        rejected: dict[str, dict[str, str]] = {f.name: {} for f in self.filters}
        survivors: list[HostState] = []
        examined = 0
        for offset in range(count):
            state = hosts[(start + offset) % count]
            examined += 1
            for rule in self.filters:
                reason = rule.reject(state, workload, ctx)
                if reason is not None:
                    rejected[rule.name][state.host.name] = reason
                    break
            else:
                survivors.append(state)
                if len(survivors) >= wanted:
                    break
        cluster.rotation = start + examined
        reports = []
        left = examined
        for rule in self.filters:
            left -= len(rejected[rule.name])
            reports.append(FilterReport(rule.name, left, rejected[rule.name]))
        return survivors, reports

    def _scores(
        self, survivors: list[HostState], workload: Workload, ctx: Context
    ) -> list[HostScore]:
        """Every survivor's score, best first; the best few explained."""
        raw: list[tuple[float, str, HostState, list[float]]] = []
        weighers = self.weighers
        for state in survivors:
            values = [w.weigh(state, workload, ctx) for w in weighers]
            total = 0.0
            for value, weigher in zip(values, weighers, strict=True):
                total += value * weigher.multiplier
            raw.append((-total, state.host.name, state, values))
        if self.report_top is not None and len(raw) > self.report_top:
            raw = heapq.nsmallest(self.report_top, raw, key=lambda r: (r[0], r[1]))
        else:
            raw.sort(key=lambda r: (r[0], r[1]))
        scores = []
        for rank, (negative, name, state, values) in enumerate(raw):
            explain = rank < self.explain_top
            parts = {
                w.name: (
                    v,
                    w.multiplier,
                    w.explain(state, workload, ctx) if explain else "",
                )
                for w, v in zip(self.weighers, values, strict=True)
            }
            scores.append(HostScore(name, -negative, parts, ctx.usage(state).source))
        return scores

    def _displace(
        self, workload: Workload, cluster: ClusterState, ctx: Context
    ) -> tuple[HostState, list[Displacement]] | None:
        """The host where displacing the fewest, least important workloads
        makes room, or None when the spec allows no such displacement."""
        fixed = [f for f in self.filters if not f.resolvable_by_displacement]
        best: tuple[tuple[int, int, float, str], HostState, list[Allocation]] | None
        best = None
        for state in cluster.hosts.values():
            if any(f.reject(state, workload, ctx) is not None for f in fixed):
                continue
            victims = _victims(state, workload)
            if victims is None:
                continue
            cost = (
                max(v.workload.priority for v in victims),
                len(victims),
                sum(v.workload.resources.vcpus for v in victims),
                state.host.name,
            )
            if best is None or cost < best[0]:
                best = (cost, state, victims)
        if best is None:
            return None
        _, state, victims = best
        log.info(
            "Displacing %s on %s for %s",
            ",".join(v.workload.key for v in victims),
            state.host.name,
            workload.key,
        )
        return state, [Displacement(v.workload, v.host) for v in victims]


def _victims(state: HostState, workload: Workload) -> list[Allocation] | None:
    """Allocations whose removal lets `workload` fit on the host, if any."""
    need = workload.resources
    eligible = sorted(
        (
            a
            for a in state.allocations.values()
            if a.workload.preemptible and a.workload.priority < workload.priority
        ),
        # Least important first; among equals the newest, which lost least.
        key=lambda a: (a.workload.priority, -a.placed_at, a.workload.key),
    )
    free = state.free
    chosen: list[Allocation] = []
    for allocation in eligible:
        if need.fits_in(free):
            break
        chosen.append(allocation)
        free = free + allocation.workload.resources
    if not chosen or not need.fits_in(free):
        return None
    # Give back any victim that turned out not to be needed.
    for allocation in list(reversed(chosen)):
        without = free - allocation.workload.resources
        if need.fits_in(without):
            chosen.remove(allocation)
            free = without
    return chosen


def _metrics_note(snapshot: MetricsSnapshot, hosts: int) -> str | None:
    if snapshot.error:
        return f"metrics unavailable ({snapshot.error}): hosts judged by allocations"
    if not snapshot.hosts and hosts:
        return "no host metrics: hosts judged by allocations"
    return None


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second
