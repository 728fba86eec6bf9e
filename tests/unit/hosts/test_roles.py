"""The roles keep the shape the project promises: standard folders, variables
prefixed by their role, named tasks, and a playbook Ansible accepts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

PLAYBOOKS = Path(__file__).resolve().parents[3] / "playbooks"
HOST_ROLES = ("base", "node_exporter", "compute", "storage", "controller", "monitoring")
# The roles of site.yml (the tenants playbook's roles live beside them).
ROLES = ["validate_inventory", *HOST_ROLES]


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text("utf-8"))


def tasks_of(role: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for folder in ("tasks", "handlers"):
        for path in sorted((PLAYBOOKS / "roles" / role / folder).glob("*.yml")):
            found.extend(load(path) or [])
    return found


def test_every_host_role_exists_and_has_checks() -> None:
    for role in HOST_ROLES:
        assert (PLAYBOOKS / "roles" / role).is_dir(), role
        assert (PLAYBOOKS / "tests" / f"test_{role}.py").is_file(), role


@pytest.mark.parametrize("role", ROLES)
def test_role_has_the_standard_layout(role: str) -> None:
    folder = PLAYBOOKS / "roles" / role
    for part in ("tasks/main.yml", "defaults/main.yml", "meta/main.yml"):
        assert (folder / part).is_file(), part
    if role != "validate_inventory":
        assert (folder / "handlers" / "main.yml").is_file()
        assert any((folder / "templates").iterdir())


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_carry_the_role_prefix(role: str) -> None:
    defaults = load(PLAYBOOKS / "roles" / role / "defaults" / "main.yml") or {}
    assert defaults, "a role documents its variables in defaults/main.yml"
    assert [k for k in defaults if not k.startswith(f"{role}_")] == []


@pytest.mark.parametrize("role", ROLES)
def test_every_task_has_a_name(role: str) -> None:
    assert [t for t in tasks_of(role) if not t.get("name")] == []


@pytest.mark.parametrize("role", [r for r in ROLES if r != "validate_inventory"])
def test_runtime_changes_wait_for_the_chroot_fact(role: str) -> None:
    # Without facts a host counts as a chroot: nothing runtime happens by mistake.
    defaults = load(PLAYBOOKS / "roles" / role / "defaults" / "main.yml")
    assert "ansible_is_chroot | default(true)" in defaults[f"{role}_apply_runtime"]
    for task in tasks_of(role):
        module = next(
            (k for k in task if k.startswith("ansible.builtin.service")), None
        )
        if module or "community.general.modprobe" in task:
            assert f"{role}_apply_runtime" in str(task.get("when")), task["name"]


def test_site_playbook_passes_ansible_syntax_check(tmp_path: Path) -> None:
    ansible = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run(
        [
            str(ansible),
            "--syntax-check",
            "-i",
            "localhost,",
            str(PLAYBOOKS / "site.yml"),
        ],
        env={**os.environ, "ANSIBLE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
