"""Every kind of tampering is caught by ``verify`` and blamed on the right record."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from citycloud.store.audit import AuditLedger, body_hash, body_of_row, chain_hash
from citycloud.store.audit_schema import audit_digest, audit_head, audit_record

Tamper = Callable[[sa.Connection], None]


def fill(ledger: AuditLedger, count: int = 25) -> None:
    for i in range(count):
        ledger.append(
            "portal.page",
            actor=f"user{i % 3}",
            org_code="150402",
            tenant="hongshan-edu",
            target=f"/apps/{i}",
            detail={"title": "红山区教育局", "n": i},
        )


def rows(conn: sa.Connection) -> dict[int, dict[str, object]]:
    result = conn.execute(sa.select(audit_record).order_by(audit_record.c.seq))
    return {int(r["seq"]): dict(r) for r in result.mappings()}


def rehash_from(conn: sa.Connection, start: int) -> None:
    """What a careful forger does: recompute every hash from ``start`` on."""
    table = rows(conn)
    prev = str(table[start - 1]["hash"]) if start > 1 else "0" * 64
    for seq in sorted(s for s in table if s >= start):
        row = table[seq]
        body = body_of_row(row)
        digest = body_hash(body)
        new_hash = chain_hash(seq, prev, digest)
        conn.execute(
            sa.update(audit_record)
            .where(audit_record.c.seq == seq)
            .values(body_hash=digest, prev_hash=prev, hash=new_hash)
        )
        prev = new_hash
    conn.execute(sa.update(audit_head).values(hash=prev, seq=max(table)))


def edit_actor(conn: sa.Connection) -> None:
    conn.execute(
        sa.update(audit_record).where(audit_record.c.seq == 7).values(actor="mallory")
    )


def edit_detail(conn: sa.Connection) -> None:
    conn.execute(
        sa.update(audit_record)
        .where(audit_record.c.seq == 7)
        .values(detail='{"n":6,"title":"红山区财政局"}')
    )


def edit_and_fix_own_hashes(conn: sa.Connection) -> None:
    edit_actor(conn)
    table = rows(conn)
    row = table[7]
    body = body_of_row(row)
    digest = body_hash(body)
    conn.execute(
        sa.update(audit_record)
        .where(audit_record.c.seq == 7)
        .values(body_hash=digest, hash=chain_hash(7, str(row["prev_hash"]), digest))
    )


def edit_and_rehash_everything_after(conn: sa.Connection) -> None:
    edit_actor(conn)
    rehash_from(conn, 7)


def delete_one(conn: sa.Connection) -> None:
    conn.execute(sa.delete(audit_record).where(audit_record.c.seq == 7))


def delete_and_renumber(conn: sa.Connection) -> None:
    conn.execute(sa.delete(audit_record).where(audit_record.c.seq == 7))
    for seq in range(8, 26):
        conn.execute(
            sa.update(audit_record).where(audit_record.c.seq == seq).values(seq=seq - 1)
        )


def insert_and_renumber(conn: sa.Connection) -> None:
    for seq in range(25, 6, -1):
        conn.execute(
            sa.update(audit_record).where(audit_record.c.seq == seq).values(seq=seq + 1)
        )
    table = rows(conn)
    fake = dict(table[8], seq=7, actor="mallory", target="/forged")
    prev = str(table[6]["hash"])
    body = {
        k: fake[k]
        for k in (
            "time",
            "kind",
            "actor",
            "actor_org_code",
            "tenant",
            "target",
            "action",
            "outcome",
        )
    }
    body["detail"] = __import__("json").loads(str(fake["detail"]))
    digest = body_hash(body)
    fake.update(prev_hash=prev, body_hash=digest, hash=chain_hash(7, prev, digest))
    conn.execute(sa.insert(audit_record).values(**fake))


def swap_two(conn: sa.Connection) -> None:
    table = rows(conn)
    for seq, other in ((7, 8), (8, 7)):
        values = {k: v for k, v in table[other].items() if k != "seq"}
        conn.execute(
            sa.update(audit_record).where(audit_record.c.seq == seq).values(**values)
        )


def truncate_covered_tail(conn: sa.Connection) -> None:
    # Records 19-25 go; a digest covers up to #20, so the loss is provable
    # even though the forger also moved the head back.
    conn.execute(sa.delete(audit_record).where(audit_record.c.seq >= 19))
    tip = rows(conn)[18]
    conn.execute(sa.update(audit_head).values(seq=18, hash=tip["hash"]))


def truncate_tail_leaving_head(conn: sa.Connection) -> None:
    conn.execute(sa.delete(audit_record).where(audit_record.c.seq >= 24))


CASES = [
    pytest.param(edit_actor, 7, "content", id="edited-field"),
    pytest.param(edit_detail, 7, "content", id="edited-detail-chinese"),
    pytest.param(edit_and_fix_own_hashes, 7, "rewritten", id="edited-own-hashes-fixed"),
    pytest.param(
        edit_and_rehash_everything_after,
        1,
        "digest_mismatch",
        id="edited-whole-chain-rehashed",
    ),
    pytest.param(delete_one, 7, "missing", id="deleted"),
    pytest.param(delete_and_renumber, 7, "moved", id="deleted-renumbered"),
    pytest.param(insert_and_renumber, 7, "inserted", id="inserted"),
    pytest.param(swap_two, 7, "moved", id="reordered"),
    pytest.param(truncate_covered_tail, 19, "missing_tail", id="tail-cut-under-digest"),
    pytest.param(truncate_tail_leaving_head, 24, "missing_tail", id="tail-cut"),
]


@pytest.mark.parametrize(("tamper", "first_bad", "code"), CASES)
def test_verify_names_the_first_tampered_record(
    ledger: AuditLedger, engine: sa.Engine, tamper: Tamper, first_bad: int, code: str
) -> None:
    fill(ledger)
    assert ledger.verify().ok

    with engine.begin() as conn:
        tamper(conn)
    result = ledger.verify()

    assert not result.ok
    assert result.first_bad_seq == first_bad
    assert code in {p.code for p in result.problems}


def test_rehashed_chain_is_pinned_to_the_digest_range(
    ledger: AuditLedger, engine: sa.Engine
) -> None:
    fill(ledger)
    with engine.begin() as conn:
        edit_actor(conn)
        rehash_from(conn, 7)

    result = ledger.verify()

    # Digests sit at #10 and #20: the edit lies in the first signed range.
    mismatched = [p for p in result.problems if p.code == "digest_mismatch"]
    assert mismatched and "#10" in mismatched[0].message


@pytest.mark.parametrize(
    "column", ["head_hash", "seq_to", "signature"], ids=["head", "range", "signature"]
)
def test_a_digest_altered_after_signing_fails_its_signature(
    ledger: AuditLedger, engine: sa.Engine, column: str
) -> None:
    fill(ledger)
    values: dict[str, object] = {
        "head_hash": "f" * 64,
        "seq_to": 11,
        "signature": "AAAA" + "A" * 84,
    }
    with engine.begin() as conn:
        conn.execute(
            sa.update(audit_digest)
            .where(audit_digest.c.seq_to == 10)
            .values({column: values[column]})
        )

    result = ledger.verify()

    assert [p.code for p in result.problems] == ["digest_signature"]
    assert result.problems[0].digest_id == 1


def test_an_untouched_ledger_verifies(ledger: AuditLedger) -> None:
    fill(ledger, 35)

    result = ledger.verify()

    assert result.ok
    assert result.records_checked == 35
    assert result.digests_checked == 3


def test_a_deleted_digest_is_reported(ledger: AuditLedger, engine: sa.Engine) -> None:
    fill(ledger)
    with engine.begin() as conn:
        conn.execute(sa.delete(audit_digest).where(audit_digest.c.seq_to == 10))

    result = ledger.verify()

    assert [p.code for p in result.problems] == ["digest_missing"]
    assert "#1-#10" in result.problems[0].message
