"""The hosts inventory rendered from the spec, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.adapters.ansible.hosts_inventory import (
    HostRecord,
    HostsInventory,
    check_inventory,
    inventory_problems,
)
from citycloud.cli_hosts import build_inventory
from citycloud.errors import SpecError
from citycloud.i18n import use


@pytest.fixture(autouse=True)
def _english() -> None:
    use("en")


def good_hosts() -> tuple[HostRecord, ...]:
    return (
        HostRecord("ctl-01", "controller", "10.10.1.11", "r01", "RegionOne"),
        HostRecord("cn-01", "compute", "10.10.1.21", "r01", "RegionOne"),
    )


def test_example_spec_renders_every_host_in_its_role_group(
    example_spec_dir: Path,
) -> None:
    inventory = build_inventory(str(example_spec_dir), (), None)
    rendered = inventory.to_ansible()["all"]

    assert rendered["vars"]["citycloud_racks"] == ["r01", "r02", "r03"]
    assert set(rendered["children"]) == {
        "controller",
        "compute",
        "storage",
        "monitoring",
    }
    assert len(rendered["children"]["compute"]["hosts"]) == 6
    ctl = rendered["children"]["controller"]["hosts"]["ctl-01"]
    assert ctl["ansible_host"] == "10.10.1.11"
    assert ctl["citycloud_rack"] == "r01"
    assert ctl["citycloud_region"] == "RegionOne"
    assert inventory_problems(inventory) == []


def test_connection_variables_are_laid_over_the_spec(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    connection = tmp_path / "connection.yml"
    connection.write_text(
        "all: {ansible_user: ops}\nctl-01: {ansible_port: 2222}\n", "utf-8"
    )
    inventory = build_inventory(str(example_spec_dir), (), str(connection))

    assert inventory.host_vars("ctl-01")["ansible_port"] == 2222
    assert inventory.host_vars("ctl-01")["ansible_user"] == "ops"
    assert inventory.host_vars("cn-06")["ansible_user"] == "ops"
    assert inventory.host_vars("cn-06")["citycloud_role"] == "compute"


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        (HostRecord("bad", None, "10.0.0.9", "r01"), "hosts.bad.role", "no role"),
        (HostRecord("bad", "router", "10.0.0.9", "r01"), "hosts.bad.role", "router"),
        (
            HostRecord("bad", "compute", "10.10.1.21", "r01"),
            "hosts.bad.address",
            "cn-01",
        ),
        (HostRecord("bad", "compute", "ten", "r01"), "hosts.bad.address", "not an IP"),
        (HostRecord("bad", "compute", "10.0.0.9", "r99"), "hosts.bad.rack", "r99"),
        (HostRecord("bad", "compute", "10.0.0.9", None), "hosts.bad.rack", "no rack"),
    ],
    ids=[
        "no-role",
        "unknown-role",
        "duplicate-address",
        "bad-address",
        "unknown-rack",
        "no-rack",
    ],
)
def test_bad_host_is_refused_naming_host_and_field(
    record: HostRecord, field: str, words: str
) -> None:
    inventory = HostsInventory((*good_hosts(), record), ("r01",))

    with pytest.raises(SpecError) as caught:
        check_inventory(inventory)

    problems = caught.value.problems
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"citycloud_role": "storage"}, "hosts.cn-01.citycloud_role"),
        ({"ansible_host_key_checking": False}, "hosts.cn-01.ansible_host_key_checking"),
        (
            {"ansible_ssh_common_args": "-o StrictHostKeyChecking=no"},
            "hosts.cn-01.ansible_ssh_common_args",
        ),
        (
            {"ansible_ssh_extra_args": "-o UserKnownHostsFile=/dev/null"},
            "hosts.cn-01.ansible_ssh_extra_args",
        ),
    ],
    ids=["not-a-connection-var", "key-checking-off", "strict-no", "known-hosts-null"],
)
def test_connection_cannot_change_the_spec_or_skip_host_keys(
    variables: dict[str, object], field: str
) -> None:
    inventory = HostsInventory(good_hosts(), ("r01",), {"cn-01": variables})

    assert [p.field for p in inventory_problems(inventory)] == [field]


def test_connection_for_an_unknown_host_is_refused() -> None:
    inventory = HostsInventory(good_hosts(), ("r01",), {"cn-99": {"ansible_port": 22}})

    problems = inventory_problems(inventory)

    assert [p.field for p in problems] == ["hosts.cn-99.connection"]


def test_problems_read_in_chinese_by_default() -> None:
    use("zh")
    record = HostRecord("坏主机", None, "10.0.0.9", "r01")

    problems = inventory_problems(HostsInventory((record,), ("r01",)))

    assert any("没有角色" in p.message for p in problems)
    assert any(p.field == "hosts.坏主机.name" for p in problems)
