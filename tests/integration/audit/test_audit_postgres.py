"""The audit ledger, secrets and onboarding tests again, on PostgreSQL.

The unit tests under tests/unit/audit run on SQLite, the embedded default.
This module loads them and runs the same functions against a PostgreSQL
server the tests start (``postgres_url``), one fresh database per test, so the
two back ends are held to exactly the same behaviour.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
import sqlalchemy as sa

from citycloud.store import StateStore
from tests.support.pg import drop_database

pytestmark = pytest.mark.integration

UNIT = Path(__file__).resolve().parents[2] / "unit" / "audit"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"audit_on_postgres_{name}", UNIT / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _load("conftest")
clock = _fixtures.clock
keys = _fixtures.keys
ledger = _fixtures.ledger
engine = _fixtures.engine

# The same tests, collected here with this module's ``store`` fixture.
for _name in (
    "test_tampering",
    "test_ledger",
    "test_retention",
    "test_export",
    "test_secrets",
    "test_requests",
    "test_keycloak_events",
    "test_hold_scope",
):
    for _attr, _value in vars(_load(_name)).items():
        if _attr.startswith("test_") or _attr in {
            "spec",
            "requests",
            "registry",
            "key_file",
            "secrets",
        }:
            globals()[_attr] = _value


def _create_database(postgres_url: str, prefix: str) -> tuple[str, str]:
    """A new empty UTF-8 database on the test server: its name and URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.make_url(postgres_url)
    conninfo = dict(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        password=admin.password,
        dbname=admin.database,
    )
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        # template0 takes no connections: other sessions creating databases
        # on the shared cluster cannot make this fail with "template1 is
        # being accessed by other users".
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    return name, admin.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def store(postgres_url: str) -> Iterator[StateStore]:
    """A fresh, migrated database on the test server for each test."""
    name, url = _create_database(postgres_url, "audit")
    store = StateStore(url)
    yield store
    store.engine.dispose()
    drop_database(postgres_url, name)


@pytest.fixture
def blank_url(postgres_url: str) -> Iterator[str]:
    """An empty database, for the upgrade tests to migrate step by step."""
    name, url = _create_database(postgres_url, "upgrade")
    yield url
    drop_database(postgres_url, name)
