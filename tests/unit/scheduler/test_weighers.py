"""Each weigher alone, and the compensation and staleness they rely on."""

from __future__ import annotations

import pytest

from citycloud.scheduler import HostMetrics, Settings
from citycloud.scheduler.model import Allocation
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import ClusterState
from citycloud.scheduler.usage import estimate
from citycloud.scheduler.weighers import LoadWeigher, RiskWeigher
from tests.unit.scheduler.sched_helpers import NOW, host, metrics, running, snapshot, vm


def weigh(
    weigher: object,
    host_metrics: HostMetrics | None,
    allocations: list[Allocation] | None = None,
    settings: Settings | None = None,
) -> tuple[float, str]:
    cluster = ClusterState([host("h")], allocations or [], NOW)
    snap = snapshot(host_metrics) if host_metrics else snapshot()
    ctx = Context(NOW, cluster, snap.hosts, settings or Settings())
    state, workload = cluster.hosts["h"], vm("t/a", 2, 2048)
    score = weigher.weigh(state, workload, ctx)  # type: ignore[attr-defined]
    return score, weigher.explain(state, workload, ctx)  # type: ignore[attr-defined]


def test_load_weigher_packs_up_to_the_target() -> None:
    emptier, _ = weigh(LoadWeigher(), metrics("h", 0.1, 0.1))
    fuller, _ = weigh(LoadWeigher(), metrics("h", 0.3, 0.3))

    assert fuller > emptier > 0


def test_load_weigher_prefers_emptier_hosts_beyond_the_target() -> None:
    above, _ = weigh(LoadWeigher(), metrics("h", 0.6, 0.6))
    further, _ = weigh(LoadWeigher(), metrics("h", 0.6, 0.75))

    assert 0 > above > further


@pytest.mark.parametrize(
    ("stddev", "expected"),
    [(None, 0.0), (0.0, 0.0), (0.1, -0.5), (0.4, -1.0)],
    ids=["no-data-neutral", "steady", "half-scale", "beyond-scale-capped"],
)
def test_risk_weigher_penalises_variation(
    stddev: float | None, expected: float
) -> None:
    score, note = weigh(RiskWeigher(), metrics("h", 0.3, 0.3, cpu_stddev=stddev))

    assert score == pytest.approx(expected)
    assert note


def test_risk_weigher_is_neutral_on_stale_hosts() -> None:
    score, note = weigh(RiskWeigher(), metrics("h", 0.3, 0.3, 999, cpu_stddev=0.3))

    assert score == 0.0
    assert "no fresh" in note


@pytest.mark.parametrize(
    ("placed_ago_s", "sample_age_s", "counted"),
    [(10, 30, True), (60, 30, False)],
    ids=["placed-after-scrape-counted", "placed-before-scrape-already-seen"],
)
def test_compensation_adds_placements_prometheus_has_not_seen(
    placed_ago_s: float, sample_age_s: float, counted: bool
) -> None:
    cluster = ClusterState(
        [host("h")], [running(vm("x/1", 4, 4096), "h", at=NOW - placed_ago_s)]
    )
    usage = estimate(
        cluster.hosts["h"], metrics("h", 0.1, 0.1, sample_age_s), NOW, 120, 1.0
    )

    assert usage.source == "metrics"
    assert (usage.memory == pytest.approx(0.6)) is counted
    assert (usage.compensated.vcpus == 4) is counted


@pytest.mark.parametrize(
    ("host_metrics", "source", "note"),
    [
        (metrics("h", 0.9, 0.9, age_s=5), "metrics", ""),
        (metrics("h", 0.9, 0.9, age_s=121), "allocations", "121s old"),
        (metrics("h", None, None, age_s=5), "allocations", "no current samples"),
        (metrics("h", 0.9, 0.9, up=False), "allocations", "exporter down"),
        (None, "allocations", "no metrics"),
    ],
    ids=["fresh", "older-than-limit", "series-gone", "exporter-down", "never-seen"],
)
def test_stale_hosts_are_judged_from_allocations(
    host_metrics: HostMetrics | None, source: str, note: str
) -> None:
    cluster = ClusterState([host("h")], [running(vm("x/1", 2, 4096), "h")])
    usage = estimate(cluster.hosts["h"], host_metrics, NOW, 120, 1.0)

    assert usage.source == source
    assert note in usage.note
    if source == "allocations":
        assert usage.memory == pytest.approx(0.5)
