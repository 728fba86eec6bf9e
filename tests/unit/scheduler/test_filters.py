"""Each filter alone: which hosts it lets through and what it says."""

from __future__ import annotations

import pytest

from citycloud.scheduler import Host, Settings, Workload
from citycloud.scheduler.filters import (
    CapacityFilter,
    HotHostFilter,
    MaintenanceFilter,
    SpreadFilter,
    TenantRestrictionFilter,
)
from citycloud.scheduler.model import Allocation, MetricsSnapshot
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import ClusterState
from tests.unit.scheduler.sched_helpers import NOW, host, metrics, running, snapshot, vm


def judge(
    rule: object,
    target: Host,
    workload: Workload,
    others: list[Host] | None = None,
    allocations: list[Allocation] | None = None,
    snap: MetricsSnapshot | None = None,
) -> str | None:
    cluster = ClusterState([target, *(others or [])], allocations or [], NOW)
    ctx = Context(NOW, cluster, (snap or snapshot()).hosts, Settings())
    return rule.reject(cluster.hosts[target.name], workload, ctx)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("target", "need", "existing", "fits"),
    [
        (host("h"), (2, 2048), [], True),
        (host("h"), (10, 8192), [], True),
        (host("h"), (11, 1024), [], False),
        (host("h"), (2, 8193), [], False),
        (host("h"), (2, 2048), [(8, 1024)], True),
        (host("h"), (3, 2048), [(8, 1024)], False),
        (host("h", cpu_allocation_ratio=4.0), (30, 1024), [], True),
        (host("h", ram_allocation_ratio=1.5), (1, 12288), [], True),
        (host("h", reserved_ram_mb=512), (1, 8192), [], False),
    ],
    ids=[
        "fits-empty",
        "fills-exactly",
        "too-many-vcpus",
        "too-much-ram",
        "fits-beside-existing",
        "no-room-beside-existing",
        "cpu-ratio-overcommits",
        "ram-ratio-overcommits",
        "reserved-ram-is-kept",
    ],
)
def test_capacity_filter(
    target: Host, need: tuple[int, int], existing: list[tuple[int, int]], fits: bool
) -> None:
    allocations = [
        running(vm(f"old/{i}", c, r), "h") for i, (c, r) in enumerate(existing)
    ]
    reason = judge(
        CapacityFilter(), target, vm("t/new", *need), allocations=allocations
    )

    assert (reason is None) is fits
    if not fits:
        assert reason is not None and reason.startswith("does not fit")


@pytest.mark.parametrize(
    ("maintenance", "passes"),
    [(False, True), (True, False)],
    ids=["in-service", "in-maintenance"],
)
def test_maintenance_filter(maintenance: bool, passes: bool) -> None:
    reason = judge(MaintenanceFilter(), host("h", maintenance=maintenance), vm("t/a"))

    assert (reason is None) is passes


@pytest.mark.parametrize(
    ("target", "workload", "passes"),
    [
        (host("h"), vm("t/a"), True),
        (host("h", dedicated_to=frozenset({"t"})), vm("t/a"), True),
        (host("h", dedicated_to=frozenset({"other"})), vm("t/a"), False),
        (host("h"), vm("t/a", allowed_hosts=frozenset({"h"})), True),
        (host("h"), vm("t/a", allowed_hosts=frozenset({"g"})), False),
        (host("h", rack="r1"), vm("t/a", allowed_racks=frozenset({"r1"})), True),
        (host("h", rack="r1"), vm("t/a", allowed_racks=frozenset({"r2"})), False),
    ],
    ids=[
        "unrestricted",
        "dedicated-to-own-tenant",
        "dedicated-to-another-tenant",
        "allowed-host",
        "host-not-allowed",
        "allowed-rack",
        "rack-not-allowed",
    ],
)
def test_tenant_restriction_filter(
    target: Host, workload: Workload, passes: bool
) -> None:
    assert (judge(TenantRestrictionFilter(), target, workload) is None) is passes


def replica(i: int, replicas: int = 4) -> Workload:
    return vm(f"t/web/{i}", tenant="t", app="web", replicas=replicas)


@pytest.mark.parametrize(
    ("existing", "target_rack", "replicas", "passes"),
    [
        ([], "r1", 4, True),
        ([("h", "r1")], "r1", 4, False),
        ([("a", "r1")], "r1", 4, True),
        ([("a", "r1"), ("b", "r1")], "r1", 4, False),
        ([("a", "r1"), ("b", "r1")], "r2", 4, True),
        ([("h", "r1")], "r1", 1, True),
    ],
    ids=[
        "first-replica",
        "same-host-twice",
        "same-rack-under-share",
        "rack-share-reached",
        "other-rack-free",
        "single-replica-not-spread",
    ],
)
def test_spread_filter(
    existing: list[tuple[str, str]], target_rack: str, replicas: int, passes: bool
) -> None:
    # Two racks, so each rack's fair share of 4 replicas is 2.
    hosts = {
        "a": host("a", "r1"),
        "b": host("b", "r1"),
        "c": host("c", "r2"),
        "h": host("h", target_rack),
    }
    allocations = [
        running(replica(i, replicas), name) for i, (name, _) in enumerate(existing)
    ]
    target = hosts.pop("h")
    reason = judge(
        SpreadFilter(),
        target,
        replica(9, replicas),
        others=list(hosts.values()),
        allocations=allocations,
    )

    assert (reason is None) is passes


@pytest.mark.parametrize(
    ("host_metrics", "recent", "passes"),
    [
        (metrics("h", 0.2, 0.3), [], True),
        (metrics("h", 0.95, 0.3), [], False),
        (metrics("h", 0.2, 0.85), [], False),
        (metrics("h", 0.95, 0.95, age_s=600), [], True),
        (metrics("h", 0.95, 0.95, up=False), [], True),
        (metrics("h", 0.2, 0.4, age_s=30), [(2, 4096)], False),
        (metrics("h", 0.2, 0.4, age_s=30), [], True),
    ],
    ids=[
        "cool-host",
        "cpu-hot",
        "memory-would-pass-red-line",
        "stale-hot-left-to-capacity",
        "exporter-down-left-to-capacity",
        "placements-since-scrape-count",
        "same-host-without-recent-placements",
    ],
)
def test_hot_host_filter(
    host_metrics: object, recent: list[tuple[int, int]], passes: bool
) -> None:
    allocations = [
        running(vm(f"new/{i}", c, r), "h", at=NOW - 10)
        for i, (c, r) in enumerate(recent)
    ]
    reason = judge(
        HotHostFilter(),
        host("h"),
        vm("t/a", 2, 2048),
        allocations=allocations,
        snap=snapshot(host_metrics),  # type: ignore[arg-type]
    )

    assert (reason is None) is passes
    if not passes:
        assert reason is not None and "red line" in reason
