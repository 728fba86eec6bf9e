"""The ``citycloud`` command. Thin: each command loads the spec, calls the
package, and prints. Outside systems add their options through
:mod:`citycloud.cli_common` from their own ``cli_<area>`` modules."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

# Each area registers its options and commands on import, before the commands
# below are defined: add one name per area here.
from citycloud import (  # noqa: F401
    cli_audit,
    cli_common,
    cli_grafana,
    cli_hosts,
    cli_keycloak,
    cli_kubernetes,
    cli_openstack,
    cli_portal,
    cli_scheduler,
)
from citycloud.apply import (
    Workspace,
    apply_plan,
    make_workspace,
    plan_workspace,
    write_artifacts,
)
from citycloud.cli_common import (
    console,
    guarded,
    out,
    progress_bar,
    with_engine_options,
)
from citycloud.desired import LAYERS
from citycloud.errors import SafetyError
from citycloud.i18n import register, t, use
from citycloud.plan import SafetyPolicy, check_safety, render_json, render_text
from citycloud.store import StateStore
from citycloud.store.secrets import install_log_redaction

register(
    {
        "cli.valid": {
            "zh": "规格有效：{orgs} 个组织，{tenants} 个租户，{hosts} 台主机。",
            "en": "The spec is valid: {orgs} organisations, {tenants} tenants, {hosts} hosts.",
        },
        "cli.artifacts": {
            "zh": "已生成 {count} 个文件于 {path}",
            "en": "Wrote {count} artifact(s) to {path}",
        },
        "cli.applied": {
            "zh": "已应用：新建 {create}，修改 {update}，删除 {delete}（记录 {apply_id}）",
            "en": "Applied: {create} created, {update} changed, {delete} deleted "
            "(record {apply_id})",
        },
        "cli.nothing": {
            "zh": "无需变更，未执行任何操作。",
            "en": "Nothing to change; nothing ran.",
        },
    }
)

spec_argument = click.argument("spec", type=click.Path(exists=True, dir_okay=True))
common_options = [
    click.option(
        "--divisions",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Divisions CSV (code,name,parent_code,level) to add to the organisation tree.",
    ),
    click.option(
        "--layer",
        "layers",
        multiple=True,
        type=click.Choice(LAYERS),
        help="Only these layers (default: all).",
    ),
    click.option(
        "--state",
        "state_url",
        envvar="CITYCLOUD_STATE_URL",
        default=None,
        help="State store URL (default sqlite:///.citycloud/state.db).",
    ),
    click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        default=".citycloud/artifacts",
        show_default=True,
        help="Folder for rendered artifacts.",
    ),
]


def with_common(func: Any) -> Any:
    for option in reversed(common_options):
        func = option(func)
    return with_engine_options(func)


@click.group()
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    envvar="CITYCLOUD_LANG",
    default="zh",
    help="Language of messages (中文 by default).",
)
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(package_name="citycloud")
def main(lang: str, verbose: int) -> None:
    """citycloud: the city's private cloud as code (城市云即代码)."""
    use(lang)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_log_redaction()  # every secret this process reads stays out of its logs


def _workspace(spec_path: str, params: dict[str, Any], progress: Any) -> Workspace:
    spec = cli_common.load(spec_path, params["divisions"], progress)
    store = StateStore(params["state_url"])
    engines = cli_common.build_engines(spec, params)
    return make_workspace(spec, store, engines, params["layers"] or None, progress)


@main.command()
@spec_argument
@click.option(
    "--divisions", multiple=True, type=click.Path(exists=True, dir_okay=False)
)
@guarded
def validate(spec: str, divisions: tuple[str, ...]) -> None:
    """Check the spec and report every problem with file, line and field."""
    with progress_bar() as progress:
        loaded = cli_common.load(spec, divisions, progress)
    out.print(
        t(
            "cli.valid",
            orgs=len(loaded.orgs),
            tenants=len(loaded.tenants),
            hosts=len(loaded.datacenter.hosts),
        )
    )


@main.command()
@spec_argument
@with_common
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--exit-code", is_flag=True, help="Exit 2 when the plan has changes.")
@guarded
def plan(spec: str, as_json: bool, exit_code: bool, **params: Any) -> None:
    """Show what would change in every layer (nothing is changed)."""
    with progress_bar() as progress, _workspace(spec, params, progress) as ws:
        result = plan_workspace(ws, progress)
        written = write_artifacts(ws, Path(params["out_dir"]))
    if as_json:
        out.print(render_json(result), markup=False)
    else:
        _print_plan(render_text(result))
        console.print(t("cli.artifacts", count=len(written), path=params["out_dir"]))
        try:
            check_safety(result, SafetyPolicy())
        except SafetyError as refusal:
            console.print(
                t("safety.warn", message=str(refusal)), style="yellow", markup=False
            )
    if exit_code and not result.is_empty:
        sys.exit(2)


@main.command()
@spec_argument
@with_common
@click.option(
    "--allow-delete", is_flag=True, help="Allow deleting tenants, volumes, groups."
)
@click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Also allow deleting many tenants at once.",
)
@click.option(
    "--max-delete-share",
    type=click.FloatRange(0, 1),
    default=0.25,
    show_default=True,
    help="Share of tenants a plan may delete without --allow-mass-delete.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the applied plan as JSON.")
@guarded
def apply(
    spec: str,
    allow_delete: bool,
    allow_mass_delete: bool,
    max_delete_share: float,
    as_json: bool,
    **params: Any,
) -> None:
    """Make every layer match the spec; a second apply changes nothing."""
    policy = SafetyPolicy(allow_delete, allow_mass_delete, max_delete_share)
    with progress_bar() as progress, _workspace(spec, params, progress) as ws:
        result = plan_workspace(ws, progress)
        if not as_json:
            _print_plan(render_text(result))
        outcome = apply_plan(ws, result, policy, progress=progress)
        write_artifacts(ws, Path(params["out_dir"]))
    if as_json:
        out.print(
            json.dumps(
                {
                    "apply_id": outcome.apply_id,
                    "status": outcome.status,
                    **result.to_dict(),
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            ),
            markup=False,
        )
    elif outcome.apply_id is None:
        out.print(t("cli.nothing"))
    else:
        counts = result.counts()
        out.print(
            t(
                "cli.applied",
                apply_id=outcome.apply_id,
                create=counts["create"],
                update=counts["update"],
                delete=counts["delete"],
            )
        )


@main.command()
@click.option("--state", "state_url", envvar="CITYCLOUD_STATE_URL", default=None)
@click.option("--limit", default=20, show_default=True)
@guarded
def history(state_url: str | None, limit: int) -> None:
    """Recent applies: when, by whom, what changed, and how it ended."""
    store = StateStore(state_url)
    for record in store.recent_applies(limit):
        counts = record.summary
        out.print(
            f"{record.started_at:%Y-%m-%d %H:%M:%S} {record.status:10} {record.actor:12} "
            f"+{counts.get('create', 0)} ~{counts.get('update', 0)} "
            f"-{counts.get('delete', 0)} {record.id}"
            + (f"  {record.error}" if record.error else ""),
            markup=False,
        )


def _print_plan(text: str) -> None:
    styles = {"+": "green", "~": "yellow", "-": "red"}
    for line in text.splitlines():
        stripped = line.lstrip()
        style = styles.get(stripped[:1]) if stripped[1:2] == " " else None
        out.print(line, style=style, markup=False)


for _command in cli_common.EXTRA_COMMANDS:
    main.add_command(_command)
