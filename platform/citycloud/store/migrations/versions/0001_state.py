"""The applied state and the record of applies.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("spec_digest", sa.String(64), nullable=False),
        sa.Column("plan_digest", sa.String(64), nullable=False),
        sa.Column("layers", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "applied_resources",
        sa.Column("layer", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(60), primary_key=True),
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("tenant", sa.String(100)),
        sa.Column("parent", sa.String(700)),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.Column("apply_id", sa.String(36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_applied_resources_tenant", "applied_resources", ["tenant"])


def downgrade() -> None:
    op.drop_index("ix_applied_resources_tenant", "applied_resources")
    op.drop_table("applied_resources")
    op.drop_table("applies")
