"""Keycloak's login and admin events land in the ledger once, whatever the overlap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from citycloud.store.audit import AuditLedger
from citycloud.store.keycloak_events import (
    event_id,
    ingest_keycloak_events,
    keycloak_cursor,
)

T0 = int(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp() * 1000)


def login(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"ev-{n}",
        "time": T0 + n * 1000,
        "type": "LOGIN",
        "realmId": "chifeng",
        "clientId": "portal",
        "userId": f"uid-{n}",
        "ipAddress": "10.20.0.7",
        "details": {"username": "张三", "auth_method": "openid-connect"},
        "kind": "login",
        **extra,
    }


def admin(n: int) -> dict[str, Any]:
    return {
        "id": f"adm-{n}",
        "time": T0 + n * 1000,
        "realmId": "chifeng",
        "authDetails": {"realmId": "master", "clientId": "admin-cli", "userId": "adm"},
        "operationType": "UPDATE",
        "resourceType": "USER",
        "resourcePath": "users/uid-1/reset-password",
        "representation": (
            '{"type":"password","value":"N0t-In-Ledger!","temporary":false}'
        ),
        "kind": "admin",
    }


def test_events_become_ledger_records(ledger: AuditLedger) -> None:
    added = ingest_keycloak_events(
        ledger,
        [
            login(1),
            login(2, type="LOGIN_ERROR", error="invalid_user_credentials"),
            admin(3),
        ],
        org_of=lambda user: "150402" if user == "张三" else None,
    )

    records = ledger.query(limit=None)
    assert added == 3
    assert [(r.kind, r.action, r.outcome) for r in records] == [
        ("keycloak.event", "login", "ok"),
        ("keycloak.event", "login_error", "error"),
        ("keycloak.admin_event", "update", "ok"),
    ]
    assert records[0].actor == "张三" and records[0].actor_org_code == "150402"
    assert records[0].time == datetime(2026, 1, 5, 9, 0, 1, tzinfo=UTC)
    assert records[2].target == "users/uid-1/reset-password"


def test_pulling_the_same_events_again_adds_nothing(ledger: AuditLedger) -> None:
    ingest_keycloak_events(ledger, [login(1), login(2)])

    again = ingest_keycloak_events(ledger, [login(2), login(3), login(3)])

    assert again == 1
    assert [r.detail["keycloak_id"] for r in ledger.query(limit=None)] == [
        "ev-1",
        "ev-2",
        "ev-3",
    ]
    assert ledger.verify().ok


def test_events_without_an_id_are_keyed_by_their_content(ledger: AuditLedger) -> None:
    old = {k: v for k, v in login(5).items() if k != "id"}

    assert ingest_keycloak_events(ledger, [old]) == 1
    assert ingest_keycloak_events(ledger, [dict(old)]) == 0
    assert event_id(old).startswith("sha256:")


def test_an_admin_events_representation_never_reaches_the_ledger(
    ledger: AuditLedger,
) -> None:
    ingest_keycloak_events(ledger, [admin(1)])

    record = ledger.query()[0]
    assert "N0t-In-Ledger!" not in str(record.detail)
    assert record.detail["representation_fields"] == ["temporary", "type", "value"]


def test_the_cursor_resumes_after_the_newest_event(ledger: AuditLedger) -> None:
    assert keycloak_cursor(ledger) == (None, [])
    ingest_keycloak_events(ledger, [login(1), login(4), admin(4)])

    since, seen = keycloak_cursor(ledger)

    assert since == T0 + 4000
    assert seen == ["adm-4", "ev-4"]
