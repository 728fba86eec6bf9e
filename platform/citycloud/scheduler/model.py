"""Plain data the scheduler works on: hosts, workloads, allocations, metrics.

These shapes are independent of the spec and of any SDK, so the placement
logic can be tested and benchmarked alone; `inputs` builds them from a spec,
`binding` and `prometheus` fill them from the outside systems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

PRIORITY_RANKS: Mapping[str, int] = {
    "critical": 400,
    "high": 300,
    "normal": 200,
    "low": 100,
    "batch": 0,
}


def priority_rank(value: str | int | None) -> int:
    """Map a spec priority (name or number) to a rank; higher goes first."""
    if value is None:
        return PRIORITY_RANKS["normal"]
    if isinstance(value, int):
        return value
    try:
        return PRIORITY_RANKS[str(value).lower()]
    except KeyError:
        raise ValueError(f"unknown priority {value!r}") from None


def priority_name(rank: int) -> str:
    for name, value in PRIORITY_RANKS.items():
        if value == rank:
            return name
    return str(rank)


@dataclass(frozen=True, slots=True)
class Resources:
    vcpus: float = 0
    ram_mb: int = 0
    disk_gb: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            self.vcpus + other.vcpus,
            self.ram_mb + other.ram_mb,
            self.disk_gb + other.disk_gb,
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            self.vcpus - other.vcpus,
            self.ram_mb - other.ram_mb,
            self.disk_gb - other.disk_gb,
        )

    def fits_in(self, free: Resources) -> bool:
        return (
            self.vcpus <= free.vcpus
            and self.ram_mb <= free.ram_mb
            and self.disk_gb <= free.disk_gb
        )

    def shortfall(self, free: Resources) -> list[str]:
        """Names of the dimensions that do not fit, with need and room."""
        out = []
        if self.vcpus > free.vcpus:
            out.append(f"vcpus {self.vcpus:g}>{free.vcpus:g}")
        if self.ram_mb > free.ram_mb:
            out.append(f"ram_mb {self.ram_mb}>{free.ram_mb}")
        if self.disk_gb > free.disk_gb:
            out.append(f"disk_gb {self.disk_gb}>{free.disk_gb}")
        return out


@dataclass(frozen=True, slots=True)
class Host:
    """A compute host with its physical size and how it may be overcommitted."""

    name: str
    rack: str = "default"
    vcpus: int = 0
    ram_mb: int = 0
    disk_gb: int = 0
    cpu_allocation_ratio: float = 1.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_ram_mb: int = 0
    maintenance: bool = False
    # Tenants (slugs) this host is reserved for; empty means shared by all.
    dedicated_to: frozenset[str] = frozenset()

    @property
    def capacity(self) -> Resources:
        """What may be allocated on the host, after reserve and ratios."""
        return Resources(
            self.vcpus * self.cpu_allocation_ratio,
            math.floor(
                (self.ram_mb - self.reserved_ram_mb) * self.ram_allocation_ratio
            ),
            math.floor(self.disk_gb * self.disk_allocation_ratio),
        )


@dataclass(frozen=True, slots=True)
class Workload:
    """One VM to place: a replica of a tenant's app."""

    key: str
    tenant: str
    app: str
    resources: Resources
    priority: int = PRIORITY_RANKS["normal"]
    # The spec allows this workload to be displaced by a higher priority one.
    preemptible: bool = False
    # How many replicas the app has in total; spread decisions depend on it.
    replicas: int = 1
    allowed_hosts: frozenset[str] = frozenset()
    allowed_racks: frozenset[str] = frozenset()
    # Opaque details the binding needs (flavor, image, network names...).
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)
    # Replicas sharing a group are spread over hosts and racks; by default
    # the group is the tenant's app.
    group: str = ""

    def __post_init__(self) -> None:
        if not self.group:
            object.__setattr__(self, "group", f"{self.tenant}/{self.app}")


@dataclass(frozen=True, slots=True)
class Allocation:
    workload: Workload
    host: str
    placed_at: float


@dataclass(frozen=True, slots=True)
class HostMetrics:
    """What Prometheus last saw of one host, as fractions of the whole host."""

    host: str
    sampled_at: float
    cpu_utilisation: float | None = None
    memory_utilisation: float | None = None
    # Standard deviation of the utilisation over the variation window.
    cpu_stddev: float | None = None
    memory_stddev: float | None = None
    # False when Prometheus's last scrape of the host's exporter failed.
    up: bool | None = None


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Metrics for the hosts a source could see, and why others are missing."""

    hosts: Mapping[str, HostMetrics] = field(default_factory=dict)
    fetched_at: float = 0.0
    # Set when the source could not be read at all (scheduling goes on).
    error: str | None = None

    @classmethod
    def empty(cls, error: str | None = None) -> MetricsSnapshot:
        return cls({}, 0.0, error)
