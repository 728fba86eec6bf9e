"""Host checks for the roles of playbooks/site.yml, written for testinfra.

`citycloud hosts verify` writes the hosts to check into a JSON file named by
CITYCLOUD_VERIFY_HOSTS: each host's inventory name, role, address and how to
reach it (testinfra's chroot, local or ssh backend), plus the variables the
playbook was given. Every check takes the ``node`` fixture and is run once per
host; a module's ROLES limits its checks to hosts of those roles. Test ids are
the inventory names, so a report reads per host.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import testinfra

HOSTS_FILE_ENV = "CITYCLOUD_VERIFY_HOSTS"


@cache
def _document() -> dict[str, Any]:
    path = os.environ.get(HOSTS_FILE_ENV)
    if not path:
        raise pytest.UsageError(
            f"{HOSTS_FILE_ENV} must name the hosts file (run `citycloud hosts verify`)"
        )
    return json.loads(Path(path).read_text("utf-8"))


@dataclass(frozen=True)
class Node:
    """One host of the inventory, as the checks see it."""

    name: str
    role: str
    address: str
    target: dict[str, str]

    @property
    def is_chroot(self) -> bool:
        return self.target["connection"] == "chroot"

    @property
    def others(self) -> list[dict[str, Any]]:
        return list(_document()["hosts"])

    def var(self, name: str, default: Any) -> Any:
        """A playbook variable given on the command line, else the role default."""
        return _document()["vars"].get(name, default)

    def addresses_of(self, role: str) -> list[str]:
        return [h["address"] for h in self.others if h["role"] == role]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "node" not in metafunc.fixturenames:
        return
    roles = getattr(metafunc.module, "ROLES", None)
    hosts = [h for h in _document()["hosts"] if roles is None or h["role"] in roles]
    metafunc.parametrize("node", hosts, ids=[h["name"] for h in hosts], indirect=True)


@pytest.fixture
def node(request: pytest.FixtureRequest) -> Node:
    data = request.param
    return Node(data["name"], data["role"], data["address"], data["target"])


@cache
def _reach(name: str, connection: str, spec: str) -> tuple[Any, str]:
    """A testinfra host for a target, or the reason it cannot be reached."""
    if connection == "chroot":
        # testinfra does not notice a missing root: every command just fails.
        if not Path(spec, "etc").is_dir():
            return None, f"{name}: chroot root {spec} does not exist"
        target = testinfra.get_host(spec, connection="chroot")
    elif connection == "ssh":
        extra = _document().get("ssh_extra_args", "")
        target = testinfra.get_host(spec, ssh_extra_args=extra)
    else:
        target = testinfra.get_host(spec)
    try:
        probe = target.run("true")
    except Exception as exc:  # each backend raises its own connection errors
        return None, f"{name}: cannot be reached: {exc}"
    if probe.rc != 0:
        return None, f"{name}: cannot be reached ({probe.stderr.strip() or probe.rc})"
    return target, ""


@pytest.fixture
def host(node: Node) -> Any:
    target, reason = _reach(node.name, node.target["connection"], node.target["spec"])
    if target is None:
        pytest.fail(reason, pytrace=False)
    return target


@pytest.fixture
def runtime(node: Node) -> None:
    """Skip checks of running services and kernel values on chroot hosts."""
    if node.is_chroot:
        pytest.skip("chroot host: shares the machine's kernel, runs no services")
