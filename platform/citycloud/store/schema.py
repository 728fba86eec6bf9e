"""Tables of the state store. Migrations (alembic) create and evolve them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

applies = sa.Table(
    "applies",
    metadata,
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

applied_resources = sa.Table(
    "applied_resources",
    metadata,
    sa.Column("layer", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(60), primary_key=True),
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("tenant", sa.String(100), index=True),
    sa.Column("parent", sa.String(700)),
    sa.Column("attrs", sa.JSON, nullable=False),
    sa.Column("apply_id", sa.String(36), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
