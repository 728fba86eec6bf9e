"""Builders shared by the scheduler's unit tests."""

from __future__ import annotations

from citycloud.scheduler import (
    Allocation,
    FakeClock,
    Host,
    HostMetrics,
    MetricsSnapshot,
    Resources,
    Scheduler,
    Settings,
    Workload,
)

NOW = 1_800_000_000.0


def host(name: str, rack: str = "r1", **kw: object) -> Host:
    values: dict[str, object] = {"vcpus": 10, "ram_mb": 8192, "disk_gb": 100}
    values.update(kw)
    return Host(name, rack, **values)  # type: ignore[arg-type]


def vm(
    key: str,
    vcpus: float = 2,
    ram_mb: int = 2048,
    *,
    tenant: str | None = None,
    app: str = "app",
    priority: int = 200,
    **kw: object,
) -> Workload:
    return Workload(
        key,
        tenant or key.split("/")[0],
        app,
        Resources(vcpus, ram_mb, 10),
        priority,
        **kw,  # type: ignore[arg-type]
    )


def running(workload: Workload, on: str, at: float = NOW - 3600) -> Allocation:
    return Allocation(workload, on, at)


def metrics(
    name: str,
    cpu: float | None,
    mem: float | None,
    age_s: float = 5.0,
    cpu_stddev: float | None = None,
    up: bool | None = True,
) -> HostMetrics:
    return HostMetrics(name, NOW - age_s, cpu, mem, cpu_stddev, None, up)


def snapshot(*items: HostMetrics) -> MetricsSnapshot:
    return MetricsSnapshot({m.host: m for m in items}, NOW)


def scheduler(**kw: object) -> Scheduler:
    settings = kw.pop("settings", None) or Settings()
    return Scheduler(clock=FakeClock(NOW), settings=settings, **kw)  # type: ignore[arg-type]
