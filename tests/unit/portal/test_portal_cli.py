"""`citycloud portal`: secrets for Streamlit's login, refusal without one."""

from __future__ import annotations

import stat
import tomllib

import pytest
from click.testing import CliRunner

from citycloud import cli_portal
from citycloud.cli import main


@pytest.fixture
def launched(monkeypatch):
    """Capture the exec of Streamlit instead of replacing the test process."""
    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(
        cli_portal.os, "execve", lambda _p, argv, env: calls.append((argv, env))
    )
    monkeypatch.setattr(cli_portal.os, "chdir", lambda _p: None)
    monkeypatch.setenv("CITYCLOUD_PORTAL_TEST", "1")
    return calls


def test_refuses_a_public_address_without_an_identity_provider(tmp_path, launched):
    result = CliRunner().invoke(
        main, ["portal", "--address", "0.0.0.0", "--run-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "拒绝监听 0.0.0.0" in result.output
    assert launched == []


def test_demo_mode_on_loopback_writes_no_credentials(tmp_path, launched):
    result = CliRunner().invoke(main, ["portal", "--run-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [(argv, env)] = launched
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    secrets = tmp_path / "portal" / ".streamlit" / "secrets.toml"
    assert "auth" not in tomllib.loads(secrets.read_text(encoding="utf-8"))
    assert "CITYCLOUD_PORTAL_TEST" not in env  # the test hook is never live


def test_keycloak_realm_becomes_streamlit_auth(tmp_path, launched, monkeypatch):
    monkeypatch.setenv("CITYCLOUD_PORTAL_CLIENT_SECRET", "s3cret")
    metadata = "https://sso.example/realms/chifeng/.well-known/openid-configuration"
    result = CliRunner().invoke(
        main,
        [
            "portal",
            "--address",
            "0.0.0.0",
            "--port",
            "8600",
            "--run-dir",
            str(tmp_path),
            "--oidc-metadata-url",
            metadata,
            "--public-url",
            "https://yun.example",
        ],
    )
    assert result.exit_code == 0, result.output
    secrets = tmp_path / "portal" / ".streamlit" / "secrets.toml"
    auth = tomllib.loads(secrets.read_text(encoding="utf-8"))["auth"]
    assert auth["server_metadata_url"] == metadata
    assert auth["redirect_uri"] == "https://yun.example/oauth2callback"
    assert auth["client_id"] == "citycloud-portal"
    assert auth["client_secret"] == "s3cret"
    assert auth["client_kwargs"]["prompt"] == "login"
    assert len(auth["cookie_secret"]) >= 32
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    [(argv, _env)] = launched
    assert argv[argv.index("--secrets.files") + 1] == str(secrets)
    assert "s3cret" not in result.output


def test_identity_provider_without_secret_is_an_error(tmp_path, launched, monkeypatch):
    monkeypatch.delenv("CITYCLOUD_PORTAL_CLIENT_SECRET", raising=False)
    result = CliRunner().invoke(
        main,
        [
            "portal",
            "--run-dir",
            str(tmp_path),
            "--oidc-metadata-url",
            "https://sso.example/.well-known/openid-configuration",
        ],
    )
    assert result.exit_code != 0
    assert "CITYCLOUD_PORTAL_CLIENT_SECRET" in result.output
    assert launched == []


def test_cookie_secret_survives_restarts(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYCLOUD_PORTAL_COOKIE_SECRET", raising=False)
    assert cli_portal.cookie_secret(tmp_path) == cli_portal.cookie_secret(tmp_path)


def test_relative_sqlite_store_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = cli_portal.absolute_sqlite("sqlite:///.citycloud/state.db")
    assert url == f"sqlite:///{tmp_path}/.citycloud/state.db"
    assert cli_portal.absolute_sqlite("postgresql://db/x") == "postgresql://db/x"


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        pytest.param("127.0.0.1", True, id="ipv4-loopback"),
        pytest.param("127.0.0.2", True, id="ipv4-loopback-range"),
        pytest.param("::1", True, id="ipv6-loopback"),
        pytest.param("localhost", True, id="localhost"),
        pytest.param("0.0.0.0", False, id="every-interface"),
        pytest.param("", False, id="unset-means-every-interface"),
        pytest.param("10.10.1.5", False, id="private-address"),
        pytest.param("portal.example", False, id="host-name"),
    ],
)
def test_only_loopback_counts_as_loopback(address, loopback):
    assert cli_portal.is_loopback(address) is loopback
