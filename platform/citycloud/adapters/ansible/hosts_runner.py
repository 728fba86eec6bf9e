"""Run playbooks/site.yml over the data center's hosts through ansible-runner.

One call is one run of the site playbook in apply or check mode (check mode
adds ``--check``; both ask for ``--diff`` so the summary can show what a file
change is). Events are turned into per-host progress as they arrive and into a
per-host summary at the end: what changed, what failed, who was unreachable.
A host that fails or cannot be reached is reported; the others carry on.

Runs keep their artifacts under the work folder, rotated so only the last few
stay on disk. Ansible's own files go to a temporary ANSIBLE_HOME removed after
the run. SSH host keys are always checked: the run never switches checking off
and the inventory refuses variables that would (see hosts_inventory).
"""

from __future__ import annotations

import difflib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citycloud.adapters.ansible.hosts_inventory import HostsInventory, check_inventory
from citycloud.errors import PermanentError

log = logging.getLogger(__name__)

PLAYBOOK_DIR = Path(__file__).resolve().parents[4] / "playbooks"
SITE_PLAYBOOK = "site.yml"
MODES = ("apply", "check")


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One task finished on one host: ``status`` is ok, changed, failed,
    unreachable or skipped."""

    host: str
    task: str
    status: str
    message: str = ""


Progress = Callable[[TaskEvent], None]


@dataclass
class HostOutcome:
    """What the run did to one host."""

    name: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    changed_tasks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    diffs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        if self.changed:
            return "changed"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "ok": self.ok,
            "changed": self.changed,
            "failed": self.failed,
            "unreachable": self.unreachable,
            "skipped": self.skipped,
            "changed_tasks": list(self.changed_tasks),
            "errors": list(self.errors),
            "diffs": [{"task": task, "diff": text} for task, text in self.diffs],
        }


@dataclass
class HostsRunResult:
    """The whole run: its mode, Ansible's status and every host's outcome."""

    mode: str
    status: str
    rc: int
    hosts: dict[str, HostOutcome]
    artifacts: Path | None = None
    message: str = ""

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(n for n, h in self.hosts.items() if h.status == "failed")

    @property
    def unreachable_hosts(self) -> list[str]:
        return sorted(n for n, h in self.hosts.items() if h.status == "unreachable")

    @property
    def changed_hosts(self) -> list[str]:
        return sorted(n for n, h in self.hosts.items() if h.changed)

    @property
    def total_changed(self) -> int:
        return sum(h.changed for h in self.hosts.values())

    @property
    def succeeded(self) -> bool:
        return not self.failed_hosts and not self.unreachable_hosts and self.rc == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "status": self.status,
            "rc": self.rc,
            "succeeded": self.succeeded,
            "artifacts": str(self.artifacts) if self.artifacts else None,
            "message": self.message,
            "hosts": {n: h.to_dict() for n, h in sorted(self.hosts.items())},
        }


def render_diff(diff: Mapping[str, Any]) -> str:
    """One Ansible diff entry as unified-diff text."""
    if diff.get("prepared"):
        return str(diff["prepared"])
    before, after = diff.get("before", ""), diff.get("after", "")
    if not isinstance(before, str) or not isinstance(after, str):
        # Modules such as file report state changes as small dicts.
        before, after = _as_lines(before), _as_lines(after)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=str(diff.get("before_header", "before")),
        tofile=str(diff.get("after_header", "after")),
    )
    return "".join(lines)


def _as_lines(value: Any) -> str:
    if isinstance(value, Mapping):
        return "".join(f"{k}: {v}\n" for k, v in sorted(value.items()))
    return "" if value is None else f"{value}\n"


def _diffs_of(result: Mapping[str, Any]) -> list[str]:
    found: list[Any] = []
    for entry in [result, *(result.get("results") or [])]:
        if not isinstance(entry, Mapping) or not entry.get("changed"):
            continue
        diff = entry.get("diff")
        found.extend(diff if isinstance(diff, list) else [diff] if diff else [])
    texts = (render_diff(d) for d in found if isinstance(d, Mapping))
    return [text for text in texts if text.strip()]


def _error_of(result: Mapping[str, Any]) -> str:
    message = result.get("msg") or result.get("stderr") or result.get("module_stderr")
    if not message:
        for item in result.get("results") or []:
            if isinstance(item, Mapping) and item.get("failed"):
                message = item.get("msg") or item.get("stderr") or ""
                break
    lines = str(message or "failed").strip().splitlines()
    return lines[-1] if lines else "failed"


_EVENT_STATUS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


class _EventCollector:
    """Turns ansible-runner events into outcomes and progress callbacks."""

    def __init__(
        self, names: list[str], progress: Progress | None, mode: str = "apply"
    ) -> None:
        self.hosts = {name: HostOutcome(name) for name in names}
        self.progress = progress
        self.mode = mode

    def __call__(self, event: Mapping[str, Any]) -> bool:
        status = _EVENT_STATUS.get(str(event.get("event")))
        if status is None:
            return True
        data = event.get("event_data") or {}
        host = str(data.get("host", "?"))
        task = str(data.get("task", "?")).strip()
        result = data.get("res") or {}
        outcome = self.hosts.setdefault(host, HostOutcome(host))
        message = ""
        if status == "failed" and data.get("ignore_errors"):
            status = "ok"
        if status == "ok" and result.get("changed"):
            status = "changed"
        if status == "changed":
            outcome.changed += 1
            outcome.changed_tasks.append(task)
            outcome.diffs.extend((task, text) for text in _diffs_of(result))
            if self.mode == "apply":
                log.info("host %s changed: %s", host, task)
            else:
                log.debug("host %s would change: %s", host, task)
        elif status == "ok":
            outcome.ok += 1
        elif status == "skipped":
            outcome.skipped += 1
        else:
            message = _error_of(result)
            outcome.errors.append(f"{task}: {message}")
            if status == "failed":
                outcome.failed += 1
            else:
                outcome.unreachable += 1
        if self.progress is not None:
            self.progress(TaskEvent(host, task, status, message))
        return True


def _touched(outcome: HostOutcome) -> bool:
    counts = (outcome.ok, outcome.changed, outcome.failed, outcome.unreachable)
    return any(counts) or bool(outcome.skipped)


def _tail(runner: Any, lines: int = 15) -> str:
    """The end of Ansible's output, for runs that failed before any task."""
    try:
        text = runner.stdout.read()
    except (OSError, AttributeError):
        return ""
    return "\n".join(str(text).strip().splitlines()[-lines:])


def _environment(ansible_home: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_HOME": str(ansible_home),
        "ANSIBLE_LOCAL_TEMP": str(ansible_home / "tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
        "ANSIBLE_TIMEOUT": "10",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_ROLES_PATH": str(PLAYBOOK_DIR / "roles"),
    }


def _inventory_with_known_hosts(
    inventory: HostsInventory, known_hosts: Path | None
) -> dict[str, Any]:
    rendered = inventory.to_ansible()
    if known_hosts is not None:
        # Checked against this file only, and never added to it silently.
        args = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
        rendered["all"]["vars"]["ansible_ssh_common_args"] = args
    return rendered


def run_site(
    inventory: HostsInventory,
    *,
    mode: str = "apply",
    work_dir: Path,
    extra_vars: Mapping[str, Any] | None = None,
    limit: str | None = None,
    forks: int = 5,
    keep_artifacts: int = 5,
    known_hosts: Path | None = None,
    progress: Progress | None = None,
) -> HostsRunResult:
    """Run the site playbook over ``inventory`` and report every host.

    Raises :class:`~citycloud.errors.SpecError` if the inventory is unusable
    (before Ansible starts), :class:`PermanentError` if Ansible cannot run at
    all. Hosts that fail or cannot be reached are reported in the result.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    check_inventory(inventory)
    playbook = PLAYBOOK_DIR / SITE_PLAYBOOK
    if not playbook.is_file():
        raise PermanentError("ansible", f"playbook {playbook} is missing")
    import ansible_runner  # heavy import, only when a run is due

    work_dir.mkdir(parents=True, exist_ok=True)
    ansible_home = Path(tempfile.mkdtemp(prefix="ansible-home-", dir=work_dir))
    collector = _EventCollector(inventory.names, progress, mode)
    ident = f"{time.strftime('%Y%m%dT%H%M%S')}-{mode}-{os.getpid()}"
    cmdline = "--diff --check" if mode == "check" else "--diff"
    log.info(
        "running %s over %d host(s) in %s mode",
        playbook.name,
        len(inventory.hosts),
        mode,
    )
    try:
        runner = ansible_runner.run(
            private_data_dir=str(work_dir),
            project_dir=str(PLAYBOOK_DIR),
            playbook=str(playbook),
            inventory=_inventory_with_known_hosts(inventory, known_hosts),
            extravars=dict(extra_vars or {}),
            envvars=_environment(ansible_home),
            cmdline=cmdline,
            limit=limit,
            forks=max(1, forks),
            ident=ident,
            rotate_artifacts=max(1, keep_artifacts),
            suppress_env_files=True,
            quiet=True,
            event_handler=collector,
        )
    except Exception as exc:  # ansible-runner raises bare exceptions on setup
        raise PermanentError("ansible", f"cannot run {playbook.name}: {exc}") from exc
    finally:
        shutil.rmtree(ansible_home, ignore_errors=True)
    outcome = HostsRunResult(
        mode=mode,
        status=str(runner.status),
        rc=int(runner.rc),
        hosts=collector.hosts,
        artifacts=Path(runner.config.artifact_dir),
    )
    if limit:
        # Hosts outside the limit saw no task at all: leave them out.
        outcome.hosts = {n: h for n, h in outcome.hosts.items() if _touched(h)}
    if outcome.rc != 0 and not any(h.errors for h in outcome.hosts.values()):
        outcome.message = _tail(runner)
    log.info(
        "%s finished (%s): %d change(s), failed: %s, unreachable: %s",
        playbook.name,
        outcome.status,
        outcome.total_changed,
        ",".join(outcome.failed_hosts) or "none",
        ",".join(outcome.unreachable_hosts) or "none",
    )
    return outcome
