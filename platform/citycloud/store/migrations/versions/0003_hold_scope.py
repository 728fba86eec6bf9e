"""Holds on an organisation cover a set of codes (its subtree), not one code.

Revision ID: 0003
Revises: 0002

Every hold set before this revision matched its ``org_code`` exactly; it
keeps exactly that scope here: its one code becomes its one row in
``audit_hold_org``. Released holds are copied too, as the record of what they
covered.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_hold", sa.Column("org_name", sa.String(64)))
    hold_org = op.create_table(
        "audit_hold_org",
        sa.Column(
            "hold_id",
            sa.Integer,
            sa.ForeignKey("audit_hold.id"),
            primary_key=True,
        ),
        sa.Column("org_code", sa.String(32), primary_key=True),
    )
    hold = sa.table(
        "audit_hold",
        sa.column("id", sa.Integer),
        sa.column("org_code", sa.String(32)),
    )
    op.execute(
        sa.insert(hold_org).from_select(
            ["hold_id", "org_code"],
            sa.select(hold.c.id, hold.c.org_code).where(hold.c.org_code.is_not(None)),
        )
    )


def downgrade() -> None:
    # Holds fall back to their one named code: the rest of a subtree is no
    # longer covered after a downgrade.
    op.drop_table("audit_hold_org")
    with op.batch_alter_table("audit_hold") as batch:
        batch.drop_column("org_name")
