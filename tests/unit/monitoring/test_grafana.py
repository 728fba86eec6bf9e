"""Dashboards, folders, teams and permissions in Grafana, against a fake that
behaves like Grafana's HTTP API (a live suite runs when a URL is given)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from citycloud.adapters.grafana import engine as grafana_engine
from citycloud.adapters.grafana.engine import GrafanaEngine
from citycloud.apply import apply_plan, make_workspace, plan_workspace
from citycloud.errors import PermanentError, TransientError
from citycloud.plan import SafetyPolicy
from citycloud.spec import Spec, load_spec
from citycloud.store import StateStore
from tests.fakes.grafana import FakeGrafana, start_fake_grafana


@pytest.fixture(scope="module")
def spec(example_spec_dir: Path) -> Spec:
    return load_spec(example_spec_dir)


@pytest.fixture
def grafana() -> Iterator[tuple[str, FakeGrafana]]:
    server, app = start_fake_grafana(password="s3cret")
    yield server.url, app
    server.stop()


def sync(
    spec: Spec, url: str, tmp_path: Path, password: str = "s3cret"
) -> tuple[int, int]:
    """Plan and apply the dashboards layer; returns (changes planned, applied)."""
    engine = GrafanaEngine(url, user="admin", password=password)
    ws = make_workspace(
        spec, StateStore(f"sqlite:///{tmp_path}/s.db"), [engine], ["dashboards"]
    )
    plan = plan_workspace(ws)
    apply_plan(ws, plan, SafetyPolicy(allow_delete=True))
    return len(plan), len(plan_workspace(ws))


def test_first_apply_creates_everything_and_second_writes_nothing(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, app = grafana
    planned, left = sync(spec, url, tmp_path)
    assert planned == 38 and left == 0
    assert {"cc-city", "cc-dispatch", "cc-onemap"} <= set(app.folders)
    assert (
        len(
            [
                d
                for d in app.dashboards.values()
                if "citycloud" in d["dashboard"]["tags"]
            ]
        )
        == 11
    )
    writes = app.writes
    assert sync(spec, url, tmp_path) == (0, 0)
    assert app.writes == writes


def test_a_tenant_folder_is_open_to_its_team_and_ops_only(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, app = grafana
    sync(spec, url, tmp_path)
    items = app.permissions["cc-dispatch"]
    assert {(i["team"], i["permissionName"]) for i in items} == {
        ("citycloud-dispatch", "View"),
        ("citycloud-ops", "Edit"),
    }
    assert not any(
        i.get("role") for i in items
    )  # Grafana's Viewer/Editor defaults removed


def test_an_edit_in_grafana_shows_in_the_plan_and_is_undone(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, app = grafana
    sync(spec, url, tmp_path)
    board = app.dashboards["cc-tenant-onemap"]["dashboard"]
    board["panels"][0]["targets"][0]["expr"] = "vector(1)"
    engine = GrafanaEngine(url, user="admin", password="s3cret")
    ws = make_workspace(
        spec, StateStore(f"sqlite:///{tmp_path}/s.db"), [engine], ["dashboards"]
    )
    plan = plan_workspace(ws)
    (change,) = plan.changes
    assert change.id.key == "cc-tenant-onemap" and change.action.value == "update"
    assert change.fields[0].path == "panels"
    apply_plan(ws, plan)
    assert plan_workspace(ws).is_empty


def test_what_citycloud_does_not_manage_is_left_alone(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, app = grafana
    app.handle(
        "POST",
        "/api/folders",
        "",
        {"authorization": "Basic YWRtaW46czNjcmV0"},
        b'{"uid": "team-notes", "title": "Notes"}',
    )
    app.teams[999] = {"id": 999, "name": "dba", "email": "", "memberCount": 3}
    sync(spec, url, tmp_path)
    assert "team-notes" in app.folders and 999 in app.teams


def test_listings_are_paged(
    spec: Spec,
    grafana: tuple[str, FakeGrafana],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _app = grafana
    sync(spec, url, tmp_path)
    monkeypatch.setattr(grafana_engine, "PAGE", 2)
    assert sync(spec, url, tmp_path) == (0, 0)


def test_a_removed_tenant_loses_its_folder_team_and_dashboard(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, app = grafana
    sync(spec, url, tmp_path)
    smaller = Spec(
        spec.document,
        spec.orgs,
        tuple(t for t in spec.tenants if t.slug != "bigdata"),
        spec.roles,
    )
    planned, left = sync(smaller, url, tmp_path)
    assert planned == 4 and left == 0
    assert "cc-bigdata" not in app.folders
    assert "citycloud-bigdata" not in {t["name"] for t in app.teams.values()}


def test_wrong_credentials_are_a_permanent_error(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, _app = grafana
    with pytest.raises(PermanentError, match="401"):
        sync(spec, url, tmp_path, password="wrong")


def test_a_grafana_that_is_down_is_a_transient_error(
    spec: Spec, grafana: tuple[str, FakeGrafana], tmp_path: Path
) -> None:
    url, app = grafana
    app.down = True
    with pytest.raises(TransientError, match="grafana"):
        sync(spec, url, tmp_path)


@pytest.mark.live
@pytest.mark.skipif(
    not os.environ.get("CITYCLOUD_GRAFANA_LIVE_URL"), reason="no live Grafana"
)
def test_live_grafana_converges(spec: Spec, tmp_path: Path) -> None:
    url = os.environ["CITYCLOUD_GRAFANA_LIVE_URL"]
    engine_args = {
        "token": os.environ.get("CITYCLOUD_GRAFANA_TOKEN"),
        "user": os.environ.get("CITYCLOUD_GRAFANA_USER", "admin"),
        "password": os.environ.get("CITYCLOUD_GRAFANA_PASSWORD", "admin"),
    }
    ws = make_workspace(
        spec,
        StateStore(f"sqlite:///{tmp_path}/s.db"),
        [GrafanaEngine(url, **engine_args)],
        ["dashboards"],
    )
    apply_plan(ws, plan_workspace(ws), SafetyPolicy(allow_delete=True))
    assert plan_workspace(ws).is_empty
