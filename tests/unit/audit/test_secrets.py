"""Secrets at rest: encrypted in the store, rotated, and kept out of every log."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from citycloud.store import StateStore
from citycloud.store.audit_schema import secret
from citycloud.store.secrets import (
    MASK,
    RedactingFilter,
    SecretError,
    SecretKeys,
    SecretRegistry,
    SecretStore,
    find_secrets,
    find_secrets_in_files,
)

VALUE = "Tz9-hongshan-edu-Ops!2026"


@pytest.fixture
def registry() -> SecretRegistry:
    return SecretRegistry()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "secret.key"


@pytest.fixture
def secrets(store: StateStore, key_file: Path, registry: SecretRegistry) -> SecretStore:
    return SecretStore(
        store, SecretKeys.from_file(key_file, create=True), registry=registry
    )


def stored_ciphertext(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return "\n".join(conn.execute(sa.select(secret.c.ciphertext)).scalars())


def test_a_secret_is_stored_encrypted_and_read_back(
    secrets: SecretStore, engine: sa.Engine
) -> None:
    secrets.put("tenant/hongshan-edu/service-password", VALUE)

    assert secrets.get("tenant/hongshan-edu/service-password") == VALUE
    assert VALUE not in stored_ciphertext(engine)
    assert secrets.names() == ["tenant/hongshan-edu/service-password"]


def test_the_key_file_is_created_private(key_file: Path, secrets: SecretStore) -> None:
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_key_file_readable_by_others_is_refused(key_file: Path) -> None:
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    key_file.chmod(0o644)

    with pytest.raises(SecretError, match="600"):
        SecretKeys.from_file(key_file)


def test_the_key_can_come_from_the_environment(
    store: StateStore, monkeypatch: pytest.MonkeyPatch, registry: SecretRegistry
) -> None:
    monkeypatch.setenv("CITYCLOUD_SECRET_KEY", Fernet.generate_key().decode())
    secrets = SecretStore(store, SecretKeys.load(), registry=registry)

    secrets.put("client/edu-portal", VALUE)

    assert secrets.get("client/edu-portal") == VALUE


def test_a_wrong_key_cannot_read_secrets(
    secrets: SecretStore, store: StateStore, registry: SecretRegistry
) -> None:
    secrets.put("client/edu-portal", VALUE)
    other = SecretStore(
        store, SecretKeys([Fernet.generate_key().decode()]), registry=registry
    )

    with pytest.raises(SecretError, match="cannot be decrypted"):
        other.get("client/edu-portal")


def test_rotating_the_key_reencrypts_everything_and_drops_the_old_key(
    secrets: SecretStore,
    engine: sa.Engine,
    key_file: Path,
    store: StateStore,
    registry: SecretRegistry,
) -> None:
    secrets.put("client/a-portal", VALUE)
    secrets.put("client/b-portal", VALUE + "b")
    old_key = key_file.read_text().strip()
    before = stored_ciphertext(engine)

    assert secrets.rotate_key() == 2

    assert stored_ciphertext(engine) != before
    assert old_key not in key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    reopened = SecretStore(store, SecretKeys.from_file(key_file), registry=registry)
    assert reopened.get("client/b-portal") == VALUE + "b"
    with pytest.raises(SecretError):
        SecretStore(store, SecretKeys([old_key]), registry=registry).get(
            "client/a-portal"
        )


def test_log_lines_never_show_a_secret_value(
    secrets: SecretStore, registry: SecretRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    secrets.put("client/edu-portal", VALUE)
    caplog.handler.addFilter(RedactingFilter(registry))
    log = logging.getLogger("citycloud.test")

    with caplog.at_level(logging.DEBUG):
        log.info("connecting with password %s", VALUE)
        try:
            raise RuntimeError(f"login refused for secret {VALUE}")
        except RuntimeError:
            log.exception("sign-in failed")

    assert VALUE not in caplog.text
    assert MASK in caplog.text


def test_find_secrets_names_what_leaked(tmp_path: Path) -> None:
    known = {"client/edu-portal": VALUE}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "leak.yaml").write_text(f"secret: {VALUE}\n", encoding="utf-8")
    (tmp_path / "clean.txt").write_text("nothing here\n", encoding="utf-8")

    assert find_secrets(f"x{VALUE}y", known) == ["client/edu-portal"]
    assert find_secrets_in_files([tmp_path], known) == {
        str(tmp_path / "a" / "leak.yaml"): ["client/edu-portal"]
    }
