"""A hold on an organisation keeps its whole subtree, fixed when it is set.

The upgrade tests start from a store at the revision before holds stored
their codes (0002) and check that holds set then survive with the scope they
had: their one code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from citycloud.spec import load_spec
from citycloud.store import StateStore
from citycloud.store.audit import AuditError, AuditLedger
from citycloud.store.audit_schema import audit_hold_org
from citycloud.store.signing import KeyRing
from citycloud.store.state import MIGRATIONS

RETENTION = timedelta(days=180)
COUNTY = "150402"  # 红山区
TOWNSHIP = "150402001"  # 西屯街道, under 红山区
SIBLING = "150404"  # 松山区
SIBLING_TOWNSHIP = "150404100"  # 穆家营子镇, under 松山区
CITY = "1504"


def staff_records(ledger: AuditLedger, clock: Any) -> None:
    """One sign-in by the staff of each organisation, 200 days ago."""
    for code in (CITY, COUNTY, TOWNSHIP, SIBLING, SIBLING_TOWNSHIP):
        ledger.append("auth.login", actor=f"staff-{code}", org_code=code)
    clock.advance(days=200)


def kept_orgs(ledger: AuditLedger) -> set[str | None]:
    return {r.actor_org_code for r in ledger.query(kinds=["auth.login"], limit=None)}


def test_a_county_hold_keeps_its_townships_and_prunes_its_siblings(
    ledger: AuditLedger, clock: Any, example_spec_dir: Path
) -> None:
    spec = load_spec(example_spec_dir)
    staff_records(ledger, clock)
    ledger.hold(
        "纪检调查 2026-17",
        created_by="审计员王芳",
        org_code=COUNTY,
        org_codes=spec.subtree(COUNTY),
        org_name=spec.orgs[COUNTY].name,
    )

    result = ledger.prune(RETENTION, by="auditor1")

    assert kept_orgs(ledger) == {COUNTY, TOWNSHIP}
    assert result.held == 2 and result.pruned == 3
    assert ledger.verify().ok


def test_releasing_the_county_hold_lets_its_subtree_go(
    ledger: AuditLedger, clock: Any, example_spec_dir: Path
) -> None:
    spec = load_spec(example_spec_dir)
    staff_records(ledger, clock)
    hold_id = ledger.hold(
        "纪检调查",
        created_by="auditor1",
        org_code=COUNTY,
        org_codes=spec.subtree(COUNTY),
    )
    ledger.prune(RETENTION, by="auditor1")

    ledger.release_hold(hold_id, released_by="auditor2")
    ledger.prune(RETENTION, by="auditor1")

    assert kept_orgs(ledger) == set()
    assert ledger.verify().ok


def test_the_hold_keeps_the_codes_it_was_set_with(ledger: AuditLedger) -> None:
    hold_id = ledger.hold(
        "纪检调查",
        created_by="审计员王芳",
        org_code=COUNTY,
        org_codes=[TOWNSHIP],  # the named code itself is always covered
        org_name="红山区",
    )

    (held,) = ledger.holds()
    (record,) = ledger.query(kinds=["audit.hold"])

    assert held.id == hold_id and held.covered_orgs == {COUNTY, TOWNSHIP}
    assert held.org_name == "红山区"
    assert held.scope()["org_codes"] == [COUNTY, TOWNSHIP]
    assert record.actor == "审计员王芳"
    assert record.detail["org_code"] == COUNTY
    assert record.detail["org_name"] == "红山区"
    assert record.detail["org_codes"] == [COUNTY, TOWNSHIP]


def test_a_hold_without_codes_covers_the_one_organisation(
    ledger: AuditLedger, clock: Any
) -> None:
    staff_records(ledger, clock)
    ledger.hold("case 17", created_by="auditor1", org_code=COUNTY)

    ledger.prune(RETENTION, by="auditor1")

    assert kept_orgs(ledger) == {COUNTY}
    assert ledger.query(kinds=["audit.hold"])[0].detail["org_codes"] == [COUNTY]


def test_codes_without_an_organisation_are_refused(ledger: AuditLedger) -> None:
    with pytest.raises(AuditError, match="org_code"):
        ledger.hold("case", created_by="auditor1", org_codes=[COUNTY])


def test_released_holds_keep_their_codes(ledger: AuditLedger) -> None:
    hold_id = ledger.hold(
        "case", created_by="auditor1", org_code=COUNTY, org_codes=[COUNTY, TOWNSHIP]
    )
    ledger.release_hold(hold_id, released_by="auditor2")

    (released,) = ledger.holds(active_only=False)

    assert ledger.holds() == []
    assert released.released_at is not None
    assert released.covered_orgs == {COUNTY, TOWNSHIP}


# -- upgrading a store from the revision before ---------------------------------


@pytest.fixture
def blank_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for a store that starts at an older revision."""
    yield f"sqlite:///{tmp_path / 'old-state.db'}"


def migrate(store: StateStore, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def old_hold(store: StateStore, org_code: str, released: bool = False) -> None:
    """A hold as citycloud wrote it at revision 0002: one org_code, no scope."""
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit_hold (reason, created_by, created_at, org_code, "
                "released_at) VALUES (:reason, :by, :at, :org, :released)"
            ),
            {
                "reason": "纪检调查（旧版本设置）",
                "by": "审计员王芳",
                "at": "2026-01-05T08:00:00.000000Z",
                "org": org_code,
                "released": "2026-01-06T08:00:00.000000Z" if released else None,
            },
        )


def test_upgrade_keeps_holds_set_before_with_their_one_code(
    blank_url: str, keys: KeyRing, clock: Any
) -> None:
    old = StateStore(blank_url, migrate=False)
    migrate(old, "0002")
    staff_records(AuditLedger(old, signer=keys, clock=clock), clock)
    old_hold(old, COUNTY)
    old_hold(old, SIBLING, released=True)
    old.engine.dispose()

    store = StateStore(blank_url)  # opening migrates to the newest revision
    ledger = AuditLedger(store, signer=keys, clock=clock)
    active = ledger.holds()
    every = ledger.holds(active_only=False)
    ledger.prune(RETENTION, by="auditor1")

    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_hold_org).order_by(audit_hold_org.c.hold_id)
        ).all()
    assert [tuple(row) for row in rows] == [(1, COUNTY), (2, SIBLING)]
    (held,) = active
    assert held.reason == "纪检调查（旧版本设置）" and held.created_by == "审计员王芳"
    assert held.covered_orgs == {COUNTY} and held.org_name is None
    assert [h.covered_orgs for h in every] == [{COUNTY}, {SIBLING}]
    assert kept_orgs(ledger) == {COUNTY}  # exactly what it kept before
    assert ledger.verify().ok
    # New holds on the upgraded store cover a subtree.
    ledger.hold("新案", created_by="auditor1", org_code=SIBLING, org_codes=[SIBLING])
    assert len(ledger.holds()) == 2
    store.engine.dispose()


def test_downgrade_drops_the_scope_and_keeps_the_holds(
    blank_url: str, keys: KeyRing, clock: Any
) -> None:
    store = StateStore(blank_url)
    ledger = AuditLedger(store, signer=keys, clock=clock)
    ledger.hold(
        "纪检调查", created_by="auditor1", org_code=COUNTY, org_codes=[COUNTY, TOWNSHIP]
    )

    migrate(store, "0002", down=True)
    with store.engine.connect() as conn:
        codes = conn.execute(sa.text("SELECT org_code FROM audit_hold")).scalars()
        assert list(codes) == [COUNTY]
        assert not sa.inspect(conn).has_table(audit_hold_org.name)
    migrate(store, "head")
    assert [h.covered_orgs for h in ledger.holds()] == [{COUNTY}]
    store.engine.dispose()
