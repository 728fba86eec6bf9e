"""``citycloud portal``: run the Streamlit portal with its sign-in configured.

With an OpenID Connect provider (the city's Keycloak realm) the command writes
the ``[auth]`` section Streamlit's native login reads into
``<run dir>/portal/.streamlit/secrets.toml`` and starts Streamlit with it.
Without one the portal starts only on a loopback address, with a clearly
marked demo user picker; it refuses to serve anyone unauthenticated on an
address other people can reach.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from citycloud import cli_common
from citycloud.i18n import register, t
from citycloud.spec import load_spec
from citycloud.store import default_url

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
PORTAL_APP = REPO / "portal" / "app.py"
DEFAULT_SPEC = REPO / "examples" / "chifeng"

register(
    {
        "cli.portal.refuse": {
            "zh": "未配置身份认证（--oidc-metadata-url 或规格中的 identity.url），"
            "门户只能在本机地址（127.0.0.1）上以演示模式启动，拒绝监听 {address}。",
            "en": "No identity provider is configured (--oidc-metadata-url or the "
            "spec's identity.url): the portal only starts in demo mode on a loopback "
            "address and refuses to listen on {address}.",
        },
        "cli.portal.no_secret": {
            "zh": "已配置身份认证，但缺少客户端密钥：请设置环境变量 "
            "CITYCLOUD_PORTAL_CLIENT_SECRET。",
            "en": "An identity provider is configured but the client secret is "
            "missing: set CITYCLOUD_PORTAL_CLIENT_SECRET.",
        },
        "cli.portal.no_app": {
            "zh": "找不到门户程序 {path}。",
            "en": "The portal app {path} is missing.",
        },
        "cli.portal.demo": {
            "zh": "演示模式：未配置身份认证，仅本机可访问 {url}",
            "en": "Demo mode: no identity provider; only this machine can open {url}",
        },
        "cli.portal.sso": {
            "zh": "门户地址 {url}，通过 {issuer} 统一登录",
            "en": "Portal at {url}, signing in through {issuer}",
        },
    }
)


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OidcSettings:
    metadata_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    cookie_secret: str


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(value, ensure_ascii=False)


def secrets_toml(oidc: OidcSettings) -> str:
    """The ``[auth]`` section of Streamlit's secrets file."""
    lines = [
        "# Written by `citycloud portal`; regenerated at every start.",
        "[auth]",
        f"redirect_uri = {_toml_string(oidc.redirect_uri)}",
        f"cookie_secret = {_toml_string(oidc.cookie_secret)}",
        f"client_id = {_toml_string(oidc.client_id)}",
        f"client_secret = {_toml_string(oidc.client_secret)}",
        f"server_metadata_url = {_toml_string(oidc.metadata_url)}",
        # Ask for credentials at every sign-in, also right after a sign-out.
        'client_kwargs = { prompt = "login", scope = "openid profile email" }',
    ]
    return "\n".join(lines) + "\n"


def write_secrets(folder: Path, oidc: OidcSettings | None) -> Path:
    """Write (or, without OIDC, empty) the secrets file, readable by its owner only."""
    path = folder / ".streamlit" / "secrets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets_toml(oidc) if oidc else "# No identity provider: demo mode.\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)
    return path


def cookie_secret(folder: Path) -> str:
    """A cookie signing key kept across restarts, so sessions survive them."""
    given = os.environ.get("CITYCLOUD_PORTAL_COOKIE_SECRET")
    if given:
        return given
    path = folder / "cookie-secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value)
    return value


def metadata_from_spec(spec_path: Path) -> str | None:
    """The realm's discovery URL when the spec names its Keycloak server."""
    spec = load_spec(spec_path)
    url = spec.city.identity.url
    if not url:
        return None
    return f"{url.rstrip('/')}/realms/{spec.realm}/.well-known/openid-configuration"


def absolute_sqlite(url: str) -> str:
    """A relative SQLite URL made absolute, since the portal runs elsewhere."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str(Path(url[len(prefix) :]).resolve())
    return url


def streamlit_argv(app: Path, address: str, port: int, secrets_file: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--secrets.files",
        str(secrets_file),
    ]


def portal_env(
    base: Mapping[str, str],
    *,
    spec: Path,
    run_dir: Path,
    state_url: str | None,
    prometheus_url: str | None,
) -> dict[str, str]:
    env = dict(base)
    env["CITYCLOUD_SPEC"] = str(spec)
    env["CITYCLOUD_RUN_DIR"] = str(run_dir)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), base.get("PYTHONPATH", "")) if p
    )
    if state_url:
        env["CITYCLOUD_STATE_URL"] = state_url
    if prometheus_url:
        env["CITYCLOUD_PROMETHEUS_URL"] = prometheus_url
    # The test hook must never be live in a served portal.
    env.pop("CITYCLOUD_PORTAL_TEST", None)
    return env


@click.command("portal")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Spec file or folder (default: examples/chifeng of this checkout).",
)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8501, show_default=True)
@click.option("--state", "state_url", envvar="CITYCLOUD_STATE_URL", default=None)
@click.option(
    "--prometheus", "prometheus_url", envvar="CITYCLOUD_PROMETHEUS_URL", default=None
)
@click.option(
    "--oidc-metadata-url",
    envvar="CITYCLOUD_OIDC_METADATA_URL",
    default=None,
    help="OpenID discovery URL of the Keycloak realm "
    "(default: from the spec's city.identity.url and realm).",
)
@click.option(
    "--client-id",
    envvar="CITYCLOUD_PORTAL_CLIENT_ID",
    default="citycloud-portal",
    show_default=True,
)
@click.option(
    "--public-url",
    envvar="CITYCLOUD_PORTAL_URL",
    default=None,
    help="URL people open the portal at (default http://ADDRESS:PORT).",
)
@click.option(
    "--run-dir",
    envvar="CITYCLOUD_RUN_DIR",
    default="/tmp/citycloud-run",
    type=click.Path(file_okay=False, path_type=Path),
    show_default=True,
)
@cli_common.guarded
def portal(
    spec_path: Path | None,
    address: str,
    port: int,
    state_url: str | None,
    prometheus_url: str | None,
    oidc_metadata_url: str | None,
    client_id: str,
    public_url: str | None,
    run_dir: Path,
) -> None:
    """Run the unified cloud portal (统一门户)."""
    spec = (spec_path or DEFAULT_SPEC).resolve()
    if not PORTAL_APP.exists():
        raise click.ClickException(t("cli.portal.no_app", path=PORTAL_APP))
    folder = run_dir.resolve() / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    metadata = oidc_metadata_url or metadata_from_spec(spec)
    url = (public_url or f"http://{address}:{port}").rstrip("/")

    oidc: OidcSettings | None = None
    if metadata:
        secret = os.environ.get("CITYCLOUD_PORTAL_CLIENT_SECRET")
        if not secret:
            raise click.ClickException(t("cli.portal.no_secret"))
        oidc = OidcSettings(
            metadata_url=metadata,
            client_id=client_id,
            client_secret=secret,
            redirect_uri=f"{url}/oauth2callback",
            cookie_secret=cookie_secret(folder),
        )
    elif not is_loopback(address):
        raise click.ClickException(t("cli.portal.refuse", address=address))

    if state_url is None:
        # Share the store `citycloud apply` uses from this directory.
        state_url = absolute_sqlite(default_url())
    secrets_file = write_secrets(folder, oidc)
    argv = streamlit_argv(PORTAL_APP, address, port, secrets_file)
    env = portal_env(
        os.environ,
        spec=spec,
        run_dir=run_dir.resolve(),
        state_url=state_url,
        prometheus_url=prometheus_url,
    )
    if oidc is None:
        click.echo(t("cli.portal.demo", url=url), err=True)
    else:
        click.echo(t("cli.portal.sso", url=url, issuer=metadata), err=True)
    log.info(
        "starting the portal on %s:%s (sign-in: %s)",
        address,
        port,
        "oidc" if oidc else "demo",
    )
    os.chdir(folder)
    os.execve(sys.executable, argv, env)


cli_common.add_command(portal)
