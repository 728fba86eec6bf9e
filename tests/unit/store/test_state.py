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
    store.record_changes(store.start_apply("ops", "d", first), first.changes)
    second = make_plan([res("a")], store.applied())
    store.record_changes(store.start_apply("ops", "d", second), second.changes)
    assert [r.key for r in store.applied()] == ["a"]


def test_reopening_runs_migrations_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    StateStore(url)
    StateStore(url)  # the second open finds the schema current


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open"):
        StateStore("postgresql+psycopg://u:secret@127.0.0.1:1/none")


def test_password_is_hidden_in_messages() -> None:
    with pytest.raises(StoreError) as caught:
        StateStore("postgresql+psycopg://u:secret@127.0.0.1:1/none")
    assert "secret" not in str(caught.value)
