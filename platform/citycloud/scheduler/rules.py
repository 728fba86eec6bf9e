"""The two kinds of small rules the scheduler is made of.

A filter answers "may this workload go on this host?" and gives its reason
when the answer is no. A weigher answers "how good is this host?" with a
score in [-1, 1] (higher wins) and a short note; the scheduler multiplies it
by the weigher's multiplier and sums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from citycloud.scheduler.model import HostMetrics, Workload
from citycloud.scheduler.state import ClusterState, HostState
from citycloud.scheduler.usage import Usage, estimate


@dataclass(frozen=True, slots=True)
class Settings:
    # Metrics older than this are not trusted.
    stale_after_s: float = 120.0
    # Share of its vCPUs a newly placed VM is assumed to keep busy.
    cpu_use: float = 0.5
    # The load weigher packs hosts up to this utilisation...
    target_utilisation: float = 0.7
    # ...and no host is ever pushed above this one.
    red_line: float = 0.9
    # Standard deviation of utilisation that counts as fully risky.
    risk_scale: float = 0.2
    # Stop filtering once this many hosts passed (None: judge every host).
    # Displacement still looks at every host.
    max_candidates: int | None = None


class Context:
    """What rules may look at while one workload is being placed.

    Usage estimates are kept on the host state until the host's allocations
    change, and judged at the run's start time, so a long run
    does not flip hosts between fresh and stale halfway.
    """

    def __init__(
        self,
        now: float,
        cluster: ClusterState,
        metrics: Mapping[str, HostMetrics],
        settings: Settings,
    ) -> None:
        self.now = now
        self.cluster = cluster
        self.metrics = metrics
        self.settings = settings
        self._peaks: dict[str, float] = {}

    def usage(self, state: HostState) -> Usage:
        found = state.usage
        if found is None:
            found = estimate(
                state,
                self.metrics.get(state.host.name),
                self.cluster.started_at,
                self.settings.stale_after_s,
                self.settings.cpu_use,
            )
            state.usage = found
        return found

    def forget(self, host: str) -> None:
        """Drop what was worked out for `host` after its allocations changed."""
        self._peaks.pop(host, None)

    def peak_after(self, state: HostState, workload: Workload) -> float:
        """The host's peak utilisation (CPU or memory) with `workload` on it.

        A context serves one workload, so the answer is kept per host.
        """
        name = state.host.name
        peak = self._peaks.get(name)
        if peak is None:
            cpu, memory = self.usage(state).after(
                state, workload.resources, self.settings.cpu_use
            )
            peak = cpu if cpu > memory else memory
            self._peaks[name] = peak
        return peak


class HostFilter(Protocol):
    name: str
    # True when freeing allocations on the host can turn a "no" into a "yes".
    resolvable_by_displacement: bool

    def reject(self, state: HostState, workload: Workload, ctx: Context) -> str | None:
        """None when the host passes, else the reason it does not."""
        ...


class HostWeigher(Protocol):
    name: str
    multiplier: float

    def weigh(self, state: HostState, workload: Workload, ctx: Context) -> float:
        """A score in [-1, 1]; higher wins."""
        ...

    def explain(self, state: HostState, workload: Workload, ctx: Context) -> str:
        """Why the host got its score (asked only for the hosts reported)."""
        ...
