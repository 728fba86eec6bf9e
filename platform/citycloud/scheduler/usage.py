"""How busy a host is, from fresh metrics or, failing those, its allocations.

Fresh metrics are compensated with the placements made after their sample
time, which Prometheus has not seen yet. Metrics older than the staleness
limit, or missing, are not trusted: the host is then judged from what is
allocated on it, and the estimate says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from citycloud.scheduler.model import HostMetrics, Resources
from citycloud.scheduler.state import HostState

FROM_METRICS = "metrics"
FROM_ALLOCATIONS = "allocations"


@dataclass(frozen=True, slots=True)
class Usage:
    """Utilisation of a host as fractions of its physical size."""

    cpu: float
    memory: float
    source: str
    # Seconds since the sample, None without a sample.
    age_s: float | None
    # Resources placed since the sample and added on top of it.
    compensated: Resources
    cpu_stddev: float | None = None
    memory_stddev: float | None = None
    note: str = ""
    # Derived once: rules ask for these for every host of every decision.
    stale: bool = field(init=False)
    variation: float | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stale", self.source != FROM_METRICS)
        known = [v for v in (self.cpu_stddev, self.memory_stddev) if v is not None]
        # The larger standard deviation of CPU and memory use, if known.
        object.__setattr__(self, "variation", max(known) if known else None)

    @property
    def peak(self) -> float:
        return max(self.cpu, self.memory)

    def plus(self, state: HostState, extra: Resources, cpu_use: float) -> Usage:
        """The utilisation once `extra` runs on the host as well."""
        cpu, memory = self.after(state, extra, cpu_use)
        return Usage(
            cpu,
            memory,
            self.source,
            self.age_s,
            self.compensated,
            self.cpu_stddev,
            self.memory_stddev,
            self.note,
        )

    def after(
        self, state: HostState, extra: Resources, cpu_use: float
    ) -> tuple[float, float]:
        """CPU and memory utilisation once `extra` runs on the host as well."""
        host = state.host
        return (
            self.cpu + _share(extra.vcpus * cpu_use, host.vcpus),
            self.memory + _share(extra.ram_mb, host.ram_mb),
        )


def _share(amount: float, whole: float) -> float:
    return amount / whole if whole > 0 else 1.0


def estimate(
    state: HostState,
    metrics: HostMetrics | None,
    now: float,
    stale_after_s: float,
    cpu_use: float,
) -> Usage:
    """Estimate the utilisation of one host at `now`.

    `cpu_use` is the share of its vCPUs a new VM is assumed to keep busy.
    """
    host = state.host
    if metrics is not None:
        age = max(0.0, now - metrics.sampled_at)
        if (
            age <= stale_after_s
            and metrics.up is not False
            and (
                metrics.cpu_utilisation is not None
                or metrics.memory_utilisation is not None
            )
        ):
            since = Resources()
            for allocation in state.allocations.values():
                if allocation.placed_at > metrics.sampled_at:
                    since = since + allocation.workload.resources
            cpu = metrics.cpu_utilisation
            mem = metrics.memory_utilisation
            return Usage(
                (cpu if cpu is not None else _share(state.used.vcpus, host.vcpus))
                + _share(since.vcpus * cpu_use, host.vcpus),
                (mem if mem is not None else _share(state.used.ram_mb, host.ram_mb))
                + _share(since.ram_mb, host.ram_mb),
                FROM_METRICS,
                age,
                since,
                metrics.cpu_stddev,
                metrics.memory_stddev,
            )
        if metrics.up is False:
            note = f"exporter down, last sample {age:.0f}s ago"
        elif age > stale_after_s:
            note = f"metrics {age:.0f}s old (limit {stale_after_s:.0f}s)"
        else:
            note = f"no current samples, last {age:.0f}s ago"
    else:
        age = None
        note = "no metrics"
    return Usage(
        _share(state.used.vcpus * cpu_use, host.vcpus),
        _share(state.used.ram_mb, host.ram_mb),
        FROM_ALLOCATIONS,
        age,
        Resources(),
        note=note,
    )
