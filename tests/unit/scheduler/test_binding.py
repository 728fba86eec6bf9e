"""Binding a run's placements (a fake binder and a fake Placement)."""

from __future__ import annotations

from typing import Any

import pytest

from citycloud.scheduler import PRIORITY_RANKS, Workload
from citycloud.scheduler.binding import (
    Binding,
    ShadowModeError,
    bind_placements,
    merge_hosts,
    read_placement,
)
from tests.unit.scheduler.sched_helpers import host, running, scheduler, vm


class RecordingBinder:
    def __init__(self, misplace: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.misplace = misplace

    def bind(self, workload: Workload, host: str) -> Binding:
        self.calls.append((workload.key, host))
        actual = "elsewhere" if self.misplace else host
        return Binding(workload.key, host, "id-1", workload.key, actual, "ACTIVE")


def test_placed_workloads_are_bound_in_decision_order() -> None:
    result = scheduler().schedule(
        [host("cn-01")],
        [vm("etl/a", priority=PRIORITY_RANKS["batch"]), vm("cmd/b", priority=400)],
    )
    binder = RecordingBinder()

    bindings = bind_placements(result, binder)

    assert binder.calls == [("cmd/b", "cn-01"), ("etl/a", "cn-01")]
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


def test_displacing_running_servers_fails_loudly_until_eviction_exists() -> None:
    victim = vm("etl/x", 4, 8192, priority=0, preemptible=True)
    result = scheduler().schedule(
        [host("cn-01")],
        [vm("cmd/y", 4, 8192, priority=400)],
        [running(victim, "cn-01")],
    )
    binder = RecordingBinder()

    with pytest.raises(NotImplementedError, match="etl/x"):
        bind_placements(result, binder)
    assert binder.calls == []


class FakePlacement:
    def __init__(self) -> None:
        self.providers = {
            "rp-1": ("cn-01", {"VCPU": 2, "MEMORY_MB": 1024}),
            "rp-2": ("cn-02", {}),
        }

    def resource_providers(self) -> list[Any]:
        return [
            type("RP", (), {"id": k, "name": v[0]})() for k, v in self.providers.items()
        ]

    def get(self, url: str) -> Any:
        rp = url.split("/")[2]
        if url.endswith("inventories"):
            body = {
                "inventories": {
                    "VCPU": {"total": 10, "reserved": 0, "allocation_ratio": 4.0},
                    "MEMORY_MB": {
                        "total": 8192,
                        "reserved": 512,
                        "allocation_ratio": 1.0,
                    },
                    "DISK_GB": {"total": 100, "reserved": 0, "allocation_ratio": 1.0},
                }
            }
        else:
            body = {"usages": self.providers[rp][1]}
        return type("Response", (), {"json": lambda self: body})()


def test_placement_gives_hosts_ratios_and_usage() -> None:
    conn = type("Conn", (), {"placement": FakePlacement()})()

    hosts, usage = read_placement(conn)

    by_name = {h.name: h for h in hosts}
    assert by_name["cn-01"].capacity.vcpus == 40
    assert by_name["cn-01"].capacity.ram_mb == 7680
    assert [(a.host, a.workload.resources.ram_mb) for a in usage] == [("cn-01", 1024)]
    assert not usage[0].workload.preemptible


def test_live_hosts_keep_the_spec_rack_and_maintenance() -> None:
    spec = [host("cn-01", rack="r07", maintenance=True), host("gone")]
    live = [host("cn-01", vcpus=20), host("cn-09")]

    merged = {h.name: h for h in merge_hosts(spec, live)}

    assert set(merged) == {"cn-01", "cn-09"}
    assert merged["cn-01"].rack == "r07" and merged["cn-01"].maintenance
    assert merged["cn-01"].vcpus == 20
