"""The scheduler over the example spec, and its CLI command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from citycloud.adapters.openstack import engine as openstack_engine
from citycloud.cli import main
from citycloud.scheduler import PRIORITY_RANKS, Scheduler, binding
from citycloud.scheduler.binding import CREATE, EVICT
from citycloud.scheduler.inputs import hosts_from_spec, workloads_from_spec
from citycloud.spec import load_spec
from tests.unit.scheduler.fake_cloud import (
    ADMIN_PROJECT,
    FakeCompute,
    FakeIdentity,
    FakePlacement,
    RecordingBinder,
    server,
)


def test_spec_gives_compute_hosts_and_vm_servers(example_spec_dir: Path) -> None:
    spec = load_spec(example_spec_dir)

    hosts = hosts_from_spec(spec)
    workloads = workloads_from_spec(spec)

    assert hosts and all(h.name.startswith("cn-") for h in hosts)
    assert hosts[0].cpu_allocation_ratio == spec.datacenter.cpu_allocation_ratio
    batch = [w for w in workloads if w.tenant == "bigdata"]
    assert batch and all(w.preemptible for w in batch)
    assert all(w.priority == PRIORITY_RANKS["batch"] for w in batch)
    assert {w.replicas for w in batch} == {len(batch)}


def test_critical_tenants_are_decided_first_on_the_example(
    example_spec_dir: Path,
) -> None:
    spec = load_spec(example_spec_dir)
    result = Scheduler().schedule(hosts_from_spec(spec), workloads_from_spec(spec))

    ranks = [d.workload.priority for d in result.decisions]
    assert ranks == sorted(ranks, reverse=True)
    assert not result.unplaced


def test_schedule_command_in_shadow_mode_reports_and_records(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    record = tmp_path / "decisions.jsonl"

    outcome = CliRunner().invoke(
        main,
        [
            "--lang",
            "en",
            "schedule",
            str(example_spec_dir),
            "--shadow",
            "--json",
            "--record",
            str(record),
        ],
    )

    assert outcome.exit_code == 0, outcome.output
    run = json.loads(outcome.stdout)
    lines = record.read_text(encoding="utf-8").splitlines()
    assert run["shadow"] is True
    assert len(lines) == len(run["decisions"]) == len(run["placements"])
    assert "metrics unavailable" in run["metrics_note"]


def test_schedule_command_prints_one_line_per_workload(example_spec_dir: Path) -> None:
    outcome = CliRunner().invoke(
        main, ["--lang", "en", "schedule", str(example_spec_dir), "--tenant", "bigdata"]
    )

    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.count("bigdata/exchange-worker-") == 4
    assert "4 workloads: 4 placed" in outcome.stdout


def test_schedule_command_refuses_a_tenant_the_spec_does_not_have(
    example_spec_dir: Path,
) -> None:
    for wrong in ("风险防控", "risk,bigdata", "nosuch"):
        outcome = CliRunner().invoke(
            main, ["schedule", str(example_spec_dir), "--shadow", "--tenant", wrong]
        )

        assert outcome.exit_code == 2, outcome.output
        assert f"没有这些租户：{wrong}" in outcome.output
        assert "risk（风险防控）" in outcome.output


def test_schedule_command_says_a_container_tenant_has_nothing_to_place(
    example_spec_dir: Path,
) -> None:
    outcome = CliRunner().invoke(
        main,
        ["schedule", str(example_spec_dir), "--shadow", "--tenant", "grassroots"],
    )

    assert outcome.exit_code == 0, outcome.output
    assert "grassroots 是容器租户" in outcome.stderr
    assert "共 0 个工作负载" in outcome.stdout


def test_schedule_explain_names_each_workload_once(example_spec_dir: Path) -> None:
    outcome = CliRunner().invoke(
        main,
        [
            "schedule",
            str(example_spec_dir),
            "--shadow",
            "--explain",
            "--tenant",
            "bigdata",
        ],
    )

    assert outcome.exit_code == 0, outcome.output
    heads = [
        line
        for line in outcome.stdout.splitlines()
        if line.startswith("bigdata/exchange-worker-1 ")
    ]
    assert heads == ["bigdata/exchange-worker-1 → cn-01 [batch]"], heads
    assert "  filter spread:" in outcome.stdout


def test_schedule_without_a_cloud_says_nothing_was_created(
    example_spec_dir: Path,
) -> None:
    outcome = CliRunner().invoke(
        main, ["schedule", str(example_spec_dir), "--tenant", "bigdata"]
    )

    assert outcome.exit_code == 0, outcome.output
    assert "未指定 --cloud" in outcome.stderr


class FakeCloud:
    """Two 16-vCPU hosts, each full with one running batch worker of the
    example's preemptible bigdata tenant."""

    def __init__(self) -> None:
        worker = {"VCPU": 16, "MEMORY_MB": 65536, "DISK_GB": 200}
        self.placement = FakePlacement(
            {"rp-1": {"w1": worker}, "rp-2": {"w2": worker}, "rp-3": {}},
            size=(4, 65536 + 512, 200),
        )
        self.compute = FakeCompute(
            [
                server("w1", "bigdata-exchange-worker-1", "ACTIVE", project_id="p-bd"),
                server("w2", "bigdata-exchange-worker-2", "ACTIVE", project_id="p-bd"),
            ]
        )
        self.identity = FakeIdentity({"bigdata": "p-bd", "dispatch": "p-dispatch"})
        self.current_project_id = ADMIN_PROJECT


def schedule_on_fake_cloud(
    spec_dir: Path, monkeypatch: pytest.MonkeyPatch, lang: str, **binder: bool
) -> tuple[Any, list[RecordingBinder]]:
    """`citycloud schedule --cloud x --tenant dispatch` on FakeCloud, every
    binding recorded (RecordingBinder options in `binder`)."""
    binders: list[RecordingBinder] = []

    def make(conn: object) -> RecordingBinder:
        binders.append(RecordingBinder(conn, **binder))
        return binders[-1]

    monkeypatch.setattr(openstack_engine, "connect", lambda cloud: FakeCloud())
    monkeypatch.setattr(binding, "OpenStackBinder", make)
    outcome = CliRunner().invoke(
        main,
        [
            *("--lang", lang, "schedule", str(spec_dir)),
            *("--cloud", "x", "--tenant", "dispatch"),
        ],
    )
    return outcome, binders


def test_schedule_command_evicts_preemptible_servers_for_critical_ones(
    example_spec_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome, binders = schedule_on_fake_cloud(example_spec_dir, monkeypatch, "en")

    assert outcome.exit_code == 0, outcome.output
    (calls,) = [b.calls for b in binders]
    # Only dispatch is placed; bigdata's workers give way on both hosts and,
    # with no room left anywhere, wait shelved rather than being placed.
    evicted = [c for c in calls if c[0] == EVICT]
    assert {c[1] for c in evicted} == {
        "bigdata/exchange-worker-1",
        "bigdata/exchange-worker-2",
    }
    assert {c[1].split("/")[0] for c in calls if c[0] != EVICT} == {"dispatch"}
    first_create = next(i for i, c in enumerate(calls) if c[0] == CREATE)
    assert calls.index(evicted[0]) < first_create
    assert "Shelved and offloaded bigdata/exchange-worker-" in outcome.stdout
    assert "Created dispatch/command-dispatch-api-" in outcome.stdout
    assert "2 displaced" in outcome.stdout


def test_schedule_command_fails_when_an_eviction_does_not_free_a_host(
    example_spec_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome, _ = schedule_on_fake_cloud(example_spec_dir, monkeypatch, "en", stuck=True)

    assert outcome.exit_code == 1
    assert "Created" not in outcome.stdout
    assert "did not end as intended" in outcome.output
    # The failed eviction is not announced as done.
    assert "Shelved and offloaded" not in outcome.stdout
    assert "Could not free cn-0" in outcome.stdout
    assert "is ERROR" in outcome.stdout


def test_a_failed_eviction_is_reported_as_failed_in_chinese(
    example_spec_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome, _ = schedule_on_fake_cloud(example_spec_dir, monkeypatch, "zh", stuck=True)

    assert outcome.exit_code == 1
    assert "已搁置并卸载" not in outcome.stdout
    assert "未能释放主机 cn-0" in outcome.stdout


def test_the_audit_ledger_tells_decisions_from_what_was_done(
    example_spec_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from citycloud.store import StateStore
    from citycloud.store.audit import open_ledger

    state = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setattr(openstack_engine, "connect", lambda cloud: FakeCloud())
    monkeypatch.setattr(binding, "OpenStackBinder", RecordingBinder)

    outcome = CliRunner().invoke(
        main,
        [
            *("--lang", "en", "schedule", str(example_spec_dir)),
            *("--cloud", "x", "--tenant", "dispatch", "--audit", state),
        ],
    )

    assert outcome.exit_code == 0, outcome.output
    records = list(open_ledger(StateStore(state)).iter_records())
    actions = {(r.kind, r.action) for r in records}
    assert ("scheduler.decision", "decide") in actions
    assert {("scheduler.binding", "evict"), ("scheduler.binding", "create")} <= actions
    assert all(r.action != "place" for r in records)
