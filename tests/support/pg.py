"""Dropping a test database on the shared PostgreSQL cluster.

``DROP DATABASE ... WITH (FORCE)`` also has to end an autovacuum worker that
may just have started on the database, which only a superuser may do; then
PostgreSQL refuses with InsufficientPrivilege (or ObjectInUse without FORCE).
Both are momentary, so the drop is retried briefly.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError


def drop_database(cluster_url: str, name: str, attempts: int = 20) -> None:
    engine = sa.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(attempts):
            try:
                with engine.connect() as connection:
                    connection.execute(
                        sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    )
                return
            except DBAPIError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.25)
    finally:
        engine.dispose()
