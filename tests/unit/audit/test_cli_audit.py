"""``citycloud audit ...`` as an operator or auditor uses it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from citycloud.cli import main
from citycloud.store import StateStore
from citycloud.store.audit import AuditLedger, open_ledger
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
