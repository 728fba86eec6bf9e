"""The scheduler fed by a real Prometheus scraping per-host exporters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from citycloud.scheduler import (
    PRIORITY_RANKS,
    Host,
    MetricsSnapshot,
    Resources,
    Scheduler,
    Workload,
)
from tests.fakes.node_exporter import FakeNodeExporter

pytestmark = pytest.mark.integration

Wait = Callable[[Callable[[MetricsSnapshot], bool]], MetricsSnapshot]


def hosts() -> list[Host]:
    return [
        Host(name, rack, vcpus=10, ram_mb=8192, disk_gb=100)
        for name, rack in (("cn-01", "r1"), ("cn-02", "r1"), ("cn-03", "r2"))
    ]


def vm(
    key: str, vcpus: int = 2, ram_mb: int = 2048, priority: str = "normal"
) -> Workload:
    tenant, app = key.split("/")[:2]
    return Workload(
        key, tenant, app, Resources(vcpus, ram_mb, 10), PRIORITY_RANKS[priority]
    )


def test_a_host_made_hot_receives_no_new_workload(
    cool_hosts: dict[str, FakeNodeExporter], wait_for: Wait
) -> None:
    cool_hosts["cn-01"].node.set(cpu=0.97, memory=0.95)
    snap = wait_for(
        lambda s: (
            (m := s.hosts.get("cn-01")) is not None
            and (m.memory_utilisation or 0) > 0.9
            and (m.cpu_utilisation or 0) > 0.9
        )
    )

    result = Scheduler().schedule(
        hosts(), [vm(f"city/web/{i}", 1, 1024) for i in range(4)], metrics=snap
    )

    assert len(result.placements) == 4
    assert "cn-01" not in result.placements.values()
    assert all("cn-01" in d.filters[-1].rejected for d in result.decisions)
    assert not result.decisions[0].stale_hosts


def test_a_host_whose_exporter_stops_is_handled_as_stale(
    cool_hosts: dict[str, FakeNodeExporter], wait_for: Wait
) -> None:
    cool_hosts["cn-03"].stop()
    snap = wait_for(lambda s: (m := s.hosts.get("cn-03")) is not None and m.up is False)

    result = Scheduler().schedule(hosts(), [vm("city/web/0")], metrics=snap)

    decision = result.decisions[0]
    assert decision.placed
    assert "exporter down" in decision.stale_hosts["cn-03"]
    by_host = {s.host: s for s in decision.scores}
    assert by_host["cn-03"].usage_source == "allocations"
    assert by_host["cn-01"].usage_source == "metrics"


def test_a_critical_workload_is_placed_before_a_batch_one(
    cool_hosts: dict[str, FakeNodeExporter], wait_for: Wait
) -> None:
    # Two hosts hot: only cn-03 is left, with room for one of the two.
    cool_hosts["cn-01"].node.set(memory=0.95)
    cool_hosts["cn-02"].node.set(memory=0.95)
    snap = wait_for(
        lambda s: all(
            (s.hosts[h].memory_utilisation or 0) > 0.9 for h in ("cn-01", "cn-02")
        )
    )
    batch = vm("stats/etl/0", 4, 6144, priority="batch")
    critical = vm("dispatch/cmd/0", 4, 6144, priority="critical")

    result = Scheduler().schedule(hosts(), [batch, critical], metrics=snap)

    assert result.placements == {"dispatch/cmd/0": "cn-03"}
    assert result.unplaced == ["stats/etl/0"]
    assert result.decisions[0].workload.key == "dispatch/cmd/0"


def test_no_prometheus_at_all_does_not_stop_scheduling() -> None:
    from citycloud.scheduler.prometheus import PrometheusSource

    snap = PrometheusSource("http://127.0.0.1:9", timeout_s=1).snapshot()

    result = Scheduler().schedule(hosts(), [vm("city/web/0")], metrics=snap)

    assert snap.error
    assert result.placements
    assert result.metrics_note and "metrics unavailable" in result.metrics_note
