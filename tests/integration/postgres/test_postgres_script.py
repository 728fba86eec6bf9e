"""The throwaway PostgreSQL of scripts/postgres, as the ``postgres_url`` fixture
hands it to the state store and audit tests: reachable on loopback only, a
database of the session's own, a role that may add databases, and speed over
durability (fsync off)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def scalar(url: str, query: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(query)).scalar_one()
    finally:
        engine.dispose()


def test_url_reaches_a_database_of_the_session_own(postgres_url: str) -> None:
    url = sa.make_url(postgres_url)

    assert url.drivername == "postgresql+psycopg"
    assert url.host == "127.0.0.1"
    assert url.database.startswith("session_")
    assert scalar(postgres_url, "SELECT current_database()") == url.database


def test_server_trades_durability_for_speed_on_loopback(postgres_url: str) -> None:
    assert scalar(postgres_url, "SHOW fsync") == "off"
    assert scalar(postgres_url, "SHOW listen_addresses") == "127.0.0.1"


def test_role_can_create_and_drop_a_database(postgres_url: str) -> None:
    name = f"probe_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            found = connection.execute(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :name"),
                {"name": name},
            ).scalar_one()
            connection.execute(sa.text(f'DROP DATABASE "{name}"'))
    finally:
        engine.dispose()

    assert found == 1


def test_up_again_is_a_no_op_printing_the_same_url(postgres_url: str) -> None:
    script = str(REPO / "scripts" / "postgres")

    first = subprocess.run([script, "url", "tests"], capture_output=True, text=True)
    again = subprocess.run([script, "up", "tests"], capture_output=True, text=True)
    status = subprocess.run([script, "status", "tests"], capture_output=True, text=True)

    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert status.returncode == 0
    assert sa.make_url(first.stdout.strip()).port == sa.make_url(postgres_url).port
