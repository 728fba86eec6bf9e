"""Check the hosts with testinfra: the role checks in playbooks/tests.

Each inventory host becomes one testinfra host: a chroot host is reached with
testinfra's chroot backend (its root folder), a local host with the local
backend, any other host over SSH with host keys checked. pytest runs the check
modules in a child process (so a check never shares state with the caller) and
writes a JUnit report; the result is read back per host from the test ids,
which are the inventory names.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citycloud.adapters.ansible.hosts_inventory import HostsInventory, check_inventory
from citycloud.errors import PermanentError

log = logging.getLogger(__name__)

TESTS_DIR = Path(__file__).resolve().parents[4] / "playbooks" / "tests"
CHROOT_CONNECTIONS = ("chroot", "community.general.chroot")
# How the check modules find the hosts: a JSON file named by this variable.
HOSTS_FILE_ENV = "CITYCLOUD_VERIFY_HOSTS"


@dataclass
class HostChecks:
    """The checks run on one host and the ones that failed, with why."""

    name: str
    passed: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "passed": self.passed,
            "skipped": self.skipped,
            "failures": [{"check": c, "message": m} for c, m in self.failures],
        }


@dataclass
class VerifyResult:
    hosts: dict[str, HostChecks]
    rc: int
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0 and all(h.ok for h in self.hosts.values())

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(n for n, h in self.hosts.items() if not h.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rc": self.rc,
            "hosts": {n: h.to_dict() for n, h in sorted(self.hosts.items())},
        }


def target_for(host_vars: Mapping[str, Any]) -> dict[str, str]:
    """How testinfra reaches a host with these inventory variables."""
    connection = str(host_vars.get("ansible_connection", "ssh"))
    address = str(host_vars.get("ansible_host", ""))
    if connection in CHROOT_CONNECTIONS:
        return {"connection": "chroot", "spec": address}
    if connection == "local":
        return {"connection": "local", "spec": "local://"}
    user = host_vars.get("ansible_user")
    port = host_vars.get("ansible_port")
    spec = f"ssh://{user + '@' if user else ''}{address}{f':{port}' if port else ''}"
    return {"connection": "ssh", "spec": spec}


def hosts_document(
    inventory: HostsInventory,
    extra_vars: Mapping[str, Any] | None = None,
    known_hosts: Path | None = None,
) -> dict[str, Any]:
    """What the check modules read: every host, its role, vars and target."""
    ssh_args = "-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10"
    if known_hosts is not None:
        ssh_args += f" -o UserKnownHostsFile={known_hosts}"
    hosts = []
    for record in inventory.hosts:
        host_vars = inventory.host_vars(record.name)
        hosts.append(
            {
                "name": record.name,
                "role": record.role,
                "address": record.address,
                "rack": record.rack,
                "region": record.region,
                "target": target_for(host_vars),
            }
        )
    return {
        "hosts": hosts,
        "vars": dict(extra_vars or {}),
        "ssh_extra_args": ssh_args,
    }


def _read_junit(path: Path, names: list[str]) -> dict[str, HostChecks]:
    checks = {name: HostChecks(name) for name in names}
    if not path.is_file():
        return checks
    for case in ET.parse(path).getroot().iter("testcase"):
        title = case.get("name", "")
        host = title[title.find("[") + 1 : -1] if title.endswith("]") else ""
        outcome = checks.get(host)
        if outcome is None:
            continue
        check = f"{case.get('classname', '')}.{title[: title.find('[')]}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            message = (problem.get("message") or problem.text or "").strip()
            outcome.failures.append((check, message.splitlines()[0] if message else ""))
        elif case.find("skipped") is not None:
            outcome.skipped += 1
        else:
            outcome.passed += 1
    return checks


def verify_hosts(
    inventory: HostsInventory,
    *,
    extra_vars: Mapping[str, Any] | None = None,
    known_hosts: Path | None = None,
    limit: list[str] | None = None,
) -> VerifyResult:
    """Run every role's checks on every host (or the ``limit`` hosts)."""
    check_inventory(inventory)
    if not TESTS_DIR.is_dir():
        raise PermanentError("testinfra", f"checks folder {TESTS_DIR} is missing")
    document = hosts_document(inventory, extra_vars, known_hosts)
    if limit:
        document["hosts"] = [h for h in document["hosts"] if h["name"] in limit]
    names = [h["name"] for h in document["hosts"]]
    with tempfile.TemporaryDirectory(prefix="citycloud-verify-") as tmp:
        hosts_file = Path(tmp) / "hosts.json"
        hosts_file.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
        junit = Path(tmp) / "junit.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(TESTS_DIR),
            "-c",
            str(TESTS_DIR / "pytest.ini"),
            "--rootdir",
            str(TESTS_DIR),
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={junit}",
        ]
        env = {**os.environ, HOSTS_FILE_ENV: str(hosts_file)}
        log.info("checking %d host(s) with testinfra", len(names))
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        hosts = _read_junit(junit, names)
    # pytest exits 1 when checks fail; anything else means it could not run.
    if done.returncode not in (0, 1):
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise PermanentError("testinfra", f"pytest exited {done.returncode}: {tail}")
    result = VerifyResult(hosts, done.returncode, done.stdout)
    log.info("testinfra: failed hosts: %s", ",".join(result.failed_hosts) or "none")
    return result
