"""Where the portal's data comes from: spec, state store, audit, requests, metrics.

Pages never open a file or a connection themselves; they call these functions,
which cache clients with ``st.cache_resource`` and queries with
``st.cache_data``. Settings come from the environment that ``citycloud portal``
prepares (``CITYCLOUD_SPEC``, ``CITYCLOUD_STATE_URL``,
``CITYCLOUD_PROMETHEUS_URL``, ``CITYCLOUD_RUN_DIR``).

The audit ledger and the onboarding requests are ``citycloud.store``'s; this
module only adapts them to what the pages show (rows in the city's time zone,
a CSV Excel opens with Chinese intact).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from citycloud.access import OrgTree

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TZ = "Asia/Shanghai"


def run_dir() -> Path:
    base = Path(os.environ.get("CITYCLOUD_RUN_DIR", "/tmp/citycloud-run"))
    path = base / "portal"
    path.mkdir(parents=True, exist_ok=True)
    return path


def spec_path() -> Path:
    return Path(os.environ.get("CITYCLOUD_SPEC") or REPO / "examples" / "chifeng")


def state_url() -> str:
    return (
        os.environ.get("CITYCLOUD_STATE_URL") or f"sqlite:///{run_dir() / 'state.db'}"
    )


def prometheus_url() -> str | None:
    return os.environ.get("CITYCLOUD_PROMETHEUS_URL") or None


# --- spec ---------------------------------------------------------------------


def _spec_version(path: Path) -> float:
    """Newest modification time under the spec path, so new files reload it."""
    if path.is_file():
        return path.stat().st_mtime
    times = [p.stat().st_mtime for p in path.rglob("*.y*ml")]
    return max(times, default=0.0)


@st.cache_resource(show_spinner=False)
def _load_spec(path: str, version: float) -> Any:
    from citycloud.spec import load_spec

    log.debug("loading spec %s (version %s)", path, version)
    return load_spec(Path(path))


def spec() -> Any:
    """The current spec; raises citycloud.errors.SpecError when it is invalid."""
    path = spec_path()
    return _load_spec(str(path), _spec_version(path))


def org_tree() -> OrgTree:
    return OrgTree.of(spec().orgs.values())


def city_tz() -> ZoneInfo:
    try:
        return ZoneInfo(spec().city.timezone)
    except Exception:  # the spec is unreadable: still show times in the city's zone
        return ZoneInfo(DEFAULT_TZ)


def local_time(value: str | datetime | None) -> str:
    """A time in the city's zone, as people there read it."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M:%S")


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- state store, audit ledger ----------------------------------------------------


@st.cache_resource(show_spinner=False)
def state_store() -> Any:
    """The state store; opening it runs the migrations (audit tables too)."""
    from citycloud.store import StateStore

    return StateStore(state_url())


class _NewestFirst:
    """The audit ledger, asked for the newest records first."""

    def __init__(self, ledger: Any) -> None:
        self.raw = ledger

    def append(self, kind: str, **fields: Any) -> Any:
        return self.raw.append(kind, **fields)

    def query(self, **filters: Any) -> Sequence[Any]:
        return self.raw.query(newest_first=True, **filters)  # type: ignore[no-any-return]


@st.cache_resource(show_spinner=False)
def ledger() -> _NewestFirst:
    from citycloud.store.audit import AuditLedger

    return _NewestFirst(AuditLedger(state_store()))


@dataclass(frozen=True)
class AuditRow:
    """One audit record as the portal shows it."""

    time: str
    kind: str
    actor: str = ""
    org_code: str = ""
    tenant: str = ""
    target: str = ""
    action: str = ""
    outcome: str = ""
    detail: str = ""


AUDIT_COLUMNS = [f for f in AuditRow.__dataclass_fields__]


def record(
    kind: str,
    *,
    actor: str,
    org_code: str | None = None,
    tenant: str | None = None,
    target: str | None = None,
    action: str | None = None,
    outcome: str = "ok",
    detail: Mapping[str, Any] | str | None = None,
) -> None:
    """Append one audit record; the portal never fails a page over the ledger."""
    body = {"text": detail} if isinstance(detail, str) else dict(detail or {})
    try:
        ledger().append(
            kind,
            actor=actor,
            org_code=org_code,
            tenant=tenant,
            target=target,
            action=action,
            outcome=outcome,
            detail=body,
        )
    except Exception:
        log.exception("could not append audit record %s for %s", kind, actor)


def _field(row: Any, name: str, *alts: str) -> str:
    for key in (name, *alts):
        value = row.get(key) if isinstance(row, Mapping) else getattr(row, key, None)
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Mapping):
            return (
                json.dumps(dict(value), ensure_ascii=False, default=str)
                if value
                else ""
            )
        if value is not None:
            return str(value)
    return ""


def audit_rows(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    org_codes: Sequence[str] | None = None,
    tenant: str | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = 2000,
) -> list[AuditRow]:
    found = ledger().query(
        since=since,
        until=until,
        actor=actor or None,
        org_codes=list(org_codes) if org_codes is not None else None,
        tenant=tenant or None,
        kinds=list(kinds) if kinds else None,
        limit=limit,
    )
    return [
        AuditRow(
            time=_field(r, "time"),
            kind=_field(r, "kind"),
            actor=_field(r, "actor"),
            org_code=_field(r, "org_code", "actor_org_code"),
            tenant=_field(r, "tenant"),
            target=_field(r, "target"),
            action=_field(r, "action"),
            outcome=_field(r, "outcome"),
            detail=_field(r, "detail"),
        )
        for r in found
    ]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # Excel would run a cell that starts like a formula: keep it as text.
    return "'" + value if value.startswith(_FORMULA_START) else value


def audit_csv(rows: Sequence[AuditRow], headers: Sequence[str]) -> bytes:
    """CSV that Excel opens with Chinese intact: UTF-8 with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        values = asdict(row)
        values["time"] = local_time(row.time)
        writer.writerow([_cell(values[c]) for c in AUDIT_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


# --- onboarding requests --------------------------------------------------------


def requests_store() -> Any:
    """Onboarding requests over the ledger, routed with the current spec's tree."""
    from citycloud.store.requests import OnboardingRequests

    return OnboardingRequests(ledger().raw, spec())


# --- metrics --------------------------------------------------------------------


@st.cache_data(ttl=30, show_spinner=False)
def prom_query(expr: str) -> list[dict[str, Any]]:
    """An instant PromQL query: [{"metric": {...}, "value": float}, ...]."""
    import requests

    url = prometheus_url()
    if url is None:
        return []
    response = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5)
    response.raise_for_status()
    body = response.json()
    return [
        {"metric": item["metric"], "value": float(item["value"][1])}
        for item in body.get("data", {}).get("result", [])
    ]


@st.cache_data(ttl=30, show_spinner=False)
def prom_range(expr: str, minutes: int = 60, step: str = "60s") -> list[dict[str, Any]]:
    """A range query flattened to rows: metric labels, time (UTC), value."""
    import requests

    url = prometheus_url()
    if url is None:
        return []
    end = now_utc()
    params: dict[str, str | float] = {
        "query": expr,
        "start": end.timestamp() - minutes * 60,
        "end": end.timestamp(),
        "step": step,
    }
    response = requests.get(f"{url}/api/v1/query_range", params=params, timeout=5)
    response.raise_for_status()
    rows: list[dict[str, Any]] = []
    for series in response.json().get("data", {}).get("result", []):
        for stamp, value in series["values"]:
            moment = datetime.fromtimestamp(float(stamp), UTC).astimezone(city_tz())
            rows.append({**series["metric"], "time": moment, "value": float(value)})
    return rows


# --- applies --------------------------------------------------------------------


def recent_applies(limit: int = 20) -> list[dict[str, Any]]:
    """The latest applies: time, actor, layers, number of changes, outcome."""
    return [
        {
            "time": record_.started_at,
            "actor": record_.actor,
            "layer": ", ".join(record_.layers),
            "changes": sum(int(v) for v in record_.summary.values()),
            "outcome": record_.status,
        }
        for record_ in state_store().recent_applies(limit)
    ]


def find_requests(states: Sequence[str] | None = None) -> list[Any]:
    """Onboarding requests, oldest first, optionally only in ``states``."""
    from citycloud.store.requests import RequestState

    wanted = [RequestState(s) for s in states] if states is not None else None
    return list(requests_store().find(states=wanted))
