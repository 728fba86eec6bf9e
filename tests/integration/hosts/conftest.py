"""Disposable Debian hosts on this machine, for the hosts playbook's tests.

A golden bookworm root is made once by scripts/hosts-golden-root.sh and cached
under the run folder, with every package the roles install already downloaded
(not installed) into its apt cache. Each test host is an overlayfs mount over
it, reached by Ansible through the chroot connection and by testinfra through
its chroot backend. The machine's own configuration is never touched; the
overlays and their folders are removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[3]
ROLES = REPO / "playbooks" / "roles"


def run_dir() -> Path:
    return Path(os.environ.get("CITYCLOUD_RUN_DIR", "/tmp/citycloud-run")) / "hosts"


def role_packages() -> list[str]:
    """Every package named in a role default ending in _packages or _package."""
    names: set[str] = set()
    for defaults in sorted(ROLES.glob("*/defaults/main.yml")):
        data = YAML(typ="safe").load(defaults.read_text("utf-8")) or {}
        for key, value in data.items():
            if key.endswith("_packages") and isinstance(value, list):
                names.update(str(v) for v in value)
            elif key.endswith("_package") and isinstance(value, str):
                names.add(value)
    return sorted(names)


@pytest.fixture(scope="session")
def golden_root() -> Path:
    if os.geteuid() != 0:
        pytest.skip("disposable hosts need root (debootstrap, mount, chroot)")
    if shutil.which("debootstrap") is None:
        pytest.fail("debootstrap is missing: run scripts/setup.d/50-hosts.sh")
    root = run_dir() / "golden"
    script = REPO / "scripts" / "hosts-golden-root.sh"
    subprocess.run([str(script), str(root), *role_packages()], check=True)
    return root


@dataclass(frozen=True)
class DisposableHost:
    name: str
    root: Path


def _mounted(path: Path) -> bool:
    return any(
        line.split()[1] == str(path)
        for line in Path("/proc/mounts").read_text().splitlines()
    )


@pytest.fixture(scope="module")
def disposable_hosts(golden_root: Path) -> Iterator[dict[str, DisposableHost]]:
    """One fresh overlay root per host name the test module asks for."""
    base = run_dir() / f"hosts-{uuid.uuid4().hex[:8]}"
    made: dict[str, DisposableHost] = {}

    def make(name: str) -> DisposableHost:
        folder = base / name
        upper, work, root = folder / "upper", folder / "work", folder / "root"
        for path in (upper, work, root):
            path.mkdir(parents=True)
        options = f"lowerdir={golden_root},upperdir={upper},workdir={work}"
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(root)],
            check=True,
        )
        made[name] = DisposableHost(name, root)
        return made[name]

    class Factory(dict[str, DisposableHost]):
        def __missing__(self, name: str) -> DisposableHost:
            self[name] = make(name)
            return self[name]

    hosts = Factory()
    try:
        yield hosts
    finally:
        for host in made.values():
            if _mounted(host.root):
                subprocess.run(["umount", str(host.root)], check=False)
        if not any(_mounted(h.root) for h in made.values()):
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def processes_inside() -> Any:
    """A function listing processes whose root is one of the given roots."""
    return _processes_inside


def _processes_inside(roots: list[Path]) -> list[str]:
    found = []
    wanted = {str(r) for r in roots}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            root = os.readlink(proc / "root")
            command = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if root in wanted:
            found.append(f"{proc.name} {command} in {root}")
    return found
