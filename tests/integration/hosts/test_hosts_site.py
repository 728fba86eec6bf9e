"""`citycloud hosts apply|check|verify` on real disposable Debian hosts.

Four hosts, one per role, are overlay roots made by the test; a fifth is an
SSH target on a closed loopback port, so it can never be reached. The first
apply changes every reachable host, the second changes nothing, testinfra's
checks pass, a drifted file shows up in check mode with its diff, and the
unreachable host is reported every time while the others finish.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from citycloud.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEC = """\
city: {name: 赤峰市, code: "1504", slug: chifeng}
datacenter:
  name: dc-test
  regions: [{name: RegionOne}]
  racks:
    - {name: r01, region: RegionOne, zone: az1}
    - {name: r02, region: RegionOne, zone: az2}
  hosts:
    - {name: ctl-01, rack: r01, role: controller, address: 10.10.1.11,
       cpu: 8, ram_gb: 32, disk_gb: 100}
    - {name: cn-01, rack: r01, role: compute, address: 10.10.1.21,
       cpu: 8, ram_gb: 32, disk_gb: 100}
    - {name: st-01, rack: r02, role: storage, address: 10.10.2.31,
       cpu: 8, ram_gb: 32, disk_gb: 100}
    - {name: mon-01, rack: r02, role: monitoring, address: 10.10.2.41,
       cpu: 8, ram_gb: 32, disk_gb: 100}
    - {name: cn-09, rack: r02, role: compute, address: 10.10.2.29,
       cpu: 8, ram_gb: 32, disk_gb: 100}
"""
REACHABLE = ("ctl-01", "cn-01", "st-01", "mon-01")
UNREACHABLE = "cn-09"
OPS_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz4cOmEv8X0Vd7sUx1J1iVzPpQuB3n4cI0o0Xq8kTnE"
    " ops@citycloud"
)

# What a person would find on this machine if a run leaked out of the roots.
MACHINE_FILES = (
    "/etc/ssh/sshd_config.d/60-citycloud.conf",
    "/etc/sudoers.d/citycloud-ops",
    "/etc/sysctl.d/60-citycloud-base.conf",
    "/etc/modules-load.d/citycloud-compute.conf",
)


@pytest.fixture(scope="module")
def setup(disposable_hosts: dict[str, Any], tmp_path_factory: Any) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("hosts-site")
    (folder / "spec.yaml").write_text(SPEC, "utf-8")
    connection: dict[str, Any] = {
        name: {
            "ansible_connection": "community.general.chroot",
            "ansible_host": str(disposable_hosts[name].root),
        }
        for name in REACHABLE
    }
    connection[UNREACHABLE] = {
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
    }
    (folder / "connection.yml").write_text(json.dumps(connection), "utf-8")
    variables = {
        "base_ops_users": [
            {"name": "ops-zhang", "comment": "张工", "ssh_keys": [OPS_KEY]}
        ],
        # The golden root's package lists may be older than a day when the run
        # folder is reused; the roles' packages are in every host's cache.
        "base_apt_cache_valid_time": 30 * 86400,
    }
    (folder / "vars.yml").write_text(json.dumps(variables, ensure_ascii=False), "utf-8")
    return {
        "folder": folder,
        "roots": {name: disposable_hosts[name].root for name in REACHABLE},
        "machine_files": {p: Path(p).exists() for p in MACHINE_FILES},
        "hostname": Path("/etc/hostname").read_text(),
    }


def hosts_command(
    setup: dict[str, Any], verb: str, *extra: str
) -> tuple[int, dict[str, Any]]:
    folder: Path = setup["folder"]
    args = [
        "--lang",
        "en",
        "hosts",
        verb,
        str(folder / "spec.yaml"),
        "--connection",
        str(folder / "connection.yml"),
        "--vars",
        str(folder / "vars.yml"),
        "--json",
        *extra,
    ]
    if verb != "verify":
        args += ["--work-dir", str(folder / "work"), "--keep-artifacts", "2"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {name: host["status"] for name, host in report["hosts"].items()}


def test_first_apply_changes_every_reachable_host(setup: dict[str, Any]) -> None:
    code, report = hosts_command(setup, "apply")

    assert code == 4  # one host could not be reached
    assert statuses(report) == {
        **dict.fromkeys(REACHABLE, "changed"),
        UNREACHABLE: "unreachable",
    }
    assert "Connection refused" in " ".join(report["hosts"][UNREACHABLE]["errors"])
    assert (
        "Ensure the SSH daemon is hardened" in report["hosts"]["cn-01"]["changed_tasks"]
    )
    assert (
        "Ensure the virtualisation packages are installed"
        in (report["hosts"]["cn-01"]["changed_tasks"])
    )


def test_second_apply_changes_nothing(setup: dict[str, Any]) -> None:
    code, report = hosts_command(setup, "apply")

    assert code == 4
    assert statuses(report) == {
        **dict.fromkeys(REACHABLE, "ok"),
        UNREACHABLE: "unreachable",
    }
    assert all(report["hosts"][name]["changed"] == 0 for name in REACHABLE)


def test_testinfra_checks_pass_on_every_reachable_host(setup: dict[str, Any]) -> None:
    code, report = hosts_command(setup, "verify")

    assert code == 4
    for name in REACHABLE:
        host = report["hosts"][name]
        assert host["ok"], host["failures"]
        assert host["passed"] >= 15
    unreachable = report["hosts"][UNREACHABLE]
    assert not unreachable["ok"]
    assert "cannot be reached" in unreachable["failures"][0]["message"]


def test_check_mode_shows_drift_with_its_diff_and_changes_nothing(
    setup: dict[str, Any],
) -> None:
    dropin = setup["roots"]["cn-01"] / "etc/ssh/sshd_config.d/60-citycloud.conf"
    dropin.write_text(
        dropin.read_text().replace("PermitRootLogin no", "PermitRootLogin yes")
    )

    code, report = hosts_command(setup, "check", "--limit", "cn-01,st-01")

    assert code == 0
    assert statuses(report) == {"cn-01": "changed", "st-01": "ok"}
    diffs = [d["diff"] for d in report["hosts"]["cn-01"]["diffs"]]
    assert any(
        "-PermitRootLogin yes" in d and "+PermitRootLogin no" in d for d in diffs
    )
    assert "PermitRootLogin yes" in dropin.read_text()  # check mode changed nothing


def test_runs_left_nothing_behind(setup: dict[str, Any], processes_inside: Any) -> None:
    artifacts = setup["folder"] / "work" / "artifacts"
    assert len([p for p in artifacts.iterdir() if p.is_dir()]) == 2  # rotated
    assert processes_inside(list(setup["roots"].values())) == []
    assert {p: Path(p).exists() for p in MACHINE_FILES} == setup["machine_files"]
    assert Path("/etc/hostname").read_text() == setup["hostname"]
    assert not any((setup["folder"] / "work").glob("ansible-home-*"))
