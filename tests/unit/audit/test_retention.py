"""Retention: nothing younger than the retention goes, nothing older stays unheld."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from citycloud.store.audit import AuditError, AuditLedger
from citycloud.store.audit_schema import audit_anchor, audit_record

RETENTION = timedelta(days=180)


def age_ledger(ledger: AuditLedger, clock: Any) -> None:
    """Records 1-20 written 200 days ago, 21-30 written 100 days ago."""
    for i in range(20):
        ledger.append(
            "auth.login",
            actor=f"old{i % 2}",
            org_code="150402",
            tenant="edu" if i % 4 == 0 else None,
        )
    clock.advance(days=100)
    for i in range(10):
        ledger.append("auth.login", actor=f"recent{i}", org_code="150402")
    clock.advance(days=100)


def kept_seqs(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(audit_record.c.seq)
                .where(audit_record.c.pruned.is_(False))
                .order_by(audit_record.c.seq)
            ).scalars()
        )


def test_prune_removes_only_records_past_retention(
    ledger: AuditLedger, engine: sa.Engine, clock: Any
) -> None:
    age_ledger(ledger, clock)

    result = ledger.prune(RETENTION, by="auditor1")

    assert (result.pruned, result.held, result.anchor_seq) == (20, 0, 20)
    assert kept_seqs(engine) == list(range(21, 32))  # 31 is the prune's own record
    assert ledger.query(kinds=["audit.prune"])[0].detail["pruned"] == 20


def test_chain_still_verifies_after_pruning_and_further_appends(
    ledger: AuditLedger, clock: Any
) -> None:
    age_ledger(ledger, clock)
    ledger.prune(RETENTION, by="auditor1")
    for i in range(12):
        ledger.append("portal.page", actor=f"u{i}")

    result = ledger.verify()

    assert result.ok, result.problems
    assert result.last_seq == 43


def test_a_hold_keeps_matching_records_and_the_chain_verifies_through_gaps(
    ledger: AuditLedger, engine: sa.Engine, clock: Any
) -> None:
    age_ledger(ledger, clock)
    hold_id = ledger.hold("纪检调查 2026-17", created_by="auditor1", tenant="edu")

    result = ledger.prune(RETENTION, by="auditor1")

    held = [1, 5, 9, 13, 17]
    assert result.held == len(held)
    assert kept_seqs(engine)[: len(held)] == held
    assert ledger.verify().ok
    assert ledger.query(kinds=["audit.hold"])[0].target == f"hold:{hold_id}"


def test_released_hold_lets_the_next_prune_remove_the_records(
    ledger: AuditLedger, engine: sa.Engine, clock: Any
) -> None:
    age_ledger(ledger, clock)
    hold_id = ledger.hold("case 17", created_by="auditor1", actor="old0")
    ledger.prune(RETENTION, by="auditor1")
    assert len(ledger.query(actor="old0")) == 10

    ledger.release_hold(hold_id, released_by="auditor2")
    ledger.prune(RETENTION, by="auditor1")

    assert ledger.query(actor="old0") == []
    assert ledger.holds() == []
    assert ledger.verify().ok


def test_prune_refuses_a_retention_below_six_months(ledger: AuditLedger) -> None:
    with pytest.raises(AuditError, match="180"):
        ledger.prune(timedelta(days=30), by="auditor1")


def test_a_forged_anchor_is_detected(
    ledger: AuditLedger, engine: sa.Engine, clock: Any
) -> None:
    age_ledger(ledger, clock)
    ledger.prune(RETENTION, by="auditor1")
    with engine.begin() as conn:
        conn.execute(sa.update(audit_anchor).values(seq=25))
        conn.execute(sa.delete(audit_record).where(audit_record.c.seq <= 25))

    result = ledger.verify()

    assert "anchor_signature" in {p.code for p in result.problems}
