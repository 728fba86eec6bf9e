"""Binding a run's placements (a fake binder and a fake Placement)."""

from __future__ import annotations

from typing import Any

import pytest

from citycloud.errors import PermanentError
from citycloud.scheduler import PRIORITY_RANKS, Workload
from citycloud.scheduler.binding import (
    CREATE,
    EVICT,
    OFFLOADED,
    SERVER_ID,
    UNSHELVE,
    Binding,
    OpenStackBinder,
    ShadowModeError,
    bind_placements,
    merge_hosts,
    read_cloud,
    read_placement,
)
from tests.unit.scheduler.fake_cloud import (
    FakeCompute,
    FakePlacement,
    RecordingBinder,
    ScriptedNova,
    fake_conn,
    namespace,
    server,
)
from tests.unit.scheduler.sched_helpers import host, running, scheduler, vm


def test_placed_workloads_are_bound_in_decision_order() -> None:
    result = scheduler().schedule(
        [host("cn-01")],
        [vm("etl/a", priority=PRIORITY_RANKS["batch"]), vm("cmd/b", priority=400)],
    )
    binder = RecordingBinder()

    bindings = bind_placements(result, binder)

    assert binder.calls == [(CREATE, "cmd/b", "cn-01"), (CREATE, "etl/a", "cn-01")]
    assert all(b.verified for b in bindings)


def test_a_server_on_another_host_is_not_verified() -> None:
    result = scheduler().schedule([host("cn-01")], [vm("t/a")])

    (binding,) = bind_placements(result, RecordingBinder(misplace=True))

    assert not binding.verified
    assert binding.to_dict()["verified"] is False


def test_a_shadow_run_is_never_bound() -> None:
    result = scheduler(shadow=True).schedule([host("cn-01")], [vm("t/a")])

    with pytest.raises(ShadowModeError):
        bind_placements(result, RecordingBinder())


def displaced_run(second_host: bool) -> tuple[Any, Workload]:
    """A critical workload that only fits on cn-01 once a running batch
    server (preemptible, with its server id) leaves it."""
    victim = vm(
        "etl/x", 4, 8192, priority=0, preemptible=True, extra={SERVER_ID: "id-9"}
    )
    hosts = [host("cn-01")] + ([host("cn-02", vcpus=4)] if second_host else [])
    allocations = [running(victim, "cn-01")]
    if second_host:
        allocations.append(running(vm("keep/z", 0, 0, priority=400), "cn-02"))
    critical = vm("cmd/y", 4, 8192, priority=400, allowed_hosts=frozenset({"cn-01"}))
    return scheduler().schedule(hosts, [critical], allocations), victim


def test_a_displaced_server_is_evicted_before_its_host_is_used() -> None:
    result, _ = displaced_run(second_host=False)
    binder = RecordingBinder()

    bindings = bind_placements(result, binder)

    assert binder.calls == [(EVICT, "etl/x", "cn-01"), (CREATE, "cmd/y", "cn-01")]
    assert result.unplaced == ["etl/x"]
    assert [b.verified for b in bindings] == [True, True]


def test_a_displaced_server_placed_again_is_unshelved_not_created_twice() -> None:
    result, _ = displaced_run(second_host=True)
    binder = RecordingBinder()

    bind_placements(result, binder)

    assert binder.calls == [
        (EVICT, "etl/x", "cn-01"),
        (CREATE, "cmd/y", "cn-01"),
        (UNSHELVE, "etl/x", "cn-02"),
    ]


def test_binding_stops_when_an_eviction_does_not_free_the_host() -> None:
    result, _ = displaced_run(second_host=True)
    binder = RecordingBinder(stuck=True)

    bindings = bind_placements(result, binder)

    assert binder.calls == [(EVICT, "etl/x", "cn-01")]
    assert [b.verified for b in bindings] == [False]


def test_an_eviction_is_verified_only_once_offloaded() -> None:
    def evicted(status: str, actual: str | None) -> Binding:
        return Binding("t/a", "cn-01", "id", "t-a", actual, status, EVICT)

    assert evicted(OFFLOADED, None).verified
    assert not evicted("SHELVED", "cn-01").verified
    assert not evicted("ACTIVE", "cn-01").verified
    assert evicted(OFFLOADED, None).to_dict()["action"] == "evict"


def test_placement_gives_hosts_ratios_and_usage() -> None:
    conn = namespace(placement=FakePlacement())

    hosts, usage = read_placement(conn)

    by_name = {h.name: h for h in hosts}
    assert set(by_name) == {"cn-01", "cn-02"}
    assert by_name["cn-01"].capacity.vcpus == 40
    assert by_name["cn-01"].capacity.ram_mb == 7680
    assert [(a.host, a.workload.resources.ram_mb) for a in usage] == [("cn-01", 1024)]
    assert not usage[0].workload.preemptible


def test_the_cloud_is_read_as_running_waiting_and_new_workloads() -> None:
    running_vm = vm("etl/a", priority=0, preemptible=True, extra={"name": "etl-a"})
    shelved_vm = vm("etl/b", priority=0, preemptible=True, extra={"name": "etl-b"})
    new_vm = vm("cmd/c", priority=400, extra={"name": "cmd-c"})
    twice_vm = vm("gis/d", extra={"name": "gis-d"})
    placement = FakePlacement(
        {
            "rp-1": {
                "vm-a": {"VCPU": 2, "MEMORY_MB": 1024},
                "stranger": {"VCPU": 1, "MEMORY_MB": 512},
            },
            "rp-2": {
                "vm-d1": {"VCPU": 1, "MEMORY_MB": 256},
                "vm-d2": {"VCPU": 1, "MEMORY_MB": 256},
            },
            "rp-3": {},
        }
    )
    compute = FakeCompute(
        [
            server("vm-a", "etl-a", "ACTIVE", "2026-12-03T10:00:00.000000"),
            server("vm-b", "etl-b", OFFLOADED),
            server("vm-d1", "gis-d", "ACTIVE"),
            server("vm-d2", "gis-d", "ACTIVE"),
            server("stranger", "not-in-spec", "ACTIVE"),
        ]
    )

    live = read_cloud(
        fake_conn(placement, compute),
        [running_vm, shelved_vm, new_vm, twice_vm],
    )

    assert [w.key for w in live.pending] == ["etl/b", "cmd/c"]
    assert live.pending[0].extra[SERVER_ID] == "vm-b"
    assert SERVER_ID not in live.pending[1].extra
    assert sorted(live.existing) == ["etl/a", "gis/d"]
    by_key = {(a.workload.key, a.host): a for a in live.allocations}
    mine = by_key[("etl/a", "cn-01")]
    assert mine.workload.preemptible and mine.workload.extra[SERVER_ID] == "vm-a"
    assert mine.workload.resources.vcpus == 2
    assert mine.placed_at == 1_796_292_000.0  # launched_at, read as UTC
    # Servers the spec does not name, and names two servers share, are
    # fixed usage that nothing displaces.
    assert by_key[("placement-usage/cn-01", "cn-01")].workload.resources.vcpus == 1
    assert by_key[("placement-usage/cn-02", "cn-02")].workload.resources.vcpus == 2


def test_only_the_chosen_workloads_are_pending() -> None:
    a = vm("etl/a", extra={"name": "etl-a"})
    b = vm("cmd/b", extra={"name": "cmd-b"})
    conn = fake_conn(FakePlacement(), FakeCompute([]))

    live = read_cloud(conn, [a, b], place=["cmd/b"])

    assert [w.key for w in live.pending] == ["cmd/b"]


def test_live_hosts_keep_the_spec_rack_and_maintenance() -> None:
    spec = [host("cn-01", rack="r07", maintenance=True), host("gone")]
    live = [host("cn-01", vcpus=20), host("cn-09")]

    merged = {h.name: h for h in merge_hosts(spec, live)}

    assert set(merged) == {"cn-01", "cn-09"}
    assert merged["cn-01"].rack == "r07" and merged["cn-01"].maintenance
    assert merged["cn-01"].vcpus == 20


def test_bindings_made_before_a_failure_are_reported() -> None:
    result, _ = displaced_run(second_host=True)
    seen: list[Binding] = []

    class FailingOnCreate(RecordingBinder):
        def bind(self, workload: Workload, host: str) -> Binding:
            raise PermanentError("openstack", f"create {workload.key}: quota")

    with pytest.raises(PermanentError):
        bind_placements(result, FailingOnCreate(), seen.append)

    assert [(b.action, b.workload) for b in seen] == [(EVICT, "etl/x")]


def test_a_same_named_server_of_another_project_is_not_the_workloads() -> None:
    # The spec's preemptible etl-a belongs to project etl; a server of that
    # name in a project the spec does not name must never be shelved or
    # unshelved as if it were the workload's, nor stop etl-a being created.
    mine = vm(
        "etl/a", priority=0, preemptible=True, extra={"name": "etl-a", "project": "etl"}
    )
    waiting = vm("etl/b", priority=0, extra={"name": "etl-b", "project": "etl"})
    placement = FakePlacement(
        {"rp-1": {"vm-x": {"VCPU": 2, "MEMORY_MB": 1024}}, "rp-2": {}, "rp-3": {}}
    )
    compute = FakeCompute(
        [
            server("vm-x", "etl-a", "ACTIVE", project_id="p-other"),
            server("vm-y", "etl-b", OFFLOADED, project_id="p-other"),
        ]
    )
    conn = fake_conn(placement, compute, {"etl": "p-etl", "other": "p-other"})

    live = read_cloud(conn, [mine, waiting])

    assert [w.key for w in live.pending] == ["etl/a", "etl/b"]
    assert all(SERVER_ID not in w.extra for w in live.pending)
    assert live.existing == []
    (usage,) = live.allocations
    assert usage.workload.key == "placement-usage/cn-01"
    assert not usage.workload.preemptible


def test_a_server_of_the_workloads_project_is_matched_by_name() -> None:
    mine = vm(
        "etl/a", priority=0, preemptible=True, extra={"name": "etl-a", "project": "etl"}
    )
    placement = FakePlacement(
        {"rp-1": {"vm-a": {"VCPU": 2, "MEMORY_MB": 1024}}, "rp-2": {}, "rp-3": {}}
    )
    compute = FakeCompute(
        [
            server("vm-a", "etl-a", "ACTIVE", project_id="p-etl"),
            server("vm-x", "etl-a", "ACTIVE", project_id="p-other"),
        ]
    )
    conn = fake_conn(placement, compute, {"etl": "p-etl", "other": "p-other"})

    live = read_cloud(conn, [mine])

    assert live.pending == [] and live.existing == ["etl/a"]
    (allocation,) = live.allocations
    assert allocation.workload.key == "etl/a"
    assert allocation.workload.extra[SERVER_ID] == "vm-a"


def test_a_server_left_shelved_on_its_host_may_still_be_evicted() -> None:
    # A run interrupted between shelve and offload (a cloud that keeps
    # shelved servers on their host) leaves the server SHELVED, holding its
    # host: the next run must still be able to free that host.
    batch = vm("etl/a", priority=0, preemptible=True, extra={"name": "etl-a"})
    placement = FakePlacement(
        {"rp-1": {"vm-a": {"VCPU": 2, "MEMORY_MB": 1024}}, "rp-2": {}, "rp-3": {}}
    )
    compute = FakeCompute([server("vm-a", "etl-a", "SHELVED")])

    live = read_cloud(fake_conn(placement, compute), [batch])

    (allocation,) = live.allocations
    assert allocation.workload.key == "etl/a" and allocation.workload.preemptible
    nova = ScriptedNova(
        [
            ("SHELVED", None, "cn-01"),
            ("SHELVED", None, "cn-01"),
            (OFFLOADED, None, None),
        ]
    )
    binder = OpenStackBinder(namespace(compute=nova), poll_s=0)

    eviction = binder.evict(allocation.workload, "cn-01")

    assert nova.actions == ["offload"]
    assert eviction.verified


def test_an_eviction_waits_until_nova_has_taken_the_server_off_its_host() -> None:
    # Nova reports SHELVED_OFFLOADED a moment before it clears the host.
    nova = ScriptedNova(
        [
            ("ACTIVE", None, "cn-01"),
            ("ACTIVE", "shelving", "cn-01"),
            ("SHELVED", "shelving_offloading", "cn-01"),
            (OFFLOADED, None, "cn-01"),
            (OFFLOADED, None, None),
        ]
    )
    binder = OpenStackBinder(namespace(compute=nova), poll_s=0)
    victim = vm("etl/a", priority=0, preemptible=True, extra={SERVER_ID: "vm-a"})

    eviction = binder.evict(victim, "cn-01")

    assert nova.actions == ["shelve"]
    assert eviction.verified, eviction


def test_servers_busy_with_a_task_are_neither_displaced_nor_unshelved() -> None:
    # Nova refuses to shelve a migrating server or to unshelve one that is
    # already being unshelved: planning either would abort the run halfway.
    moving = vm("etl/a", priority=0, preemptible=True, extra={"name": "etl-a"})
    coming = vm("etl/b", priority=0, preemptible=True, extra={"name": "etl-b"})
    placement = FakePlacement(
        {"rp-1": {"vm-a": {"VCPU": 2, "MEMORY_MB": 1024}}, "rp-2": {}, "rp-3": {}}
    )
    compute = FakeCompute(
        [
            server("vm-a", "etl-a", "ACTIVE", task_state="migrating"),
            server("vm-b", "etl-b", OFFLOADED, task_state="unshelving"),
        ]
    )

    live = read_cloud(fake_conn(placement, compute), [moving, coming])

    assert live.pending == []
    assert sorted(live.existing) == ["etl/a", "etl/b"]
    (usage,) = live.allocations
    assert usage.workload.key == "placement-usage/cn-01"


def test_a_server_shelved_meanwhile_is_only_waited_for() -> None:
    nova = ScriptedNova([(OFFLOADED, None, None)])
    binder = OpenStackBinder(namespace(compute=nova), poll_s=0)
    victim = vm("etl/a", priority=0, preemptible=True, extra={SERVER_ID: "vm-a"})

    eviction = binder.evict(victim, "cn-01")

    assert nova.actions == []
    assert eviction.verified


def test_a_server_not_matched_to_its_workload_is_never_evicted() -> None:
    # Only read_cloud's match (within the workload's project) names the
    # server; a lookup by name could find another project's.
    nova = ScriptedNova([("ACTIVE", None, "cn-01")])
    binder = OpenStackBinder(namespace(compute=nova), poll_s=0)

    with pytest.raises(PermanentError, match="etl/x"):
        binder.evict(vm("etl/x", preemptible=True), "cn-01")
    assert nova.actions == []
