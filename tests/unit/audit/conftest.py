"""Fixtures for the audit ledger, secrets and onboarding tests (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from citycloud.store import StateStore
from citycloud.store.audit import AuditLedger
from citycloud.store.signing import KeyRing


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    """A state store migrated to the newest revision, audit tables included."""
    store = StateStore(f"sqlite:///{tmp_path / 'audit-state.db'}")
    yield store
    store.engine.dispose()


@pytest.fixture
def engine(store: StateStore) -> sa.Engine:
    return store.engine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path / "audit-keys")


@pytest.fixture
def ledger(store: StateStore, keys: KeyRing, clock: FakeClock) -> AuditLedger:
    return AuditLedger(store, signer=keys, digest_every=10, clock=clock)
