"""``citycloud audit ...`` as an operator or auditor uses it."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from citycloud.cli import main
from citycloud.store import StateStore
from citycloud.store.audit import AuditLedger, Event, Hold, open_ledger
from citycloud.store.audit_schema import audit_record


@pytest.fixture
def env_ledger() -> AuditLedger:
    """The ledger of the state store the CLI opens (CITYCLOUD_STATE_URL)."""
    return open_ledger(StateStore())


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--lang", "en", "audit", *args])
    return result.exit_code, result.output


def fill(ledger: AuditLedger) -> None:
    for code in ("150402", "150402001", "150404", "1504"):
        ledger.append(
            "portal.page", actor=f"user-{code}", org_code=code, target="/应用/学籍"
        )
    ledger.seal()


def test_verify_reports_an_intact_ledger(env_ledger: AuditLedger) -> None:
    fill(env_ledger)

    code, output = run("verify")

    assert code == 0
    assert "intact" in output and "4 records" in output


def test_verify_names_the_first_bad_record_and_fails(env_ledger: AuditLedger) -> None:
    fill(env_ledger)
    with env_ledger.engine.begin() as conn:
        conn.execute(
            sa.update(audit_record)
            .where(audit_record.c.seq == 2)
            .values(actor="mallory")
        )

    code, output = run("verify")
    json_code, json_output = run("verify", "--json")

    assert code == 6
    assert "first bad record is #2" in output
    assert json_code == 6 and json.loads(json_output)["first_bad_seq"] == 2


def test_export_by_org_subtree_writes_excel_ready_csv(
    env_ledger: AuditLedger, example_spec_dir: Path, tmp_path: Path
) -> None:
    fill(env_ledger)
    target = tmp_path / "红山区.csv"

    code, output = run(
        "export",
        "--format",
        "csv",
        "--org",
        "150402",
        "--spec",
        str(example_spec_dir),
        "--out",
        str(target),
    )

    text = target.read_bytes().decode("utf-8")
    assert code == 0, output
    assert text.startswith("\ufeff")
    assert "user-150402," in text and "user-150402001," in text
    assert "user-150404" not in text and "/应用/学籍" in text
    assert env_ledger.query(kinds=["audit.export"])[0].detail["count"] == 2


def test_export_jsonl_to_stdout_with_a_date_range(env_ledger: AuditLedger) -> None:
    fill(env_ledger)
    today = datetime.now(UTC).date()

    code, output = run(
        "export",
        "--format",
        "jsonl",
        "--since",
        str(today),
        "--until",
        str(today + timedelta(days=2)),
        "--kind",
        "portal.page",
    )

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert code == 0
    assert len(lines) == 4


def test_hold_then_prune_keeps_the_held_records(env_ledger: AuditLedger) -> None:
    fill(env_ledger)

    code, output = run("hold", "--reason", "纪检调查", "--org", "150404")
    listed = run("hold", "--list")[1]
    prune_code, prune_output = run("prune", "--retention-days", "180")

    assert code == 0 and "Hold #1" in output
    assert "纪检调查" in listed
    assert prune_code == 0 and "Pruned 0 records" in prune_output


def aged_staff_records(ledger: AuditLedger) -> None:
    """A sign-in by staff of 红山区, its 西屯街道, and 松山区, 400 days ago."""
    when = datetime.now(UTC) - timedelta(days=400)
    ledger.append_many(
        Event("auth.login", actor=f"staff-{code}", org_code=code, time=when)
        for code in ("150402", "150402001", "150404")
    )


def kept_orgs(ledger: AuditLedger) -> set[str | None]:
    return {r.actor_org_code for r in ledger.query(kinds=["auth.login"], limit=None)}


def test_a_county_hold_keeps_its_townships_until_released(
    env_ledger: AuditLedger, example_spec_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYCLOUD_ACTOR", "审计员王芳")
    aged_staff_records(env_ledger)
    spec = str(example_spec_dir)

    code, output = run(
        "hold", "--reason", "纪检调查", "--org", "150402", "--spec", spec
    )
    listed = run("hold", "--list")[1]
    run("prune", "--retention-days", "180")
    kept_while_held = kept_orgs(env_ledger)
    run("hold", "--release", "1")
    run("prune", "--retention-days", "180")

    assert code == 0, output
    assert "红山区 (150402) and everything under it" in output
    assert "2 organisations in all" in output
    assert "审计员王芳: 纪检调查" in listed
    assert "org=150402 红山区 orgs=150402,150402001" in listed
    assert kept_while_held == {"150402", "150402001"}  # 松山区's record went
    assert kept_orgs(env_ledger) == set()
    (record,) = env_ledger.query(kinds=["audit.hold"])
    assert record.actor == "审计员王芳"
    assert record.detail["org_name"] == "红山区"
    assert record.detail["org_codes"] == ["150402", "150402001"]
    assert env_ledger.verify().ok


def test_a_county_hold_outlives_a_spec_change(
    env_ledger: AuditLedger, example_spec_dir: Path, tmp_path: Path
) -> None:
    aged_staff_records(env_ledger)
    spec_dir = tmp_path / "spec"
    shutil.copytree(example_spec_dir, spec_dir)
    run("hold", "--reason", "纪检调查", "--org", "150402", "--spec", str(spec_dir))
    # The township moves to 松山区 while the investigation runs.
    city = spec_dir / "city.yaml"
    before = '{code: "150402001", name: 西屯街道, level: township, parent: "150402"}'
    after = '{code: "150402001", name: 西屯街道, level: township, parent: "150404"}'
    assert before in city.read_text(encoding="utf-8")
    city.write_text(city.read_text(encoding="utf-8").replace(before, after), "utf-8")

    code, output = run("prune", "--spec", str(spec_dir), "--retention-days", "180")

    assert code == 0, output
    assert kept_orgs(env_ledger) == {"150402", "150402001"}


def test_an_org_hold_without_a_spec_keeps_only_that_code(
    env_ledger: AuditLedger,
) -> None:
    aged_staff_records(env_ledger)

    code, output = run("hold", "--reason", "纪检调查", "--org", "150402")
    listed = run("hold", "--list")[1]
    run("prune", "--retention-days", "180")

    assert code == 0, output
    assert "needs --spec" in output and "150402 only" in output
    assert "org=150402 orgs=150402]" in listed
    assert kept_orgs(env_ledger) == {"150402"}


def test_a_hold_on_an_unknown_organisation_is_refused(example_spec_dir: Path) -> None:
    code, output = run(
        "hold", "--reason", "x", "--org", "999999", "--spec", str(example_spec_dir)
    )

    assert code != 0 and "unknown organisation 999999" in output


def run_zh(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", *args])
    return result.exit_code, result.output


def test_hold_usage_errors_are_in_chinese_by_default(example_spec_dir: Path) -> None:
    no_reason = run_zh("hold", "--org", "150402", "--spec", str(example_spec_dir))
    bad_org = run_zh(
        "hold", "--reason", "x", "--org", "999999", "--spec", str(example_spec_dir)
    )
    bad_date = run_zh("hold", "--reason", "x", "--since", "2026-13-01")

    assert no_reason[0] == 2 and "须用 --reason 写明原因" in no_reason[1]
    assert bad_org[0] == 2 and "规格中没有组织 999999" in bad_org[1]
    assert bad_date[0] == 2 and "--since" in bad_date[1]
    assert "'2026-13-01' 不是日期" in bad_date[1]


def test_releasing_a_hold_that_is_not_active_is_a_usage_error(
    env_ledger: AuditLedger,
) -> None:
    run("hold", "--reason", "纪检调查", "--actor", "zhangsan")
    run("hold", "--release", "1")

    again = run_zh("hold", "--release", "1")
    unknown = run_zh("hold", "--release", "99")

    # not "the state store failed" (exit 5): the number is simply wrong
    assert again[0] == 2 and "没有编号为 1 的有效保全" in again[1]
    assert unknown[0] == 2 and "没有编号为 99 的有效保全" in unknown[1]
    assert "状态库出错" not in again[1] + unknown[1]


def test_a_hold_without_criteria_says_it_keeps_every_record(
    env_ledger: AuditLedger,
) -> None:
    code, output = run_zh("hold", "--reason", "全市保全")
    listed = run("hold", "--list")[1]

    assert code == 0, output
    assert "保全范围：全部审计记录" in output
    assert "全市保全 [all records]" in listed


def test_hold_list_shows_dates_as_they_were_given(env_ledger: AuditLedger) -> None:
    run(
        "hold", "--reason", "纪检调查", "--since", "2026-01-01", "--until", "2026-02-01"
    )

    listed = run("hold", "--list")[1]
    in_utc = run("hold", "--list", "--tz", "UTC")[1]

    # the auditor typed Beijing dates: --list must not show 2025-12-31T16:00
    assert "since=2026-01-01T00:00:00+08:00 until=2026-02-01T00:00:00+08:00" in listed
    assert "since=2025-12-31T16:00:00+00:00" in in_utc


def test_a_county_hold_takes_the_townships_of_a_divisions_csv(
    env_ledger: AuditLedger, example_spec_dir: Path, divisions_csv: Path
) -> None:
    args = ("--reason", "纪检调查", "--org", "150402", "--spec", str(example_spec_dir))

    code, output = run("hold", *args, "--divisions", str(divisions_csv))

    assert code == 0, output
    (item,) = env_ledger.holds()
    townships = {
        line.split(",")[0]
        for line in divisions_csv.read_text(encoding="utf-8-sig").splitlines()
        if ",150402," in line
    }
    assert townships and townships <= item.org_codes
    assert f"{len(item.org_codes)} organisations in all" in output


def test_hold_list_shortens_a_city_wide_scope() -> None:
    from citycloud.cli_audit import describe_hold

    codes = frozenset(f"150402{i:03d}" for i in range(1, 31)) | {"150402"}
    item = Hold(
        1,
        "纪检调查",
        "审计员王芳",
        datetime(2026, 1, 5, tzinfo=UTC),
        org_code="150402",
        org_codes=codes,
        org_name="红山区",
    )

    line = describe_hold(item)

    assert "org=150402 红山区 orgs=150402,150402001," in line
    assert "150402019,… (31 in all)]" in line
    assert "150402020" not in line


def test_prune_refuses_a_retention_below_180_days() -> None:
    code, output = run("prune", "--retention-days", "30")

    assert code != 0
    assert "180" in output


def test_keys_rotate_keeps_the_ledger_verifiable(env_ledger: AuditLedger) -> None:
    fill(env_ledger)
    first = env_ledger.signer.current_key_id() if env_ledger.signer else None

    code, output = run("keys", "rotate")
    env_ledger.append("auth.login", actor="after-rotation")
    run("seal")
    keys_listed = run("keys", "list")[1]

    assert code == 0 and "rotated" in output
    assert first is not None and first in keys_listed
    assert run("verify")[0] == 0


def test_pull_keycloak_copies_new_events_once(
    env_ledger: AuditLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from citycloud.adapters.keycloak.client import KeycloakApi
    from citycloud.adapters.keycloak.model import RealmModel, default_settings
    from citycloud.adapters.keycloak.sync import sync_realm
    from tests.fakes.keycloak import FakeKeycloak

    with FakeKeycloak(admin_user="admin", admin_password="pw-admin-1") as keycloak:
        monkeypatch.setenv("CITYCLOUD_KEYCLOAK_USER", "admin")
        monkeypatch.setenv("CITYCLOUD_KEYCLOAK_PASSWORD", "pw-admin-1")
        api = KeycloakApi.connect(keycloak.url, "chifeng")
        sync_realm(api, RealmModel("chifeng", settings=default_settings("赤峰市")))
        realm = keycloak.state.realms["chifeng"]
        keycloak.state.record_event(realm, "LOGIN", userId="u1")
        args = ("pull-keycloak", "--keycloak", keycloak.url, "--realm", "chifeng")

        first_code, first = run(*args)
        keycloak.state.offset += 5
        keycloak.state.record_event(realm, "LOGOUT", userId="u1")
        second_code, second = run(*args)
        third_code, third = run(*args)

    assert (first_code, second_code, third_code) == (0, 0, 0), first
    assert "Copied 0 new" not in first
    assert "Copied 1 new" in second
    assert "Copied 0 new" in third
    actions = [r.action for r in env_ledger.query(kinds=["keycloak.event"], limit=None)]
    assert actions == ["login", "logout"]
    assert env_ledger.verify().ok
