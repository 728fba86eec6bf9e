"""Tables of the audit ledger, the secret store and the onboarding requests.

They live in their own MetaData so the audit side can be created and migrated
on its own; the alembic revisions under ``migrations/versions`` create exactly
these tables. Times that take part in a hash are kept as text (ISO 8601, UTC,
microseconds) so that what is hashed is exactly what is stored, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

GENESIS_HASH = "0" * 64

# One row per event. ``seq`` is assigned under the ledger lock, never by the
# database, so that gaps are evidence of deletion rather than of a rollback.
audit_record = Table(
    "audit_record",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=True),
    Column("kind", String(64), nullable=True),
    Column("actor", String(255), nullable=True),
    Column("actor_org_code", String(32), nullable=True),
    Column("tenant", String(128), nullable=True),
    Column("target", String(1024), nullable=True),
    Column("action", String(64), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("detail", Text, nullable=True),
    Column("body_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # A pruned record keeps only its chain links: content is gone, the chain
    # still verifies through body_hash.
    Column("pruned", Boolean, nullable=False, default=False),
)
Index("ix_audit_record_time", audit_record.c.time)
Index("ix_audit_record_actor", audit_record.c.actor)
Index("ix_audit_record_org", audit_record.c.actor_org_code)
Index("ix_audit_record_tenant", audit_record.c.tenant)
Index("ix_audit_record_kind", audit_record.c.kind)

# A single row (id = 1): the tip of the chain, and the row every appender
# locks first, which serialises appends across processes on both databases.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_digest = Table(
    "audit_digest",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq_from", BigInteger, nullable=False),
    Column("seq_to", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", Text, nullable=False),
)
Index("ix_audit_digest_seq_to", audit_digest.c.seq_to)

# Written by prune: the last pruned record's seq and hash, signed, so the
# first kept record still links to something a forger cannot make up.
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", Text, nullable=False),
)

audit_hold = Table(
    "audit_hold",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reason", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("actor", String(255), nullable=True),
    # The organisation the auditor named, and its name when the hold was set;
    # which codes the hold covers is in ``audit_hold_org``.
    Column("org_code", String(32), nullable=True),
    Column("org_name", String(64), nullable=True),
    Column("tenant", String(128), nullable=True),
    Column("since", String(32), nullable=True),
    Column("until", String(32), nullable=True),
    Column("released_at", String(32), nullable=True),
    Column("released_by", String(255), nullable=True),
)

# Every organisation code a hold on ``audit_hold.org_code`` covers: the named
# organisation and, when the spec was given, its whole subtree as it stood
# when the hold was set. Fixed at that moment, so a later spec change neither
# widens nor narrows a hold that is already in force.
audit_hold_org = Table(
    "audit_hold_org",
    metadata,
    Column("hold_id", Integer, ForeignKey("audit_hold.id"), primary_key=True),
    Column("org_code", String(32), primary_key=True),
)

# Events pulled from outside systems (Keycloak) by their own id, so pulling
# the same window twice adds nothing.
audit_ingested = Table(
    "audit_ingested",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

secret = Table(
    "secret",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

onboarding_request = Table(
    "onboarding_request",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", String(32), nullable=False),
    Column("department", String(255), nullable=False),
    Column("owner_org_code", String(32), nullable=False),
    Column("tenant_slug", String(128), nullable=False),
    Column("draft", Text, nullable=False),
    Column("requested_by", String(255), nullable=False),
    Column("state", String(16), nullable=False),
    Column("route", Text, nullable=False),
    Column("decided_by", String(255), nullable=True),
    Column("decided_by_org", String(32), nullable=True),
    Column("decided_at", String(32), nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_onboarding_request_state", onboarding_request.c.state)
Index("ix_onboarding_request_owner", onboarding_request.c.owner_org_code)
