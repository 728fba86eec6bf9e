"""The scheduler over the example spec, and its CLI command."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from citycloud.cli import main
from citycloud.scheduler import PRIORITY_RANKS, Scheduler
from citycloud.scheduler.inputs import hosts_from_spec, workloads_from_spec
from citycloud.spec import load_spec


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
