"""The scheduler as a whole: order, displacement, staleness, records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citycloud.scheduler import (
    PRIORITY_RANKS,
    FakeClock,
    JsonLinesRecorder,
    ListRecorder,
    MetricsSnapshot,
    Scheduler,
    Settings,
)
from tests.unit.scheduler.sched_helpers import (
    NOW,
    host,
    metrics,
    running,
    scheduler,
    snapshot,
    vm,
)

CRITICAL = PRIORITY_RANKS["critical"]
NORMAL = PRIORITY_RANKS["normal"]
BATCH = PRIORITY_RANKS["batch"]


def test_critical_workload_is_placed_before_a_batch_one_listed_first() -> None:
    # Room for one 8 GiB VM only.
    batch = vm("etl/job", 4, 8192, priority=BATCH)
    critical = vm("dispatch/cmd", 4, 8192, priority=CRITICAL)

    result = scheduler().schedule([host("cn-01")], [batch, critical])

    assert result.placements == {"dispatch/cmd": "cn-01"}
    assert result.unplaced == ["etl/job"]
    assert [d.workload.key for d in result.decisions] == ["dispatch/cmd", "etl/job"]


def test_hot_host_gets_no_new_workload() -> None:
    hosts = [host("cn-01"), host("cn-02"), host("cn-03")]
    snap = snapshot(
        metrics("cn-01", 0.95, 0.5),
        metrics("cn-02", 0.3, 0.3),
        metrics("cn-03", 0.3, 0.3),
    )

    result = scheduler().schedule(
        hosts, [vm(f"t/{i}", 1, 512) for i in range(6)], metrics=snap
    )

    assert "cn-01" not in result.placements.values()
    assert len(result.placements) == 6
    hot = result.decisions[0].filters[-1]
    assert hot.name == "hot" and "cn-01" in hot.rejected


def test_packing_fills_one_host_up_to_the_target_before_the_next() -> None:
    hosts = [host("cn-01"), host("cn-02")]
    snap = snapshot(metrics("cn-01", 0.1, 0.1), metrics("cn-02", 0.1, 0.1))

    result = scheduler().schedule(
        hosts, [vm(f"t/{i}", 1, 1024) for i in range(3)], metrics=snap
    )

    assert set(result.placements.values()) == {"cn-01"}


def test_compensation_stops_herding_onto_one_host_between_scrapes() -> None:
    # Without compensation every VM would go to the host that looked best at
    # the scrape, far beyond its target.
    hosts = [host("cn-01"), host("cn-02")]
    snap = snapshot(metrics("cn-01", 0.5, 0.5), metrics("cn-02", 0.1, 0.1))

    result = scheduler().schedule(
        hosts, [vm(f"t/{i}", 1, 1024) for i in range(4)], metrics=snap
    )

    assert set(result.placements.values()) == {"cn-01", "cn-02"}
    last = result.decisions[-1]
    assert any("placed since the scrape" in s.parts["load"][2] for s in last.scores)


@pytest.mark.parametrize(
    "snap",
    [
        MetricsSnapshot.empty("ConnectionError: refused"),
        snapshot(),
        snapshot(metrics("cn-01", 0.2, 0.2, age_s=3600)),
    ],
    ids=["source-unreachable", "no-series", "all-stale"],
)
def test_scheduling_goes_on_without_usable_metrics(snap: MetricsSnapshot) -> None:
    result = scheduler().schedule([host("cn-01")], [vm("t/a")], metrics=snap)

    decision = result.decisions[0]
    assert result.placements == {"t/a": "cn-01"}
    assert decision.stale_hosts["cn-01"]
    assert decision.scores[0].usage_source == "allocations"
    assert decision.to_dict()["stale_hosts"]["cn-01"]


def test_a_stale_host_is_named_as_such_in_the_decision() -> None:
    hosts = [host("cn-01"), host("cn-02")]
    snap = snapshot(metrics("cn-01", 0.2, 0.2), metrics("cn-02", 0.2, 0.2, age_s=500))

    decision = scheduler().schedule(hosts, [vm("t/a")], metrics=snap).decisions[0]

    assert list(decision.stale_hosts) == ["cn-02"]
    assert "500s old" in decision.stale_hosts["cn-02"]


@pytest.mark.parametrize(
    ("victim_priority", "preemptible", "displaced"),
    [
        (BATCH, True, True),
        (BATCH, False, False),
        (CRITICAL, True, False),
        (NORMAL, True, True),
    ],
    ids=[
        "preemptible-batch-displaced",
        "batch-without-preemption-flag-kept",
        "equal-priority-kept",
        "preemptible-normal-displaced",
    ],
)
def test_displacement_only_where_the_spec_allows_it(
    victim_priority: int, preemptible: bool, displaced: bool
) -> None:
    victim = vm("etl/job", 4, 8192, priority=victim_priority, preemptible=preemptible)
    critical = vm("dispatch/cmd", 4, 8192, priority=CRITICAL)

    result = scheduler().schedule(
        [host("cn-01")], [critical], allocations=[running(victim, "cn-01")]
    )

    assert (result.placements.get("dispatch/cmd") == "cn-01") is displaced
    assert (result.displaced == ["etl/job"]) is displaced
    if displaced:
        first = result.decisions[0].to_dict()
        assert first["displaced"][0]["workload"] == "etl/job"
        assert "etl/job" in result.unplaced  # nowhere else to go
    else:
        assert result.unplaced == ["dispatch/cmd"]


def test_displaced_workload_moves_to_another_host_when_one_has_room() -> None:
    hosts = [host("cn-01"), host("cn-02", dedicated_to=frozenset({"etl"}))]
    victim = vm("etl/job", 4, 8192, priority=BATCH, preemptible=True)
    critical = vm("dispatch/cmd", 4, 8192, priority=CRITICAL)

    result = scheduler().schedule(
        hosts, [critical], allocations=[running(victim, "cn-01")]
    )

    assert result.placements == {"dispatch/cmd": "cn-01", "etl/job": "cn-02"}
    assert "displaced from cn-01" in result.decisions[1].reason


def test_displacement_takes_the_fewest_least_important_workloads() -> None:
    small = [
        running(vm(f"etl/{i}", 1, 2048, priority=BATCH, preemptible=True), "cn-01")
        for i in range(4)
    ]
    low = running(
        vm("web/x", 2, 4096, priority=PRIORITY_RANKS["low"], preemptible=True), "cn-02"
    )
    big = running(
        vm("web/y", 2, 4096, priority=PRIORITY_RANKS["low"], preemptible=True), "cn-02"
    )

    result = scheduler().schedule(
        [host("cn-01"), host("cn-02")],
        [vm("dispatch/cmd", 2, 4096, priority=CRITICAL)],
        allocations=[*small, low, big],
    )

    assert result.placements["dispatch/cmd"] == "cn-01"
    assert len(result.decisions[0].displaced) == 2
    assert all(d.workload.priority == BATCH for d in result.decisions[0].displaced)


def test_every_decision_explains_each_filter_and_weigher_and_is_json() -> None:
    recorder = ListRecorder()
    hosts = [host("cn-01"), host("cn-02", maintenance=True)]
    sched = scheduler(recorder=recorder)

    sched.schedule(hosts, [vm("t/a")], metrics=snapshot(metrics("cn-01", 0.2, 0.2)))

    entry = json.loads(json.dumps(recorder.entries[0]))
    assert [f["name"] for f in entry["filters"]] == [
        "maintenance",
        "tenant_restrictions",
        "spread",
        "capacity",
        "hot",
    ]
    assert entry["filters"][0]["rejected"] == {"cn-02": "host in maintenance"}
    assert set(entry["scores"][0]["weighers"]) == {"load", "risk"}
    assert entry["host"] == "cn-01" and entry["outcome"] == "placed"


def test_shadow_mode_reports_and_flags_every_record(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    sched = scheduler(recorder=JsonLinesRecorder(path), shadow=True)

    result = sched.schedule([host("cn-01")], [vm("t/a"), vm("t/b")])

    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert result.shadow and result.to_dict()["shadow"]
    assert [x["shadow"] for x in lines] == [True, True]


def test_chinese_names_survive_the_record(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    sched = scheduler(recorder=JsonLinesRecorder(path))

    sched.schedule([host("赤峰-01")], [vm("应急指挥/调度", tenant="应急指挥")])

    assert "赤峰-01" in path.read_text(encoding="utf-8")


def test_decisions_carry_the_fake_clock_time() -> None:
    clock = FakeClock(NOW)
    sched = Scheduler(clock=clock)
    clock.advance(42)

    result = sched.schedule([host("cn-01")], [vm("t/a")])

    assert result.decisions[0].decided_at == NOW + 42


def test_large_clusters_can_be_decided_on_a_rotating_share_of_hosts() -> None:
    hosts = [host(f"cn-{i:02d}") for i in range(10)]
    hosts[1] = host("cn-01", maintenance=True)
    sched = scheduler(settings=Settings(max_candidates=3))

    result = sched.schedule(hosts, [vm(f"t/{i}", 1, 512) for i in range(4)])

    first, second = result.decisions[0], result.decisions[1]
    assert first.candidates == 3
    assert {s.host for s in first.scores} == {"cn-00", "cn-02", "cn-03"}
    assert first.filters[0].rejected == {"cn-01": "host in maintenance"}
    assert [f.passed for f in first.filters] == [3, 3, 3, 3, 3]
    assert {s.host for s in second.scores} == {"cn-04", "cn-05", "cn-06"}
    assert len(result.placements) == 4
