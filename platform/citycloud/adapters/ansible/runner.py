"""Run one playbook with ansible-runner over an inventory made in Python.

Each inventory host is local (``ansible_connection=local``) and stands for one
unit of work, such as a tenant, so that Ansible's forks run them side by side
and a failure in one is reported against its name.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citycloud.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

PLAYBOOK_DIR = Path(__file__).resolve().parents[4] / "playbooks"

# Messages Ansible modules report when the cloud itself, not the input, failed.
_TRANSIENT_HINTS = (
    "Unable to establish connection",
    "Connection refused",
    "timed out",
    "Service Unavailable",
    "503",
    "502",
    "504",
)


@dataclass(frozen=True)
class RunResult:
    """What a playbook run did, per inventory host."""

    status: str
    rc: int
    changed: dict[str, int] = field(default_factory=dict)
    ok: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.rc == 0 and not self.failed

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


def playbook_path(name: str) -> Path:
    path = PLAYBOOK_DIR / name
    if not path.is_file():
        raise PermanentError("ansible", f"playbook {path} is missing")
    return path


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        # Local connection: run modules through a pipe, no temporary files.
        "ANSIBLE_PIPELINING": "True",
    }
    for name in ("OS_CLIENT_CONFIG_FILE", "HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra)
    return env


def _failure_message(event: Mapping[str, Any]) -> str:
    data = event.get("event_data", {})
    res = data.get("res", {}) or {}
    task = data.get("task", "?")
    msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or ""
    if not msg and isinstance(res.get("results"), list):
        for item in res["results"]:
            if isinstance(item, dict) and item.get("failed"):
                msg = item.get("msg") or item.get("module_stderr") or ""
                break
    text = str(msg).strip().splitlines()
    return f"{task}: {text[-1] if text else 'failed'}"


def run_playbook(
    playbook: str,
    hosts: Mapping[str, Mapping[str, Any]],
    *,
    forks: int = 5,
    env: Mapping[str, str] | None = None,
    keep_dir: Path | None = None,
) -> RunResult:
    """Run ``playbook`` (a file in playbooks/) with one host per ``hosts`` key.

    Raises TransientError or PermanentError if any host failed, naming each
    failed host and the task that failed; otherwise returns what changed.
    """
    import ansible_runner  # heavy import, only when an Ansible run is due

    path = playbook_path(playbook)
    interpreter = sys.executable
    inventory = {
        "all": {
            "hosts": {
                name: {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": interpreter,
                    **dict(host_vars),
                }
                for name, host_vars in hosts.items()
            }
        }
    }
    private_dir = Path(tempfile.mkdtemp(prefix="citycloud-ansible-"))
    failures: dict[str, str] = {}

    def on_event(event: Mapping[str, Any]) -> bool:
        if event.get("event") in ("runner_on_failed", "runner_on_unreachable"):
            data = event.get("event_data", {})
            if data.get("ignore_errors"):
                return True
            host = str(data.get("host", "?"))
            failures.setdefault(host, _failure_message(event))
        return True

    log.info("running playbook %s over %d host(s)", path.name, len(hosts))
    try:
        result = ansible_runner.run(
            private_data_dir=str(private_dir),
            project_dir=str(path.parent),
            playbook=str(path),
            inventory=inventory,
            envvars=_env(env or {}),
            forks=max(1, forks),
            quiet=True,
            event_handler=on_event,
        )
        stats = result.stats or {}
        run = RunResult(
            status=str(result.status),
            rc=int(result.rc),
            changed={h: int(n) for h, n in stats.get("changed", {}).items()},
            ok={h: int(n) for h, n in stats.get("ok", {}).items()},
            failed=failures,
        )
    finally:
        if keep_dir is not None:
            shutil.copytree(private_dir, keep_dir, dirs_exist_ok=True)
        shutil.rmtree(private_dir, ignore_errors=True)
    log.info(
        "playbook %s finished: status=%s changed=%d failed=%d",
        path.name,
        run.status,
        run.total_changed,
        len(run.failed),
    )
    if not run.succeeded:
        detail = "; ".join(f"{h}: {m}" for h, m in sorted(run.failed.items()))
        detail = detail or f"ansible-runner status {run.status}, rc {run.rc}"
        transient = any(hint in detail for hint in _TRANSIENT_HINTS)
        error_type = TransientError if transient else PermanentError
        raise error_type("ansible", f"{path.name}: {detail}")
    return run
