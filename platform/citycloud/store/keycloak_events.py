"""Keycloak's own login and admin events, copied into the audit ledger.

The Keycloak adapter pulls events through the admin API (``GET /events`` and
``GET /admin-events``) as plain dicts; this module turns each into one ledger
record. Pulling overlapping windows is expected, so ingestion is idempotent by
the event's id. Keycloak gives events an ``id`` only from 26.2; older events
are keyed by a hash of their content, which is just as stable.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from citycloud.store.audit import AuditLedger, Event

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SOURCE_EVENTS = "keycloak.event"
SOURCE_ADMIN = "keycloak.admin_event"

# Keycloak's user event types that are sign-ins and sign-outs in the ledger's
# own vocabulary; everything else keeps its Keycloak type as the action.
_LOGIN_TYPES = {"LOGIN", "LOGIN_ERROR", "CODE_TO_TOKEN"}
_LOGOUT_TYPES = {"LOGOUT", "LOGOUT_ERROR"}


def event_id(event: Mapping[str, Any]) -> str:
    """Keycloak's id, or a content hash for servers older than 26.2."""
    given = event.get("id")
    if given:
        return str(given)
    text = json.dumps(event, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _time(event: Mapping[str, Any]) -> datetime | None:
    millis = event.get("time")
    if not isinstance(millis, int | float):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def _user_event(
    event: Mapping[str, Any], org_of: Callable[[str | None], str | None]
) -> Event:
    details = event.get("details") or {}
    actor = details.get("username") or event.get("userId")
    kc_type = str(event.get("type", "UNKNOWN"))
    return Event(
        kind=SOURCE_EVENTS,
        actor=actor,
        org_code=org_of(actor),
        target=event.get("clientId"),
        action=kc_type.lower(),
        outcome="error" if event.get("error") or kc_type.endswith("_ERROR") else "ok",
        detail={
            "keycloak_id": event_id(event),
            "realm": event.get("realmId"),
            "user_id": event.get("userId"),
            "session_id": event.get("sessionId"),
            "ip": event.get("ipAddress"),
            "error": event.get("error"),
            "details": dict(details),
            "login": kc_type in _LOGIN_TYPES,
            "logout": kc_type in _LOGOUT_TYPES,
        },
        time=_time(event),
    )


def _admin_event(
    event: Mapping[str, Any], org_of: Callable[[str | None], str | None]
) -> Event:
    auth = event.get("authDetails") or {}
    actor = auth.get("username") or auth.get("userId")
    # The representation can carry credentials (a user's password, a client's
    # secret); the ledger keeps only which fields it had.
    representation = event.get("representation")
    fields: list[str] = []
    if isinstance(representation, str) and representation:
        try:
            parsed = json.loads(representation)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            fields = sorted(parsed)
    return Event(
        kind=SOURCE_ADMIN,
        actor=actor,
        org_code=org_of(actor),
        target=event.get("resourcePath"),
        action=str(event.get("operationType", "UNKNOWN")).lower(),
        outcome="error" if event.get("error") else "ok",
        detail={
            "keycloak_id": event_id(event),
            "realm": event.get("realmId"),
            "resource_type": event.get("resourceType"),
            "auth_realm": auth.get("realmId"),
            "auth_client": auth.get("clientId"),
            "ip": auth.get("ipAddress"),
            "error": event.get("error"),
            "representation_fields": fields,
        },
        time=_time(event),
    )


def is_admin_event(event: Mapping[str, Any]) -> bool:
    """Admin events carry ``operationType``; the adapter also tags them."""
    return event.get("kind") == "admin" or "operationType" in event


def ingest_keycloak_events(
    ledger: AuditLedger,
    events: Iterable[Mapping[str, Any]],
    *,
    org_of: Callable[[str | None], str | None] | None = None,
) -> int:
    """Append the events not seen before (login and admin mixed); how many were new.

    ``org_of`` maps a user name to its organisation code when the caller
    knows the directory.
    """
    lookup = org_of or (lambda _user: None)
    by_source: dict[str, list[tuple[str, Event]]] = {
        SOURCE_EVENTS: [],
        SOURCE_ADMIN: [],
    }
    for event in events:
        if is_admin_event(event):
            by_source[SOURCE_ADMIN].append(
                (event_id(event), _admin_event(event, lookup))
            )
        else:
            by_source[SOURCE_EVENTS].append(
                (event_id(event), _user_event(event, lookup))
            )
    added = 0
    for source, items in by_source.items():
        # Oldest first, so the ledger's order follows Keycloak's clock.
        items.sort(key=lambda item: item[1].time or _EPOCH)
        added += ledger.append_once(source, items)
    if added:
        log.info("Keycloak events ingested into the audit ledger: %d new", added)
    return added


def keycloak_cursor(ledger: AuditLedger) -> tuple[int | None, list[str]]:
    """Where the next pull starts: (newest event time in ms, ids seen at it).

    Hand both to the Keycloak adapter's ``pull_events(since, seen=...)``.
    """
    newest = ledger.query(
        kinds=[SOURCE_EVENTS, SOURCE_ADMIN], limit=1, newest_first=True
    )
    if not newest or newest[0].time is None:
        return None, []
    moment = newest[0].time
    since = int(moment.timestamp() * 1000)
    same = ledger.query(
        kinds=[SOURCE_EVENTS, SOURCE_ADMIN],
        since=moment,
        until=moment + timedelta(milliseconds=1),
        limit=None,
    )
    return since, sorted(str(r.detail.get("keycloak_id")) for r in same)


__all__ = ["event_id", "ingest_keycloak_events", "is_admin_event", "keycloak_cursor"]
