"""`citycloud hosts` refuses what it cannot run safely, before Ansible starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ansible_runner
import pytest
from click.testing import CliRunner

from citycloud.adapters.ansible.hosts_verify import _read_junit, target_for
from citycloud.cli import main


@pytest.fixture(autouse=True)
def _no_ansible(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(**kwargs: Any) -> None:
        raise AssertionError("ansible-runner must not start")

    monkeypatch.setattr(ansible_runner, "run", never)


@pytest.mark.parametrize("verb", ["apply", "check", "verify"])
def test_switching_off_host_keys_is_refused(
    verb: str, example_spec_dir: Path, tmp_path: Path
) -> None:
    connection = tmp_path / "connection.yml"
    connection.write_text(
        "cn-01: {ansible_ssh_common_args: '-o StrictHostKeyChecking=no'}\n", "utf-8"
    )

    result = CliRunner().invoke(
        main,
        [
            "--lang",
            "en",
            "hosts",
            verb,
            str(example_spec_dir),
            "--connection",
            str(connection),
        ],
    )

    assert result.exit_code == 1
    assert "hosts.cn-01.ansible_ssh_common_args" in result.stderr
    assert "host key checking" in result.stderr


def test_unreadable_vars_file_names_the_file(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "vars.yml"
    bad.write_text("- just\n- a list\n", "utf-8")

    result = CliRunner().invoke(
        main,
        ["--lang", "en", "hosts", "check", str(example_spec_dir), "--vars", str(bad)],
    )

    assert result.exit_code == 1
    assert f"{bad}: vars: expected a mapping" in result.stderr


@pytest.mark.parametrize(
    ("host_vars", "target"),
    [
        (
            {"ansible_connection": "community.general.chroot", "ansible_host": "/r/a"},
            {"connection": "chroot", "spec": "/r/a"},
        ),
        (
            {"ansible_host": "10.0.0.1", "ansible_user": "ops", "ansible_port": 2222},
            {"connection": "ssh", "spec": "ssh://ops@10.0.0.1:2222"},
        ),
        ({"ansible_connection": "local"}, {"connection": "local", "spec": "local://"}),
    ],
    ids=["chroot", "ssh", "local"],
)
def test_testinfra_reaches_hosts_the_way_ansible_does(
    host_vars: dict[str, Any], target: dict[str, str]
) -> None:
    assert target_for(host_vars) == target


def test_junit_report_is_read_per_host(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(
        """<testsuites><testsuite>
        <testcase classname="test_base" name="test_a[ctl-01]"/>
        <testcase classname="test_base" name="test_a[cn-01]">
          <failure message="AssertionError: PermitRootLogin yes">trace</failure>
        </testcase>
        <testcase classname="test_base" name="test_b[cn-01]"><skipped/></testcase>
        </testsuite></testsuites>""",
        "utf-8",
    )

    hosts = _read_junit(report, ["ctl-01", "cn-01"])

    assert hosts["ctl-01"].ok and hosts["ctl-01"].passed == 1
    assert hosts["cn-01"].failures == [
        ("test_base.test_a", "AssertionError: PermitRootLogin yes")
    ]
    assert hosts["cn-01"].skipped == 1


def fake_result(mode: str, unreachable: bool) -> Any:
    from citycloud.adapters.ansible.hosts_runner import HostOutcome, HostsRunResult

    changed = HostOutcome("cn-01", ok=20, changed=1, changed_tasks=["Ensure sshd"])
    changed.diffs.append(("Ensure sshd", "-PermitRootLogin yes\n+PermitRootLogin no\n"))
    hosts = {"cn-01": changed, "ctl-01": HostOutcome("ctl-01", ok=21)}
    if unreachable:
        hosts["cn-02"] = HostOutcome(
            "cn-02", unreachable=1, errors=["Gathering Facts: refused"]
        )
    return HostsRunResult(mode, "failed" if unreachable else "successful", 0, hosts)


@pytest.mark.parametrize(
    ("verb", "unreachable", "extra", "code"),
    [
        ("apply", True, [], 4),
        ("apply", False, [], 0),
        ("check", False, ["--exit-code"], 2),
        ("check", False, [], 0),
    ],
    ids=["apply-unreachable", "apply-ok", "check-pending", "check-plain"],
)
def test_summary_names_each_host_and_exit_code_tells_the_outcome(
    verb: str,
    unreachable: bool,
    extra: list[str],
    code: int,
    example_spec_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from citycloud import cli_hosts

    calls: list[dict[str, Any]] = []

    def run_site(inventory: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return fake_result(kwargs["mode"], unreachable)

    monkeypatch.setattr(cli_hosts, "run_site", run_site)
    args = ["--lang", "en", "hosts", verb, str(example_spec_dir)]
    args += ["--work-dir", str(tmp_path), *extra]

    result = CliRunner().invoke(main, args)

    assert result.exit_code == code, result.output
    assert calls[0]["mode"] == verb
    assert "cn-01" in result.stdout and "Ensure sshd" in result.stdout
    if unreachable:
        assert "unreachable" in result.stdout and "refused" in result.stdout
    if verb == "check":
        assert "+PermitRootLogin no" in result.stdout
        assert "Check mode (nothing changed): 1 host(s) would change" in result.stdout
    else:
        assert "+PermitRootLogin no" not in result.stdout
