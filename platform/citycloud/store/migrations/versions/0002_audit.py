"""The audit ledger, its digests, anchors and holds; secrets; onboarding requests.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("time", sa.String(32)),
        sa.Column("kind", sa.String(64)),
        sa.Column("actor", sa.String(255)),
        sa.Column("actor_org_code", sa.String(32)),
        sa.Column("tenant", sa.String(128)),
        sa.Column("target", sa.String(1024)),
        sa.Column("action", sa.String(64)),
        sa.Column("outcome", sa.String(32)),
        sa.Column("detail", sa.Text),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("pruned", sa.Boolean, nullable=False),
    )
    for column, name in (
        ("time", "ix_audit_record_time"),
        ("actor", "ix_audit_record_actor"),
        ("actor_org_code", "ix_audit_record_org"),
        ("tenant", "ix_audit_record_tenant"),
        ("kind", "ix_audit_record_kind"),
    ):
        op.create_index(name, "audit_record", [column])

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])

    op.create_table(
        "audit_digest",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq_from", sa.BigInteger, nullable=False),
        sa.Column("seq_to", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_digest_seq_to", "audit_digest", ["seq_to"])

    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )

    op.create_table(
        "audit_hold",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255)),
        sa.Column("org_code", sa.String(32)),
        sa.Column("tenant", sa.String(128)),
        sa.Column("since", sa.String(32)),
        sa.Column("until", sa.String(32)),
        sa.Column("released_at", sa.String(32)),
        sa.Column("released_by", sa.String(255)),
    )

    op.create_table(
        "audit_ingested",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )

    op.create_table(
        "secret",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )

    op.create_table(
        "onboarding_request",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("department", sa.String(255), nullable=False),
        sa.Column("owner_org_code", sa.String(32), nullable=False),
        sa.Column("tenant_slug", sa.String(128), nullable=False),
        sa.Column("draft", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("decided_by_org", sa.String(32)),
        sa.Column("decided_at", sa.String(32)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_onboarding_request_state", "onboarding_request", ["state"])
    op.create_index(
        "ix_onboarding_request_owner", "onboarding_request", ["owner_org_code"]
    )


def downgrade() -> None:
    op.drop_table("onboarding_request")
    op.drop_table("secret")
    op.drop_table("audit_ingested")
    op.drop_table("audit_hold")
    op.drop_table("audit_anchor")
    op.drop_table("audit_digest")
    op.drop_table("audit_head")
    op.drop_table("audit_record")
