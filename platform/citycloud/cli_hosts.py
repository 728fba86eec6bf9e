"""``citycloud hosts apply|check|verify SPEC``: the data center's hosts.

The inventory comes from the spec's data center (the desired "hosts" layer);
how Ansible reaches each host (user, port, or a chroot for test hosts) comes
from an optional ``--connection`` file, and role variables (ops accounts and
their keys, for instance) from ``--vars``. ``apply`` and ``check`` run
playbooks/site.yml, showing progress per host and a summary of what changed
(``check`` changes nothing and shows the diffs); ``verify`` runs the testinfra
checks of every role on every host.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
import yaml
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from citycloud.adapters.ansible.hosts_inventory import (
    HostsInventory,
    inventory_from_resources,
)
from citycloud.adapters.ansible.hosts_runner import (
    HostsRunResult,
    TaskEvent,
    run_site,
)
from citycloud.adapters.ansible.hosts_verify import VerifyResult, verify_hosts
from citycloud.cli_common import add_command, console, guarded, load, out
from citycloud.desired import build_desired
from citycloud.errors import Problem, SpecError
from citycloud.i18n import register, t

log = logging.getLogger(__name__)

EXIT_HOSTS_FAILED = 4
EXIT_CHANGES_PENDING = 2

register(
    {
        "hosts.col.host": {"zh": "主机", "en": "Host"},
        "hosts.col.role": {"zh": "角色", "en": "Role"},
        "hosts.col.status": {"zh": "状态", "en": "Status"},
        "hosts.col.changed": {"zh": "变更", "en": "Changed"},
        "hosts.col.what": {"zh": "变更内容 / 错误", "en": "What changed / errors"},
        "hosts.col.checks": {"zh": "检查通过", "en": "Checks passed"},
        "hosts.status.ok": {"zh": "无变更", "en": "ok"},
        "hosts.status.changed": {"zh": "已变更", "en": "changed"},
        "hosts.status.failed": {"zh": "失败", "en": "failed"},
        "hosts.status.unreachable": {"zh": "不可达", "en": "unreachable"},
        "hosts.status.passed": {"zh": "通过", "en": "passed"},
        "hosts.summary.apply": {
            "zh": "{hosts} 台主机：{changed} 台有变更，{failed} 台失败，"
            "{unreachable} 台不可达。",
            "en": "{hosts} hosts: {changed} changed, {failed} failed, "
            "{unreachable} unreachable.",
        },
        "hosts.summary.check": {
            "zh": "检查模式（未做任何变更）：{changed} 台主机将有变更，"
            "{failed} 台失败，{unreachable} 台不可达。",
            "en": "Check mode (nothing changed): {changed} host(s) would change, "
            "{failed} failed, {unreachable} unreachable.",
        },
        "hosts.summary.verify": {
            "zh": "{hosts} 台主机：{passed} 台通过全部检查，{failed} 台未通过。",
            "en": "{hosts} hosts: {passed} passed every check, {failed} did not.",
        },
        "hosts.run_failed": {
            "zh": "Ansible 未能完成运行（状态 {status}，返回码 {rc}）：",
            "en": "Ansible did not finish (status {status}, rc {rc}):",
        },
        "hosts.diff_of": {"zh": "{host} · {task}", "en": "{host} · {task}"},
        "hosts.artifacts": {"zh": "运行记录：{path}", "en": "Run artifacts: {path}"},
        "hosts.file_unreadable": {
            "zh": "无法读取文件：{error}",
            "en": "cannot read the file: {error}",
        },
        "hosts.file_not_mapping": {
            "zh": "应为映射（键: 值）",
            "en": "expected a mapping (key: value)",
        },
    }
)


def _read_mapping(path: str | None, what: str) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problem = Problem(path, None, what, t("hosts.file_unreadable", error=exc))
        raise SpecError([problem]) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError([Problem(path, None, what, t("hosts.file_not_mapping"))])
    return data


def build_inventory(
    spec_path: str, divisions: tuple[str, ...], connection_file: str | None
) -> HostsInventory:
    """The inventory of the spec's hosts, with connection variables laid over."""
    spec = load(spec_path, divisions, lambda step, done, total: None)
    desired = build_desired(spec, layers=["hosts"])
    connection = _read_mapping(connection_file, "connection")
    defaults = connection.pop("all", None) or {}
    names = [r.key for r in desired.layer("hosts")]
    merged: dict[str, dict[str, Any]] = {
        name: {**defaults, **(connection.get(name) or {})} for name in names
    }
    # Names that are not hosts stay in, so the inventory check reports them.
    merged.update({k: dict(v or {}) for k, v in connection.items() if k not in merged})
    racks = [rack.name for rack in spec.datacenter.racks]
    return inventory_from_resources(desired.layer("hosts"), racks, merged)


class HostProgress:
    """One line per host: its last task and how many tasks it has run."""

    def __init__(self, names: list[str]) -> None:
        self.enabled = console.is_terminal
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[host]:<14}"),
            TextColumn("{task.completed:>3}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.rows = {
            name: self.bar.add_task("…", host=name, total=None) for name in names
        }

    def __enter__(self) -> HostProgress:
        if self.enabled:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()

    def __call__(self, event: TaskEvent) -> None:
        log.debug("%s: %s: %s", event.host, event.status, event.task)
        if not self.enabled:
            if event.status in ("failed", "unreachable"):
                console.print(
                    f"{event.host}: {event.status}: {event.task}", markup=False
                )
            return
        row = self.rows.get(event.host)
        if row is None:
            row = self.rows[event.host] = self.bar.add_task("", host=event.host)
        label = escape(f"{t('hosts.status.' + _label(event.status))}: {event.task}")
        self.bar.update(row, description=label, advance=1)


def _label(status: str) -> str:
    return status if status in ("changed", "failed", "unreachable") else "ok"


_STYLES = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "red"}


def print_run(
    result: HostsRunResult, inventory: HostsInventory, show_diff: bool
) -> None:
    table = Table(show_lines=False)
    for column in ("host", "role", "status", "changed", "what"):
        table.add_column(t(f"hosts.col.{column}"))
    roles = {h.name: h.role or "" for h in inventory.hosts}
    for name, host in sorted(result.hosts.items()):
        lines = host.errors or host.changed_tasks
        table.add_row(
            name,
            roles.get(name, ""),
            f"[{_STYLES[host.status]}]{t('hosts.status.' + host.status)}[/]",
            str(host.changed),
            escape("\n".join(lines)),
        )
    out.print(table)
    if show_diff:
        for name, host in sorted(result.hosts.items()):
            for task, diff in host.diffs:
                out.print(t("hosts.diff_of", host=name, task=task), style="bold")
                out.print(diff, markup=False, highlight=False)
    if result.message:
        console.print(t("hosts.run_failed", status=result.status, rc=result.rc))
        console.print(result.message, markup=False)
    key = "hosts.summary.check" if result.mode == "check" else "hosts.summary.apply"
    out.print(
        t(
            key,
            hosts=len(result.hosts),
            changed=len(result.changed_hosts),
            failed=len(result.failed_hosts),
            unreachable=len(result.unreachable_hosts),
        )
    )
    if result.artifacts is not None:
        console.print(t("hosts.artifacts", path=result.artifacts), markup=False)


def print_verify(result: VerifyResult, inventory: HostsInventory) -> None:
    table = Table()
    for column in ("host", "role", "status", "checks", "what"):
        table.add_column(t(f"hosts.col.{column}"))
    roles = {h.name: h.role or "" for h in inventory.hosts}
    for name, checks in sorted(result.hosts.items()):
        status = "passed" if checks.ok else "failed"
        style = "green" if checks.ok else "red"
        problems = [f"{check}: {message}" for check, message in checks.failures]
        table.add_row(
            name,
            roles.get(name, ""),
            f"[{style}]{t('hosts.status.' + status)}[/]",
            str(checks.passed),
            escape("\n".join(problems)),
        )
    out.print(table)
    out.print(
        t(
            "hosts.summary.verify",
            hosts=len(result.hosts),
            passed=len(result.hosts) - len(result.failed_hosts),
            failed=len(result.failed_hosts),
        )
    )


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("spec", type=click.Path(exists=True)),
        click.option(
            "--divisions", multiple=True, type=click.Path(exists=True, dir_okay=False)
        ),
        click.option(
            "--connection",
            "connection_file",
            type=click.Path(exists=True, dir_okay=False),
            help="YAML: host name (or 'all') -> ansible_* connection variables.",
        ),
        click.option(
            "--vars",
            "vars_file",
            type=click.Path(exists=True, dir_okay=False),
            help="YAML of role variables (e.g. base_ops_users).",
        ),
        click.option(
            "--known-hosts",
            type=click.Path(exists=True, dir_okay=False),
            help="Check SSH host keys against this file only.",
        ),
        click.option("--limit", default=None, help="Comma-separated host names."),
        click.option(
            "--json", "as_json", is_flag=True, help="Print the result as JSON."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--forks", default=5, show_default=True, type=click.IntRange(1, 50)
        ),
        click.option(
            "--work-dir",
            type=click.Path(file_okay=False),
            default=".citycloud/hosts",
            show_default=True,
            help="ansible-runner's folder; run artifacts are kept here.",
        ),
        click.option(
            "--keep-artifacts",
            default=5,
            show_default=True,
            type=click.IntRange(1, 1000),
            help="How many runs' artifacts to keep (older ones are removed).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def run_hosts(mode: str, spec: str, params: Mapping[str, Any]) -> HostsRunResult:
    """Run the site playbook for ``spec``; what the CLI commands call."""
    inventory = build_inventory(spec, params["divisions"], params["connection_file"])
    extra_vars = _read_mapping(params["vars_file"], "vars")
    known = params["known_hosts"]
    with HostProgress(inventory.names) as progress:
        result = run_site(
            inventory,
            mode=mode,
            work_dir=Path(params["work_dir"]),
            extra_vars=extra_vars,
            limit=params["limit"],
            forks=params["forks"],
            keep_artifacts=params["keep_artifacts"],
            known_hosts=Path(known) if known else None,
            progress=progress,
        )
    if params["as_json"]:
        out.print(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2), markup=False
        )
    else:
        print_run(result, inventory, show_diff=mode == "check" or params["show_diff"])
    return result


@click.group("hosts")
def hosts() -> None:
    """The data center's hosts: Ansible roles, checked by testinfra (数据中心主机)."""


@hosts.command("apply")
@_common
@_run_options
@click.option("--diff", "show_diff", is_flag=True, help="Also print file diffs.")
@guarded
def apply_command(spec: str, **params: Any) -> None:
    """Bring every host to its role; a second run changes nothing."""
    result = run_hosts("apply", spec, params)
    if not result.succeeded:
        raise SystemExit(EXIT_HOSTS_FAILED)


@hosts.command("check")
@_common
@_run_options
@click.option("--exit-code", is_flag=True, help="Exit 2 when some host would change.")
@guarded
def check_command(spec: str, exit_code: bool, **params: Any) -> None:
    """Show what apply would change on each host, with diffs; change nothing."""
    result = run_hosts("check", spec, {**params, "show_diff": True})
    if not result.succeeded:
        raise SystemExit(EXIT_HOSTS_FAILED)
    if exit_code and result.changed_hosts:
        raise SystemExit(EXIT_CHANGES_PENDING)


@hosts.command("verify")
@_common
@guarded
def verify_command(spec: str, **params: Any) -> None:
    """Run the testinfra checks of every role on every host."""
    inventory = build_inventory(spec, params["divisions"], params["connection_file"])
    known = params["known_hosts"]
    limit = params["limit"].split(",") if params["limit"] else None
    result = verify_hosts(
        inventory,
        extra_vars=_read_mapping(params["vars_file"], "vars"),
        known_hosts=Path(known) if known else None,
        limit=limit,
    )
    if params["as_json"]:
        out.print(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2), markup=False
        )
    else:
        print_verify(result, inventory)
    if not result.ok:
        raise SystemExit(EXIT_HOSTS_FAILED)


add_command(hosts)
