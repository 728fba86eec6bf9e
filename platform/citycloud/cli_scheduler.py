"""``citycloud schedule SPEC``: place the spec's VM workloads on compute hosts.

Hosts and workloads come from the spec; with ``--cloud`` the hosts' live sizes
and usage come from Placement, servers that already run are left where they
are (unless a higher priority workload displaces a preemptible one: it is
shelved and offloaded, then unshelved wherever the run re-placed it), and each
placed workload's server is created on its chosen host, or unshelved there,
and checked to run there. ``--prometheus`` feeds the load-aware rules; without it (or when it
cannot be reached) hosts are judged from their allocations and the output
says so. ``--shadow`` decides and reports only, whatever the other options.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from citycloud.cli_common import add_command, console, guarded, out
from citycloud.i18n import register, t
from citycloud.scheduler import (
    JsonLinesRecorder,
    MetricsSnapshot,
    Scheduler,
    ScheduleResult,
    Workload,
)
from citycloud.scheduler.inputs import hosts_from_spec, workloads_from_spec
from citycloud.scheduler.model import Allocation, Host, priority_name
from citycloud.scheduler.recorder import DecisionRecorder

log = logging.getLogger(__name__)

register(
    {
        "scheduler.placed": {
            "zh": "{workload} → {host}",
            "en": "{workload} -> {host}",
        },
        "scheduler.unplaced": {
            "zh": "{workload}：无可用主机（{reason}）",
            "en": "{workload}: no host ({reason})",
        },
        "scheduler.summary": {
            "zh": "共 {total} 个工作负载：已放置 {placed}，未放置 {unplaced}，"
            "被挤占 {displaced}。",
            "en": "{total} workloads: {placed} placed, {unplaced} unplaced, "
            "{displaced} displaced.",
        },
        "scheduler.shadow": {
            "zh": "影子模式：仅报告决策，未做任何变更。",
            "en": "Shadow mode: decisions reported, nothing changed.",
        },
        "scheduler.stale": {
            "zh": "注意：{note}",
            "en": "Note: {note}",
        },
        "scheduler.existing": {
            "zh": "已在运行、跳过：{count} 个服务器。",
            "en": "Already running, skipped: {count} server(s).",
        },
        "scheduler.create": {
            "zh": "已创建 {server} 于 {host}（实际主机 {actual}，状态 {status}）",
            "en": "Created {server} on {host} (runs on {actual}, status {status})",
        },
        "scheduler.unshelve": {
            "zh": "已恢复 {server} 于 {host}（实际主机 {actual}，状态 {status}）",
            "en": "Unshelved {server} onto {host} (runs on {actual}, status {status})",
        },
        "scheduler.evict": {
            "zh": "已搁置并卸载 {server}，释放主机 {host}（状态 {status}）",
            "en": "Shelved and offloaded {server}, freeing {host} (status {status})",
        },
        "scheduler.evict_failed": {
            "zh": "未能释放主机 {host}：{server} 仍为状态 {status}（实际主机 {actual}）",
            "en": "Could not free {host}: {server} is {status} (runs on {actual})",
        },
        "scheduler.unknown_tenant": {
            "zh": "没有这些租户：{names}。--tenant 取租户的 slug（可重复给出），"
            "本规格中有：{known}",
            "en": "No such tenant(s): {names}. --tenant takes a tenant's slug "
            "(repeat it for several); this spec has: {known}",
        },
        "scheduler.tenant_item": {"zh": "{slug}（{name}）", "en": "{slug} ({name})"},
        "scheduler.no_vm": {
            "zh": "注意：{names} 是容器租户，没有需要调度的虚拟机工作负载。",
            "en": "Note: {names} run(s) containers only: no VM workloads to place.",
        },
        "scheduler.no_cloud": {
            "zh": "未指定 --cloud：仅报告决策，没有创建或移动任何服务器。",
            "en": "No --cloud given: decisions reported, no server created or moved.",
        },
        "scheduler.unverified": {
            "zh": "{count} 个服务器未达到预期状态（未在所选主机上运行或未能释放主机）。",
            "en": "{count} server(s) did not end as intended (not running on "
            "their chosen host, or not freed from it).",
        },
    }
)


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False)


class _Fanout:
    """Sends each decision record to several recorders."""

    def __init__(self, recorders: Iterable[DecisionRecorder]) -> None:
        self.recorders = list(recorders)

    def record(self, entry: dict[str, Any]) -> None:
        for recorder in self.recorders:
            recorder.record(entry)


class AuditRecorder:
    """Puts each decision in the audit ledger (append-only, verifiable).

    A decision is recorded as "decide" ("shadow" in shadow mode): it changes
    nothing by itself. What was done to servers follows as its own records,
    with the binding's action (create, evict, unshelve).
    """

    def __init__(self, ledger: Any, actor: str) -> None:
        self.ledger = ledger
        self.actor = actor

    def record(self, entry: dict[str, Any]) -> None:
        good = entry.get("outcome") == "placed" or entry.get("verified") is True
        self.ledger.append(
            str(entry.get("kind") or "scheduler.decision"),
            actor=self.actor,
            tenant=entry.get("tenant"),
            target=entry.get("workload"),
            action=str(
                entry.get("action") or ("shadow" if entry.get("shadow") else "decide")
            ),
            outcome="ok" if good else "failed",
            detail=entry,
        )


def _live(
    cloud: str, spec_hosts: list[Host], known: list[Workload], place: set[str]
) -> tuple[Any, list[Host], list[Allocation], list[Workload], int]:
    """Live hosts and usage; the workloads of `place` still to run, and how
    many of them already do. All `known` workloads are recognised, so the
    spec's preemptible servers of any tenant may be displaced."""
    from citycloud.adapters.openstack.engine import connect
    from citycloud.scheduler.binding import merge_hosts, read_cloud

    conn = connect(cloud)
    live = read_cloud(conn, known, place)
    running = sum(1 for key in live.existing if key in place)
    return (
        conn,
        merge_hosts(spec_hosts, live.hosts),
        live.allocations,
        live.pending,
        running,
    )


def _print(result: ScheduleResult, verbose: bool) -> None:
    if result.metrics_note:
        console.print(t("scheduler.stale", note=result.metrics_note), style="yellow")
    for decision in result.decisions:
        key = decision.workload.key
        if decision.host is not None:
            line = t("scheduler.placed", workload=key, host=decision.host)
        else:
            line = t("scheduler.unplaced", workload=key, reason=decision.reason)
        if not verbose:
            _say(line)
            continue
        # The person's line once, with the priority, then explain()'s reasons.
        _say(f"{line} [{priority_name(decision.workload.priority)}]")
        reasons = decision.reasons()
        if reasons:
            _say("\n".join(reasons))
    _say(
        t(
            "scheduler.summary",
            total=len(result.placements) + len(result.unplaced),
            placed=len(result.placements),
            unplaced=len(result.unplaced),
            displaced=len(result.displaced),
        )
    )


def _check_tenants(spec: Any, tenants: tuple[str, ...]) -> None:
    """Refuse a --tenant the spec does not have (a name instead of a slug, a
    typo, "a,b"): placing nothing without a word would read as success. A
    container tenant is fine but has nothing to place, and the output says so.
    """
    if not tenants:
        return
    by_slug = {tenant.slug: tenant for tenant in spec.tenants}
    unknown = [name for name in tenants if name not in by_slug]
    if unknown:
        known = ", ".join(
            t("scheduler.tenant_item", slug=tenant.slug, name=tenant.name)
            if tenant.name != tenant.slug
            else tenant.slug
            for tenant in spec.tenants
        )
        raise click.BadParameter(
            t("scheduler.unknown_tenant", names=", ".join(unknown), known=known),
            param_hint="--tenant",
        )
    containers = [name for name in tenants if by_slug[name].kind == "container"]
    if containers:
        console.print(t("scheduler.no_vm", names=", ".join(containers)), style="yellow")


@click.command("schedule")
@click.argument("spec", type=click.Path(exists=True))
@click.option(
    "--prometheus",
    "prometheus_url",
    envvar="CITYCLOUD_PROMETHEUS_URL",
    default=None,
    help="Prometheus base URL for the load-aware rules.",
)
@click.option(
    "--cloud",
    envvar="CITYCLOUD_CLOUD",
    default=None,
    help="Cloud name in clouds.yaml: read hosts live and create servers.",
)
@click.option("--shadow", is_flag=True, help="Decide and report only; change nothing.")
@click.option("--tenant", "tenants", multiple=True, help="Only these tenants (slugs).")
@click.option(
    "--record",
    "record_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append every decision to this JSON-lines file.",
)
@click.option(
    "--audit",
    "audit_state",
    default=None,
    metavar="STATE_URL",
    help="Also record every decision in this state store's audit ledger.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole run as JSON.")
@click.option("--explain", is_flag=True, help="Print each decision's reasons.")
@guarded
def schedule(
    spec: str,
    prometheus_url: str | None,
    cloud: str | None,
    shadow: bool,
    tenants: tuple[str, ...],
    record_path: Path | None,
    audit_state: str | None,
    as_json: bool,
    explain: bool,
) -> None:
    """Place the spec's VM workloads on compute hosts."""
    from citycloud.spec import load_spec

    loaded = load_spec(spec)
    _check_tenants(loaded, tenants)
    hosts = hosts_from_spec(loaded)
    # Every tenant's workloads are known (their servers may be displaced);
    # only the chosen tenants' are placed.
    known = workloads_from_spec(loaded)
    workloads = [w for w in known if not tenants or w.tenant in tenants]
    allocations: list[Allocation] = []
    conn = None
    if cloud:
        place = {w.key for w in workloads}
        conn, hosts, allocations, workloads, skipped = _live(cloud, hosts, known, place)
        if skipped:
            console.print(t("scheduler.existing", count=skipped))
    snapshot = MetricsSnapshot.empty("no --prometheus given")
    if prometheus_url:
        from citycloud.scheduler.prometheus import PrometheusSource

        snapshot = PrometheusSource(prometheus_url).snapshot()
    recorders: list[DecisionRecorder] = []
    if record_path is not None:
        recorders.append(JsonLinesRecorder(record_path))
    if audit_state:
        from citycloud.apply import current_actor
        from citycloud.store import StateStore
        from citycloud.store.audit import open_ledger

        recorders.append(
            AuditRecorder(open_ledger(StateStore(audit_state)), current_actor())
        )
    scheduler = Scheduler(
        shadow=shadow, recorder=_Fanout(recorders) if recorders else None
    )
    result = scheduler.schedule(hosts, workloads, allocations, snapshot)
    if as_json:
        _say(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print(result, explain)
    if shadow:
        console.print(t("scheduler.shadow"), style="cyan")
        return
    if conn is None:
        console.print(t("scheduler.no_cloud"), style="cyan")
    if conn is not None:
        from citycloud.scheduler.binding import (
            EVICT,
            Binding,
            OpenStackBinder,
            bind_placements,
        )

        def report(b: Binding) -> None:
            failed = b.action == EVICT and not b.verified
            _say(
                t(
                    "scheduler.evict_failed" if failed else f"scheduler.{b.action}",
                    server=b.server_name,
                    host=b.host,
                    actual=b.actual_host or "-",
                    status=b.status,
                )
            )
            for recorder in recorders:
                recorder.record(b.to_dict())

        bindings = bind_placements(result, OpenStackBinder(conn), report)
        wrong = [b for b in bindings if not b.verified]
        if wrong:
            console.print(t("scheduler.unverified", count=len(wrong)), style="red")
            raise SystemExit(1)


add_command(schedule)
