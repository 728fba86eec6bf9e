"""Appending, querying, key rotation and concurrent appends."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from citycloud.store.audit import AuditError, AuditLedger
from citycloud.store.signing import AuditKeyError, KeyRing


def test_append_returns_the_stored_record_chained_to_the_previous(
    ledger: AuditLedger,
) -> None:
    first = ledger.append("auth.login", actor="zhangsan", org_code="1504")
    second = ledger.append(
        "apply.change",
        actor="ops1",
        tenant="hongshan-edu",
        target="openstack/project/hongshan-edu",
        action="create",
        detail={"plan_id": "p-42"},
    )

    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    assert second.detail == {"plan_id": "p-42"}


def test_secret_looking_detail_values_never_reach_the_ledger(
    ledger: AuditLedger,
) -> None:
    record = ledger.append(
        "onboarding.request",
        actor="a",
        detail={"admin_password": "S3cret!!", "nested": {"client_secret": "xyz"}},
    )

    stored = ledger.query()[0]
    assert record.detail == stored.detail
    assert "S3cret!!" not in str(stored.detail)
    assert "xyz" not in str(stored.detail)


def test_kind_must_be_a_dotted_name(ledger: AuditLedger) -> None:
    with pytest.raises(AuditError):
        ledger.append("Login", actor="a")


def test_query_filters_by_time_person_org_tenant_and_kind(
    ledger: AuditLedger, clock: Any
) -> None:
    ledger.append("auth.login", actor="张三", org_code="150402")
    clock.advance(hours=1)
    start = clock.now
    ledger.append("portal.page", actor="张三", org_code="150402", tenant="edu")
    ledger.append("portal.denied", actor="李四", org_code="150404", tenant="edu")
    ledger.append("portal.page", actor="王五", org_code="150403", tenant="health")
    clock.advance(hours=1)
    ledger.append("auth.logout", actor="张三", org_code="150402")

    assert [r.seq for r in ledger.query(since=start, until=clock.now)] == [2, 3, 4]
    assert [r.seq for r in ledger.query(actor="张三")] == [1, 2, 5]
    assert [r.seq for r in ledger.query(org_codes=["150402", "150403"])] == [1, 2, 4, 5]
    assert [r.seq for r in ledger.query(tenant="edu")] == [2, 3]
    assert [r.seq for r in ledger.query(kinds=["portal.page", "portal.denied"])] == [
        2,
        3,
        4,
    ]
    assert [r.seq for r in ledger.query(limit=2, offset=1, newest_first=True)] == [4, 3]


def test_key_rotation_keeps_old_digests_verifiable(
    ledger: AuditLedger, keys: KeyRing
) -> None:
    for i in range(15):
        ledger.append("auth.login", actor=f"u{i}")
    old_key = keys.current_key_id()

    new_key = keys.rotate()
    for i in range(15):
        ledger.append("auth.login", actor=f"v{i}")
    result = ledger.verify()

    assert old_key != new_key
    assert not (keys.key_dir / f"{old_key}.pem").exists(), "old private key destroyed"
    assert set(keys.key_ids()) == {old_key, new_key}
    assert result.ok and result.digests_checked == 3


def test_a_digest_whose_public_key_is_gone_is_reported(
    ledger: AuditLedger, keys: KeyRing
) -> None:
    for i in range(10):
        ledger.append("auth.login", actor=f"u{i}")
    old_key = keys.current_key_id()
    keys.rotate()
    (keys.key_dir / f"{old_key}.pub").unlink()

    result = ledger.verify()

    assert [p.code for p in result.problems] == ["digest_signature"]


def test_private_keys_are_written_0600_and_refused_when_wider(keys: KeyRing) -> None:
    key_id = keys.ensure_key()
    private = keys.key_dir / f"{key_id}.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.key_dir.stat().st_mode) == 0o700

    private.chmod(0o644)
    with pytest.raises(AuditKeyError, match="600"):
        keys.sign(b"x")


def test_seal_signs_the_records_since_the_last_digest(ledger: AuditLedger) -> None:
    for i in range(13):
        ledger.append("auth.login", actor=f"u{i}")

    assert ledger.seal() == 13
    assert ledger.seal() is None
    assert ledger.verify().digests_checked == 2


def _append_from_process(url: str, key_dir: str, worker: int, count: int) -> None:
    engine = sa.create_engine(url)
    ledger = AuditLedger(engine, signer=KeyRing(key_dir), digest_every=50)
    for i in range(count):
        ledger.append("portal.page", actor=f"worker{worker}", target=f"/p{i}")
    engine.dispose()


def test_appends_from_several_processes_keep_one_unbroken_chain(
    engine: sa.Engine, keys: KeyRing, tmp_path: Path
) -> None:
    keys.ensure_key()
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=_append_from_process, args=(url, str(keys.key_dir), w, 60)
        )
        for w in range(4)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)

    ledger = AuditLedger(engine, signer=keys)
    result = ledger.verify()
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    assert result.ok
    assert result.records_checked == 240
    assert {r.actor for r in ledger.query(limit=None)} == {
        f"worker{w}" for w in range(4)
    }


def test_records_keep_their_utc_time(ledger: AuditLedger, clock: Any) -> None:
    clock.advance(microseconds=123)
    record = ledger.append("auth.login", actor="a")

    assert ledger.query()[0].time == record.time == clock.now
    assert record.time is not None and record.time.utcoffset() == timedelta(0)


def test_an_auditor_sees_only_their_own_subtree(
    ledger: AuditLedger, example_spec_dir: Path
) -> None:
    from citycloud.spec import load_spec
    from citycloud.store.audit import AuditError, auditor_query

    spec = load_spec(example_spec_dir)
    for code in ("1504", "150402", "150402001", "150404", None):
        ledger.append("portal.page", actor=f"user-{code}", org_code=code)

    county = auditor_query(ledger, spec, auditor_org="150402")
    city = auditor_query(ledger, spec, auditor_org="1504")
    narrowed = auditor_query(ledger, spec, auditor_org="1504", org="150404")

    assert [r.actor_org_code for r in county] == ["150402001", "150402"]
    assert len(city) == 5, "the city auditor also sees system records"
    assert [r.actor_org_code for r in narrowed] == ["150404"]
    assert auditor_query(ledger, spec, auditor_org="150402", org="150404") == []
    with pytest.raises(AuditError):
        auditor_query(ledger, spec, auditor_org="999999")
