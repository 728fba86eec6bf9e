"""The state store: what was applied, when, by whom, from which plan.

On the embedded default (no outside system configured) the last applied state
recorded here *is* the actual state a plan compares against. SQLite is the
default; a PostgreSQL URL works the same. The schema is created and upgraded by
alembic migrations when the store opens.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError as AlembicError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from citycloud.desired.model import Resource, ResourceId
from citycloud.errors import StoreError
from citycloud.plan.model import Action, Change, Plan
from citycloud.store.schema import applied_resources, applies

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///.citycloud/state.db"
# An apply still "running" after this long died without finishing.
STALE_APPLY = timedelta(hours=2)
MIGRATIONS = Path(__file__).parent / "migrations"


def default_url() -> str:
    return os.environ.get("CITYCLOUD_STATE_URL", DEFAULT_URL)


def _now() -> datetime:
    return datetime.now(UTC)


def _short(exc: SQLAlchemyError) -> str:
    """The driver's own message, without the SQL statement and parameters."""
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0][:300]


@dataclass(frozen=True)
class ApplyRecord:
    id: str
    started_at: datetime
    finished_at: datetime | None
    actor: str
    spec_digest: str
    plan_digest: str
    layers: list[str]
    status: str
    summary: dict[str, Any]
    error: str | None


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


class StateStore:
    """Applied state and apply records in one SQL database."""

    def __init__(self, url: str | None = None, migrate: bool = True) -> None:
        self.url = url or default_url()
        try:
            self.engine = _engine(self.url)
        except (SQLAlchemyError, ValueError) as exc:
            raise StoreError(
                f"{self.safe_url} is not a usable database URL: {exc}"
            ) from exc
        if migrate:
            try:
                self.migrate()
            except AlembicError as exc:
                raise StoreError(
                    f"{self.safe_url} was written by a newer citycloud ({exc}); "
                    "upgrade citycloud or use another state store"
                ) from exc
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot open {self.safe_url}: {_short(exc)}") from exc

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        try:
            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        except (SQLAlchemyError, ValueError):
            return "<unparsable state URL>"

    def migrate(self) -> None:
        """Bring the schema to the newest migration (safe to call every time)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            raise StoreError(
                f"{self.safe_url}: another apply changed the state at the same time; "
                "run plan again"
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"{self.safe_url}: {_short(exc)}") from exc

    # -- applied state ---------------------------------------------------------

    def applied(self, layers: Iterable[str] | None = None) -> list[Resource]:
        """The last applied state of ``layers`` (all by default)."""
        query = sa.select(applied_resources)
        if layers is not None:
            query = query.where(applied_resources.c.layer.in_(list(layers)))
        with self.transaction() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Resource(
                ResourceId(row["layer"], row["kind"], row["key"]),
                row["attrs"],
                row["tenant"],
                ResourceId(*row["parent"].split("/", 2)) if row["parent"] else None,
            )
            for row in rows
        ]

    def has_layer(self, layer: str) -> bool:
        """Whether anything was ever applied to ``layer``."""
        query = sa.select(applies.c.layers).where(applies.c.status == "succeeded")
        with self.transaction() as conn:
            return any(layer in layers for (layers,) in conn.execute(query))

    # -- applies ---------------------------------------------------------------

    def start_apply(self, actor: str, spec_digest: str, plan: Plan) -> str:
        """Record the start of an apply; refuse while another one runs.

        An apply that died without finishing (a killed process) stops
        blocking after STALE_APPLY and is marked abandoned.
        """
        apply_id = str(uuid.uuid4())
        now = _now()
        with self.transaction() as conn:
            running = conn.execute(
                sa.select(applies.c.id, applies.c.actor, applies.c.started_at).where(
                    applies.c.status == "running"
                )
            ).all()
            for other_id, other_actor, started in running:
                started_at = started if started.tzinfo else started.replace(tzinfo=UTC)
                if now - started_at < STALE_APPLY:
                    raise StoreError(
                        f"another apply is running ({other_id}, by {other_actor}, "
                        f"since {started_at:%Y-%m-%d %H:%M:%S} UTC); wait for it to finish"
                    )
                conn.execute(
                    applies.update()
                    .where(applies.c.id == other_id)
                    .values(status="abandoned", finished_at=now)
                )
            conn.execute(
                applies.insert().values(
                    id=apply_id,
                    started_at=_now(),
                    actor=actor,
                    spec_digest=spec_digest,
                    plan_digest=plan.digest(),
                    layers=list(plan.layers),
                    status="running",
                    summary=plan.counts(),
                )
            )
        log.info("apply %s started by %s (%s)", apply_id, actor, plan.counts())
        return apply_id

    def record_changes(self, apply_id: str, changes: Iterable[Change]) -> int:
        """Record applied changes, all or nothing. Returns how many."""
        now = _now()
        changes = list(changes)
        rows = [
            {
                "layer": c.id.layer,
                "kind": c.id.kind,
                "key": c.id.key,
                "tenant": c.tenant,
                "parent": str(c.parent) if c.parent else None,
                "attrs": dict(c.resource.attrs),
                "apply_id": apply_id,
                "updated_at": now,
            }
            for c in changes
            if c.action is not Action.DELETE
        ]
        stale: dict[tuple[str, str], list[str]] = {}
        for change in changes:
            if change.action is not Action.CREATE:
                stale.setdefault((change.id.layer, change.id.kind), []).append(
                    change.id.key
                )
        table = applied_resources.c
        with self.transaction() as conn:
            for (layer, kind), keys in stale.items():
                for start in range(0, len(keys), 500):
                    conn.execute(
                        applied_resources.delete().where(
                            table.layer == layer,
                            table.kind == kind,
                            table.key.in_(keys[start : start + 500]),
                        )
                    )
            if rows:
                conn.execute(applied_resources.insert(), rows)
        return len(changes)

    def replace_layer(
        self, apply_id: str, layer: str, resources: Iterable[Resource]
    ) -> None:
        """Replace everything recorded for ``layer`` (after a fresh observation)."""
        now = _now()
        rows = [
            {
                "layer": r.id.layer,
                "kind": r.id.kind,
                "key": r.id.key,
                "tenant": r.tenant,
                "parent": str(r.parent) if r.parent else None,
                "attrs": dict(r.attrs),
                "apply_id": apply_id,
                "updated_at": now,
            }
            for r in resources
            if r.id.layer == layer
        ]
        with self.transaction() as conn:
            conn.execute(
                applied_resources.delete().where(applied_resources.c.layer == layer)
            )
            if rows:
                conn.execute(applied_resources.insert(), rows)

    def finish_apply(
        self, apply_id: str, status: str, error: str | None = None
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                applies.update()
                .where(applies.c.id == apply_id)
                .values(status=status, finished_at=_now(), error=error)
            )
        log.info("apply %s finished: %s", apply_id, status)

    def get_apply(
        self, apply_id: str, conn: Connection | None = None
    ) -> ApplyRecord | None:
        query = sa.select(applies).where(applies.c.id == apply_id)
        if conn is None:
            with self.transaction() as own:
                row = own.execute(query).mappings().first()
        else:
            row = conn.execute(query).mappings().first()
        return ApplyRecord(**row) if row else None

    def recent_applies(self, limit: int = 20) -> list[ApplyRecord]:
        query = sa.select(applies).order_by(applies.c.started_at.desc()).limit(limit)
        with self.transaction() as conn:
            return [ApplyRecord(**row) for row in conn.execute(query).mappings()]
