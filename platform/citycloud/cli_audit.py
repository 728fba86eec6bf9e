"""``citycloud audit ...``: verify, export, seal, prune and hold the audit ledger.

Each command is a thin wrapper over :mod:`citycloud.store.audit`; the state
store comes from ``--state`` (or CITYCLOUD_STATE_URL) and the signing keys from
``--key-dir`` (or CITYCLOUD_AUDIT_KEY_DIR, else beside the SQLite state file).
Dates given without a time zone are read in the city's zone (Asia/Shanghai
unless ``--tz`` says otherwise), because that is how auditors think of them.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from citycloud import cli_common
from citycloud.apply import current_actor
from citycloud.cli_common import console, guarded, out
from citycloud.i18n import register, t
from citycloud.spec import load_spec
from citycloud.store import StateStore
from citycloud.store.audit import (
    DEFAULT_RETENTION,
    AuditLedger,
    Hold,
    VerifyResult,
    format_time,
    make_filters,
    open_ledger,
)
from citycloud.store.keycloak_events import ingest_keycloak_events, keycloak_cursor
from citycloud.store.signing import KEY_DIR_ENV

register(
    {
        "audit.verify.ok": {
            "zh": "审计日志完整：已核验 {records} 条记录、{digests} 个签名摘要，"
            "最新记录 #{last}。",
            "en": "The audit ledger is intact: {records} records and {digests} signed "
            "digests checked, last record #{last}.",
        },
        "audit.verify.bad": {
            "zh": "审计日志被篡改：第一条有问题的记录是 #{seq}。",
            "en": "The audit ledger was tampered with: the first bad record is #{seq}.",
        },
        "audit.verify.bad_digest": {
            "zh": "审计日志的签名摘要有问题：",
            "en": "A signed digest of the audit ledger is wrong:",
        },
        "audit.export.done": {
            "zh": "已导出 {count} 条审计记录（{format}），导出操作本身已记入审计日志。",
            "en": "Exported {count} audit records ({format}); the export itself is "
            "recorded in the ledger.",
        },
        "audit.seal.done": {
            "zh": "已签名摘要至记录 #{seq}。",
            "en": "Signed a digest up to record #{seq}.",
        },
        "audit.seal.none": {
            "zh": "自上次签名以来没有新记录。",
            "en": "No records since the last signed digest.",
        },
        "audit.prune.done": {
            "zh": "已清理 {pruned} 条超过保留期（{days} 天，截至 {cutoff}）的记录，"
            "{held} 条因保全而保留。",
            "en": "Pruned {pruned} records older than the retention ({days} days, "
            "before {cutoff}); {held} kept under a hold.",
        },
        "audit.hold.done": {
            "zh": "已设置保全 #{id}：匹配的记录在解除前不会被清理。",
            "en": "Hold #{id} set: matching records are kept until it is released.",
        },
        "audit.hold.released": {
            "zh": "已解除保全 #{id}。",
            "en": "Hold #{id} released.",
        },
        "audit.hold.none": {"zh": "当前没有保全。", "en": "No active holds."},
        "audit.hold.subtree": {
            "zh": "保全范围：{name}（{code}）及其全部下级，按当前规格共 {count} 个组织；"
            "此后规格变更不影响本保全。",
            "en": "It covers {name} ({code}) and everything under it as the spec "
            "stands now, {count} organisations in all; later spec changes do not "
            "alter it.",
        },
        "audit.hold.exact": {
            "zh": "保全范围：仅组织 {code} 本身。",
            "en": "It covers organisation {code} only.",
        },
        "audit.keys.rotated": {
            "zh": "签名密钥已轮换：当前密钥 {key_id}"
            "（旧私钥已销毁，旧公钥保留用于核验）。",
            "en": "Signing key rotated: current key {key_id} "
            "(old private key destroyed, old public keys kept for verification).",
        },
        "audit.keycloak.pulled": {
            "zh": "已从 Keycloak 领域 {realm} 复制 {count} 条新事件到审计日志。",
            "en": "Copied {count} new events from Keycloak realm {realm} "
            "into the audit ledger.",
        },
        "audit.hold.everything": {
            "zh": "保全范围：全部审计记录（未限定人员、组织、租户或时间）。",
            "en": "It covers every audit record (no person, organisation, tenant "
            "or dates given).",
        },
        "audit.hold.all": {"zh": "全部记录", "en": "all records"},
        "audit.hold.needs_reason": {
            "zh": "设置保全须用 --reason 写明原因（例如 --reason 纪检调查）。",
            "en": "--reason is required to set a hold (e.g. --reason "
            "'disciplinary inquiry').",
        },
        "audit.hold.not_active": {
            "zh": "没有编号为 {id} 的有效保全（--list 列出有效保全）。",
            "en": "No active hold {id} (--list shows the active holds).",
        },
        "audit.org.unknown": {
            "zh": "规格中没有组织 {org}（须为统计区划代码，例如 150402）。",
            "en": "unknown organisation {org} (give its statistical division "
            "code, e.g. 150402).",
        },
        "audit.bad_date": {
            "zh": "{text!r} 不是日期（例如 2026-01-31 或 ISO 8601 格式）。",
            "en": "{text!r} is not a date (2026-01-31 or ISO 8601).",
        },
        "audit.org.needs_spec": {
            "zh": "--org 需要 --spec 才能包含下级组织；未提供时只匹配该组织本身。",
            "en": "--org needs --spec to include subordinate organisations; without it "
            "only that organisation itself matches.",
        },
    }
)

# One line per kind of problem verify can find, for the person reading it.
register(
    {
        f"audit.problem.{code}": {"zh": zh, "en": en}
        for code, zh, en in (
            ("content", "记录内容在写入后被修改", "a record was edited"),
            (
                "rewritten",
                "记录被修改并重算了哈希",
                "a record was edited and re-hashed",
            ),
            ("missing", "记录被删除", "a record was deleted"),
            (
                "moved",
                "记录顺序被调换或被删除后重新编号",
                "records were reordered or renumbered",
            ),
            ("inserted", "有记录被插入", "a record was inserted"),
            ("hash", "记录哈希不符", "a record's hash does not match"),
            ("link", "记录链的起点不符", "the chain does not start where it should"),
            (
                "digest_mismatch",
                "签名摘要之后的记录链被重写",
                "the chain under a signed digest was rewritten",
            ),
            (
                "digest_signature",
                "签名摘要的签名无效",
                "a signed digest's signature fails",
            ),
            ("digest_missing", "签名摘要被删除", "a signed digest was deleted"),
            (
                "anchor_signature",
                "清理锚点的签名无效",
                "a prune anchor's signature fails",
            ),
            ("missing_tail", "最新的记录被截去", "the newest records were cut off"),
        )
    }
)

state_option = click.option(
    "--state",
    "state_url",
    envvar="CITYCLOUD_STATE_URL",
    default=None,
    help="State store URL (default sqlite:///.citycloud/state.db).",
)
key_dir_option = click.option(
    "--key-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=KEY_DIR_ENV,
    default=None,
    help="Folder of the Ed25519 signing keys (default: beside the SQLite state).",
)
spec_option = click.option(
    "--spec",
    "spec_path",
    type=click.Path(exists=True),
    envvar="CITYCLOUD_SPEC",
    default=None,
    help="The city spec (for the organisation tree and the retention).",
)
divisions_option = click.option(
    "--divisions",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Divisions CSV (code,name,parent_code,level) to add to the spec's "
    "organisation tree, as given to plan and apply.",
)
tz_option = click.option(
    "--tz",
    default="Asia/Shanghai",
    show_default=True,
    help="Time zone of dates given without one (and of the times hold --list shows).",
)


def _ledger(state_url: str | None, key_dir: Path | None) -> AuditLedger:
    return open_ledger(StateStore(state_url), key_dir=key_dir)


def _moment(text: str | None, zone: str, option: str | None = None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            t("audit.bad_date", text=text), param_hint=option
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _org_subtree(
    org: str, spec_path: str | None, divisions: tuple[str, ...] = ()
) -> tuple[list[str], str | None]:
    """``org`` and every code under it in the spec, and ``org``'s name.

    Without a spec only ``org`` itself (with a warning) and no name.
    """
    if spec_path is None:
        console.print(t("audit.org.needs_spec"), style="yellow")
        return [org], None
    spec = load_spec(spec_path, divisions)
    if org not in spec.orgs:
        raise click.BadParameter(t("audit.org.unknown", org=org), param_hint="--org")
    return list(spec.subtree(org)), spec.orgs[org].name


def _org_codes(
    org: str | None, spec_path: str | None, divisions: tuple[str, ...] = ()
) -> list[str] | None:
    return None if org is None else _org_subtree(org, spec_path, divisions)[0]


# A hold on the whole city covers thousands of codes: --list shows the first.
_LISTED_CODES = 20


def describe_hold(item: Hold, zone: str | None = None) -> str:
    """One line for ``hold --list``: who set it, why, and what it covers.

    With ``zone`` its times are shown in that time zone (the one ``--since``
    and ``--until`` were read in), to the second; without it in UTC as stored.
    """

    def when(moment: datetime) -> str:
        if zone is None:
            return format_time(moment)
        return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")

    scope = item.scope()
    parts: list[str] = []
    for key in ("actor", "org_code", "tenant", "since", "until"):
        if key not in scope:
            continue
        moment = getattr(item, key) if key in ("since", "until") else None
        if isinstance(moment, datetime):
            parts.append(f"{key}={when(moment)}")
            continue
        if key != "org_code":
            parts.append(f"{key}={scope[key]}")
            continue
        named = " ".join(filter(None, (item.org_code, item.org_name)))
        codes: list[str] = scope["org_codes"]
        more = f",… ({len(codes)} in all)" if len(codes) > _LISTED_CODES else ""
        parts.append(f"org={named}")
        parts.append(f"orgs={','.join(codes[:_LISTED_CODES])}{more}")
    return (
        f"#{item.id} {when(item.created_at)} {item.created_by}: "
        f"{item.reason} [{' '.join(parts) or t('audit.hold.all')}]"
    )


def print_verify(result: VerifyResult) -> None:
    if result.ok:
        out.print(
            t(
                "audit.verify.ok",
                records=result.records_checked,
                digests=result.digests_checked,
                last=result.last_seq,
            )
        )
        return
    if result.first_bad_seq is not None:
        console.print(t("audit.verify.bad", seq=result.first_bad_seq), style="bold red")
    else:
        console.print(t("audit.verify.bad_digest"), style="bold red")
    for problem in result.problems:
        summary = t(f"audit.problem.{problem.code}")
        console.print(f"  {summary}: {problem.message}", markup=False)


@click.group()
def audit() -> None:
    """The audit ledger: verify, export, seal, prune, holds, signing keys."""


@audit.command()
@state_option
@key_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@guarded
def verify(state_url: str | None, key_dir: Path | None, as_json: bool) -> None:
    """Check every record and signed digest; name the first bad record.

    Exits 0 when the ledger is intact, 6 when anything is wrong.
    """
    result = _ledger(state_url, key_dir).verify()
    if as_json:
        out.print(
            json.dumps(
                {
                    "ok": result.ok,
                    "records_checked": result.records_checked,
                    "digests_checked": result.digests_checked,
                    "last_seq": result.last_seq,
                    "first_bad_seq": result.first_bad_seq,
                    "problems": [
                        {
                            "code": p.code,
                            "seq": p.seq,
                            "digest": p.digest_id,
                            "message": p.message,
                        }
                        for p in result.problems
                    ],
                },
                ensure_ascii=False,
                indent=2,
            ),
            markup=False,
        )
    else:
        print_verify(result)
    if not result.ok:
        sys.exit(6)


@audit.command()
@state_option
@key_dir_option
@spec_option
@divisions_option
@tz_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@click.option("--since", default=None, help="From this date or time (inclusive).")
@click.option("--until", default=None, help="Up to this date or time (exclusive).")
@click.option("--actor", default=None, help="Only this person.")
@click.option("--org", default=None, help="Only people of this organisation and below.")
@click.option("--tenant", default=None, help="Only this tenant (slug).")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable).")
@guarded
def export(
    state_url: str | None,
    key_dir: Path | None,
    spec_path: str | None,
    divisions: tuple[str, ...],
    tz: str,
    fmt: str,
    out_path: Path | None,
    since: str | None,
    until: str | None,
    actor: str | None,
    org: str | None,
    tenant: str | None,
    kinds: tuple[str, ...],
) -> None:
    """Export records as CSV (UTF-8 with BOM, for Excel) or JSON Lines."""
    ledger = _ledger(state_url, key_dir)
    filters = make_filters(
        since=_moment(since, tz, "--since"),
        until=_moment(until, tz, "--until"),
        actor=actor,
        org_codes=_org_codes(org, spec_path, divisions),
        tenant=tenant,
        kinds=kinds or None,
    )
    by = current_actor()
    if out_path is None:
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        count = ledger.export(stream, fmt, by=by, filters=filters)
        stream.detach()
    else:
        with out_path.open("w", encoding="utf-8", newline="") as handle:
            count = ledger.export(handle, fmt, by=by, filters=filters)
    console.print(t("audit.export.done", count=count, format=fmt))


@audit.command()
@state_option
@key_dir_option
@guarded
def seal(state_url: str | None, key_dir: Path | None) -> None:
    """Sign a digest of every record since the last signed one."""
    sealed = _ledger(state_url, key_dir).seal()
    if sealed is None:
        out.print(t("audit.seal.none"))
    else:
        out.print(t("audit.seal.done", seq=sealed))


@audit.command()
@state_option
@key_dir_option
@spec_option
@click.option(
    "--retention-days",
    type=click.IntRange(min=DEFAULT_RETENTION.days),
    default=None,
    help="Override the spec's audit.retention_days.",
)
@guarded
def prune(
    state_url: str | None,
    key_dir: Path | None,
    spec_path: str | None,
    retention_days: int | None,
) -> None:
    """Remove records older than the retention, except those under a hold."""
    days = retention_days
    if days is None:
        days = (
            load_spec(spec_path).city.audit.retention_days
            if spec_path
            else DEFAULT_RETENTION.days
        )
    ledger = _ledger(state_url, key_dir)
    ledger.seal()
    result = ledger.prune(timedelta(days=days), by=current_actor())
    out.print(
        t(
            "audit.prune.done",
            pruned=result.pruned,
            held=result.held,
            days=days,
            cutoff=format_time(result.cutoff),
        )
    )


@audit.command()
@state_option
@key_dir_option
@spec_option
@divisions_option
@tz_option
@click.option("--reason", default=None, help="Why the records must be kept.")
@click.option("--actor", default=None, help="Keep this person's records.")
@click.option(
    "--org",
    "org_code",
    default=None,
    help="Keep the records of this organisation and every one under it "
    "(from --spec; without it only this code).",
)
@click.option("--tenant", default=None, help="Keep this tenant's records.")
@click.option("--since", default=None, help="Keep records from this date.")
@click.option("--until", default=None, help="Keep records before this date.")
@click.option(
    "--release",
    "release_id",
    type=int,
    default=None,
    help="Release the hold with this number instead.",
)
@click.option("--list", "list_holds", is_flag=True, help="List the active holds.")
@guarded
def hold(
    state_url: str | None,
    key_dir: Path | None,
    spec_path: str | None,
    divisions: tuple[str, ...],
    tz: str,
    reason: str | None,
    actor: str | None,
    org_code: str | None,
    tenant: str | None,
    since: str | None,
    until: str | None,
    release_id: int | None,
    list_holds: bool,
) -> None:
    """Keep matching records past the retention (a legal or disciplinary hold).

    A hold on an organisation covers it and every organisation under it as
    the spec stands when the hold is set; that set of codes is stored with the
    hold, so later spec changes neither widen nor narrow it.
    """
    ledger = _ledger(state_url, key_dir)
    if list_holds:
        holds = ledger.holds()
        if not holds:
            out.print(t("audit.hold.none"))
        for item in holds:
            out.print(describe_hold(item, tz), markup=False)
        return
    if release_id is not None:
        if release_id not in {item.id for item in ledger.holds()}:
            raise click.BadParameter(
                t("audit.hold.not_active", id=release_id), param_hint="--release"
            )
        ledger.release_hold(release_id, released_by=current_actor())
        out.print(t("audit.hold.released", id=release_id))
        return
    if not reason:
        raise click.UsageError(t("audit.hold.needs_reason"))
    codes, org_name = (
        _org_subtree(org_code, spec_path, divisions)
        if org_code is not None
        else (None, None)
    )
    hold_id = ledger.hold(
        reason,
        created_by=current_actor(),
        actor=actor,
        org_code=org_code,
        org_codes=codes,
        org_name=org_name,
        tenant=tenant,
        since=_moment(since, tz, "--since"),
        until=_moment(until, tz, "--until"),
    )
    out.print(t("audit.hold.done", id=hold_id))
    if not any((actor, org_code, tenant, since, until)):
        out.print(t("audit.hold.everything"))
    if org_code is None or codes is None:
        return
    if spec_path is None:
        out.print(t("audit.hold.exact", code=org_code), markup=False)
    else:
        line = t("audit.hold.subtree", name=org_name, code=org_code, count=len(codes))
        out.print(line, markup=False)


@audit.command("pull-keycloak")
@state_option
@key_dir_option
@spec_option
@click.option(
    "--keycloak",
    "url",
    envvar="CITYCLOUD_KEYCLOAK_URL",
    default=None,
    help="Keycloak server (default: the spec's identity.url).",
)
@click.option("--realm", default=None, help="Realm (default: the spec's realm).")
@guarded
def pull_keycloak(
    state_url: str | None,
    key_dir: Path | None,
    spec_path: str | None,
    url: str | None,
    realm: str | None,
) -> None:
    """Copy Keycloak's login and admin events into the ledger (run it often).

    Starts after the newest event already copied; running it twice adds
    nothing. Admin credentials: CITYCLOUD_KEYCLOAK_USER / _PASSWORD.
    """
    spec = load_spec(spec_path) if spec_path else None
    server = url or (spec.city.identity.url if spec else None)
    realm_name = realm or (spec.realm if spec else None)
    if not server or not realm_name:
        raise click.UsageError("give --keycloak and --realm, or --spec")
    # The Keycloak SDK is an optional extra: import it only when used.
    from citycloud.adapters.keycloak.client import KeycloakApi
    from citycloud.adapters.keycloak.events import pull_events

    ledger = _ledger(state_url, key_dir)
    since, seen = keycloak_cursor(ledger)
    api = KeycloakApi.connect(server, realm_name)
    added = ingest_keycloak_events(ledger, pull_events(api, since, seen=seen))
    out.print(t("audit.keycloak.pulled", count=added, realm=realm_name))


@audit.group()
def keys() -> None:
    """The Ed25519 keys that sign the ledger's digests."""


@keys.command()
@state_option
@key_dir_option
@guarded
def rotate(state_url: str | None, key_dir: Path | None) -> None:
    """Seal with the current key, then make a new one current."""
    ledger = _ledger(state_url, key_dir)
    assert ledger.signer is not None
    if ledger.signer.current_key_id() is not None:
        ledger.seal()
    key_id = ledger.signer.rotate()
    out.print(t("audit.keys.rotated", key_id=key_id))


@keys.command("list")
@state_option
@key_dir_option
@guarded
def list_keys(state_url: str | None, key_dir: Path | None) -> None:
    """Every key id that digests may name; the current one is marked."""
    ledger = _ledger(state_url, key_dir)
    assert ledger.signer is not None
    current = ledger.signer.current_key_id()
    for key_id in ledger.signer.key_ids():
        out.print(("* " if key_id == current else "  ") + key_id, markup=False)


cli_common.add_command(audit)
