"""The identity layer end to end: spec -> desired -> plan -> apply, on the fake."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.adapters.keycloak.engine import KeycloakEngine
from citycloud.cli import main
from citycloud.desired import build_desired
from citycloud.plan import make_plan
from citycloud.spec import load_spec
from tests.fakes.keycloak import FakeKeycloak
from tests.fakes.keycloak.chifeng import EXAMPLE, write_synthetic_villages
from tests.unit.keycloak.conftest import ADMIN


def noop(*_: object) -> None:
    return None


def engine_for(keycloak: FakeKeycloak, realm: str) -> KeycloakEngine:
    api = KeycloakApi.connect(keycloak.url, realm, username=ADMIN[0], password=ADMIN[1])
    return KeycloakEngine(api)


def test_plan_apply_then_empty_plan_for_the_example(keycloak: FakeKeycloak) -> None:
    spec = load_spec(EXAMPLE)
    desired = build_desired(spec, ["identity"])
    engine = engine_for(keycloak, spec.realm)
    plan = make_plan(desired, engine.observe(desired, spec), ["identity"])
    assert plan.counts()["create"] == len(desired)
    engine.apply(plan, desired, spec, noop)
    after = make_plan(desired, engine.observe(desired, spec), ["identity"])
    assert after.is_empty, [str(c.id) for c in after]


def test_an_edited_app_access_shows_as_an_update(keycloak: FakeKeycloak) -> None:
    spec = load_spec(EXAMPLE)
    desired = build_desired(spec, ["identity"])
    engine = engine_for(keycloak, spec.realm)
    engine.apply(make_plan(desired, [], ["identity"]), desired, spec, noop)
    realm = keycloak.state.realms[spec.realm]
    client = next(
        c for c in realm.clients.values() if c.rep["attributes"].get("citycloud.access")
    )
    client.rep["attributes"]["citycloud.access"] = "{}"
    plan = make_plan(desired, engine.observe(desired, spec), ["identity"])
    assert [(c.action.value, c.id.kind) for c in plan] == [("update", "client")]


@pytest.mark.slow
def test_full_chifeng_tree_with_synthetic_villages(
    keycloak: FakeKeycloak, divisions_csv: Path, tmp_path: Path
) -> None:
    """210 real units + 2,500 synthetic villages; re-sync makes no writes."""
    villages = write_synthetic_villages(tmp_path, 2500, divisions_csv)
    spec = load_spec(EXAMPLE, [divisions_csv, villages])
    assert len(spec.orgs) == 2710
    desired = build_desired(spec, ["identity"])
    engine = engine_for(keycloak, spec.realm)
    engine.apply(make_plan(desired, [], ["identity"]), desired, spec, noop)

    realm = keycloak.state.realms[spec.realm]
    held = {keycloak.state.group_path(realm, g): g for g in realm.groups.values()}
    wanted = {spec.group_path(code): code for code in spec.orgs}
    assert set(held) == set(wanted)
    for path, code in wanted.items():
        assert held[path].attributes["org_code"] == [code]
        assert held[path].attributes["tier"] == [spec.orgs[code].level.value]

    keycloak.app.reset_counts()
    engine.apply(make_plan(desired, [], ["identity"]), desired, spec, noop)
    assert engine.last_report is not None and engine.last_report.writes == 0
    assert keycloak.app.counts()["writes"] == 0
    assert make_plan(desired, engine.observe(desired, spec), ["identity"]).is_empty


def test_cli_plan_and_apply_with_keycloak(
    keycloak: FakeKeycloak, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYCLOUD_KEYCLOAK_USER", ADMIN[0])
    monkeypatch.setenv("CITYCLOUD_KEYCLOAK_PASSWORD", ADMIN[1])
    runner = CliRunner()
    args = [
        str(EXAMPLE),
        "--layer",
        "identity",
        "--keycloak",
        keycloak.url,
        "--out",
        str(tmp_path / "out"),
    ]
    planned = runner.invoke(main, ["--lang", "en", "plan", *args])
    assert planned.exit_code == 0, planned.output
    assert "+ group 150402" in planned.output
    assert keycloak.app.counts()["writes"] == 0  # plan never writes

    applied = runner.invoke(main, ["--lang", "en", "apply", *args])
    assert applied.exit_code == 0, applied.output
    again = runner.invoke(main, ["--lang", "en", "plan", *args])
    assert "No changes" in again.output


def test_cli_without_credentials_says_what_is_missing(
    keycloak: FakeKeycloak, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CITYCLOUD_KEYCLOAK_USER", raising=False)
    monkeypatch.delenv("CITYCLOUD_KEYCLOAK_PASSWORD", raising=False)
    result = CliRunner().invoke(
        main,
        [
            "--lang",
            "en",
            "plan",
            str(EXAMPLE),
            "--layer",
            "identity",
            "--keycloak",
            keycloak.url,
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 4
    assert "CITYCLOUD_KEYCLOAK_USER" in result.output


def test_a_removed_organisation_needs_allow_delete_and_then_goes(
    keycloak: FakeKeycloak,
) -> None:
    from citycloud.desired.model import DesiredState, ResourceId
    from citycloud.errors import SafetyError
    from citycloud.plan import SafetyPolicy, check_safety

    spec = load_spec(EXAMPLE)
    desired = build_desired(spec, ["identity"])
    engine = engine_for(keycloak, spec.realm)
    engine.apply(make_plan(desired, [], ["identity"]), desired, spec, noop)
    gone = ResourceId("identity", "group", "150404100")
    fewer = DesiredState({k: v for k, v in desired.resources.items() if k != gone})

    plan = make_plan(fewer, engine.observe(fewer, spec), ["identity"])
    assert [(c.action.value, str(c.id)) for c in plan] == [("delete", str(gone))]
    with pytest.raises(SafetyError):
        check_safety(plan, SafetyPolicy())
    check_safety(plan, SafetyPolicy(allow_delete=True))
    engine.apply(plan, fewer, spec, noop)
    realm = keycloak.state.realms[spec.realm]
    assert keycloak.state.find_by_path(realm, "/赤峰市/松山区/穆家营子镇") is None
    assert make_plan(fewer, engine.observe(fewer, spec), ["identity"]).is_empty
