"""Reading ansible-runner's events into a per-host summary, and refusing early."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from citycloud.adapters.ansible import hosts_runner
from citycloud.adapters.ansible.hosts_inventory import HostRecord, HostsInventory
from citycloud.adapters.ansible.hosts_runner import (
    TaskEvent,
    _EventCollector,
    render_diff,
    run_site,
)
from citycloud.errors import SpecError


def event(kind: str, host: str, task: str, **res: Any) -> dict[str, Any]:
    return {"event": kind, "event_data": {"host": host, "task": task, "res": res}}


def test_events_become_a_summary_per_host_with_progress() -> None:
    seen: list[TaskEvent] = []
    collect = _EventCollector(["a", "b", "c"], seen.append)
    diff = {"before": "x = 1\n", "after": "x = 2\n", "before_header": "/etc/x"}

    collect(event("runner_on_ok", "a", "Ensure x", changed=True, diff=diff))
    collect(event("runner_on_ok", "a", "Ensure y", changed=False))
    collect(event("runner_on_skipped", "a", "Restart z"))
    collect(event("runner_on_failed", "b", "Ensure y", msg="no space\nleft"))
    collect(event("runner_on_unreachable", "c", "Gathering Facts", msg="refused"))
    collect({"event": "playbook_on_task_start", "event_data": {"task": "t"}})

    a, b, c = (collect.hosts[name] for name in "abc")
    assert (a.status, a.changed, a.ok, a.skipped) == ("changed", 1, 1, 1)
    assert a.changed_tasks == ["Ensure x"]
    assert "-x = 1" in a.diffs[0][1] and "+x = 2" in a.diffs[0][1]
    assert b.status == "failed" and b.errors == ["Ensure y: left"]
    assert c.status == "unreachable" and c.errors == ["Gathering Facts: refused"]
    assert [e.status for e in seen] == [
        "changed",
        "ok",
        "skipped",
        "failed",
        "unreachable",
    ]


def test_ignored_failures_do_not_fail_the_host() -> None:
    collect = _EventCollector(["a"], None)
    data = event("runner_on_failed", "a", "Probe", msg="nope")
    data["event_data"]["ignore_errors"] = True

    collect(data)

    assert collect.hosts["a"].status == "ok"


def test_loop_items_bring_their_diffs() -> None:
    collect = _EventCollector(["a"], None)
    item = {
        "changed": True,
        "diff": {"before": {"state": "absent"}, "after": {"state": "directory"}},
    }

    collect(event("runner_on_ok", "a", "Ensure dirs", changed=True, results=[item]))

    text = collect.hosts["a"].diffs[0][1]
    assert "-state: absent" in text and "+state: directory" in text


def test_prepared_diffs_are_kept_as_they_are() -> None:
    assert render_diff({"prepared": "--- a\n+++ b\n"}) == "--- a\n+++ b\n"


def test_bad_inventory_is_refused_before_ansible_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ansible_runner

    def never(**kwargs: Any) -> None:
        raise AssertionError("ansible-runner must not start")

    monkeypatch.setattr(ansible_runner, "run", never)
    inventory = HostsInventory(
        (HostRecord("cn-01", None, "10.0.0.1", "r01"),), ("r01",)
    )

    with pytest.raises(SpecError) as caught:
        run_site(inventory, work_dir=tmp_path)

    assert caught.value.problems[0].field == "hosts.cn-01.role"
    assert not (tmp_path / "artifacts").exists()


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    inventory = HostsInventory((), ())
    with pytest.raises(ValueError, match="mode"):
        run_site(inventory, mode="destroy", work_dir=tmp_path)


@pytest.mark.slow
def test_validation_play_refuses_a_bad_inventory_before_any_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Skip the Python check to show the playbook refuses on its own. The hosts
    # are chroot roots that do not exist: had validation let them through,
    # nothing on this machine could have been touched.
    monkeypatch.setattr(hosts_runner, "check_inventory", lambda inventory: None)
    missing = str(tmp_path / "no-such-root")
    hosts = (
        HostRecord("cn-01", None, "10.0.0.1", "r01"),
        HostRecord("cn-02", "compute", "10.0.0.1", "r01"),
        HostRecord("cn-03", "compute", "10.0.0.3", "r77"),
    )
    connection = {
        h.name: {
            "ansible_connection": "community.general.chroot",
            "ansible_host": missing,
        }
        for h in hosts
    }
    seen: list[TaskEvent] = []

    result = run_site(
        HostsInventory(hosts, ("r01",), connection),
        work_dir=tmp_path / "work",
        progress=seen.append,
    )

    assert not result.succeeded
    errors = " ".join(e for h in result.hosts.values() for e in h.errors)
    assert "cn-01: citycloud_role is missing" in errors
    assert (
        "citycloud_address 10.0.0.1 is used by more than one host: cn-01, cn-02"
        in errors
    )
    assert 'cn-03: citycloud_rack "r77" is not a known rack' in errors
    assert {e.task.split(" |")[0] for e in seen} == {"Inventory"}


def test_host_keys_are_checked_and_ansible_home_is_private(tmp_path: Path) -> None:
    env = hosts_runner._environment(tmp_path / "home")

    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert env["ANSIBLE_HOME"] == str(tmp_path / "home")


def test_known_hosts_file_is_the_only_one_trusted(tmp_path: Path) -> None:
    inventory = HostsInventory(
        (HostRecord("cn-01", "compute", "10.0.0.1", "r01"),), ("r01",)
    )
    known = tmp_path / "known_hosts"

    rendered = hosts_runner._inventory_with_known_hosts(inventory, known)

    args = rendered["all"]["vars"]["ansible_ssh_common_args"]
    assert f"UserKnownHostsFile={known}" in args and "StrictHostKeyChecking=yes" in args
