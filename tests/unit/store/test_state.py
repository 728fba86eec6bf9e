"""The state store records applies and the applied state, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.desired.model import Resource, ResourceId
from citycloud.errors import StoreError
from citycloud.plan import make_plan
from citycloud.store import StateStore


def res(key: str, **attrs: object) -> Resource:
    return Resource(ResourceId("openstack", "project", key), attrs, key)


def test_recorded_changes_become_the_applied_state(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path}/s.db")
    plan = make_plan([res("a", name="甲"), res("b")], [], layers=["openstack"])
    apply_id = store.start_apply("ops", "digest", plan)
    store.record_changes(apply_id, plan.changes)
    store.finish_apply(apply_id, "succeeded")
    applied = {r.key: r for r in store.applied()}
    assert set(applied) == {"a", "b"}
    assert applied["a"].attrs == {"name": "甲"}
    assert make_plan([res("a", name="甲"), res("b")], store.applied()).is_empty
    (record,) = store.recent_applies()
    assert record.status == "succeeded" and record.summary["create"] == 2
    assert store.has_layer("openstack") and not store.has_layer("identity")


def test_deletes_remove_rows(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path}/s.db")
    first = make_plan([res("a"), res("b")], [])
    apply_id = store.start_apply("ops", "d", first)
    store.record_changes(apply_id, first.changes)
    store.finish_apply(apply_id, "succeeded")
    second = make_plan([res("a")], store.applied())
    apply_id = store.start_apply("ops", "d", second)
    store.record_changes(apply_id, second.changes)
    store.finish_apply(apply_id, "succeeded")
    assert [r.key for r in store.applied()] == ["a"]


def test_reopening_runs_migrations_once(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/s.db"
    StateStore(url)
    again = StateStore(url)  # the second open finds the schema current
    with again.engine.connect() as conn:
        versions = conn.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).all()
    assert len(versions) == 1 and again.applied() == []


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open"):
        StateStore("postgresql+psycopg://u:secret@127.0.0.1:1/none")


def test_password_is_hidden_in_messages() -> None:
    with pytest.raises(StoreError) as caught:
        StateStore("postgresql+psycopg://u:secret@127.0.0.1:1/none")
    assert "secret" not in str(caught.value)


def test_a_second_apply_waits_for_the_first(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path}/s.db")
    plan = make_plan([res("a")], [], layers=["openstack"])
    first = store.start_apply("ops", "d", plan)
    with pytest.raises(StoreError, match="another apply is running"):
        store.start_apply("admin", "d", plan)
    store.finish_apply(first, "succeeded")
    store.start_apply("admin", "d", plan)


def test_an_apply_that_died_stops_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from citycloud.store import state

    store = StateStore(f"sqlite:///{tmp_path}/s.db")
    plan = make_plan([res("a")], [], layers=["openstack"])
    store.start_apply("ops", "d", plan)
    monkeypatch.setattr(state, "STALE_APPLY", timedelta(0))
    store.start_apply("admin", "d", plan)
    assert [r.status for r in store.recent_applies()].count("abandoned") == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("bogus", "not a usable database URL", id="not-a-url"),
        pytest.param("nosuchdb://x", "not a usable database URL", id="unknown-dialect"),
    ],
)
def test_bad_state_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        StateStore(url)


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/s.db"
    store = StateStore(url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="written by a newer citycloud"):
        StateStore(url)
