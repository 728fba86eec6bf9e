"""Services for the browser tests: a local OpenID Connect provider and the
portal started by `citycloud portal`, both on 127.0.0.1 with free ports."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CLIENT_ID = "citycloud-portal"
CLIENT_SECRET = "portal-test-secret"


def user(
    sub: str, org: str, tier: str, roles: list[str], group: str, dept: str
) -> dict[str, Any]:
    """Claims shaped like the city's Keycloak realm puts them in the ID token."""
    return {
        "sub": sub,
        "preferred_username": sub,
        "name": sub,
        "email": f"{sub}@chifeng.example",
        "org_code": org,
        "tier": tier,
        "department": dept,
        "roles": roles,
        "groups": [group],
    }


USERS = [
    user(
        "zhao.hongshan",
        "150402",
        "county",
        ["tenant-admin", "staff"],
        "/赤峰市/红山区",
        "红山区政法委",
    ),
    user(
        "qian.mujia",
        "150404100",
        "township",
        ["staff"],
        "/赤峰市/松山区/穆家营子镇",
        "党政综合办",
    ),
    user(
        "zhang.admin", "1504", "city", ["cloud-admin", "ops"], "/赤峰市", "大数据中心"
    ),
    user("wang.audit", "1504", "city", ["auditor"], "/赤峰市", "审计局"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url} exited early:\n{log.read_text(errors='replace')}"
            )
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"{url} did not answer in {timeout}s:\n{log.read_text(errors='replace')}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass(frozen=True)
class Portal:
    url: str
    idp: str
    state_url: str
    spec: Path


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (scripts/setup.d/60-browser.sh)"
        )
    base = (
        Path(os.environ.get("CITYCLOUD_RUN_DIR", "/tmp/citycloud-run")) / "portal-e2e"
    )
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    spec = tmp_path_factory.mktemp("spec") / "chifeng"
    shutil.copytree(REPO / "examples" / "chifeng", spec)
    users = base / "users.json"
    users.write_text(json.dumps(USERS, ensure_ascii=False), encoding="utf-8")

    idp_port, portal_port = free_port(), free_port()
    idp_url = f"http://127.0.0.1:{idp_port}"
    idp_log = base / "oidc.log"
    idp = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "portal-oidc-mock.py"),
            "--port",
            str(idp_port),
            "--users",
            str(users),
        ],
        stdout=idp_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state_url = f"sqlite:///{base / 'state.db'}"
    env = dict(os.environ, CITYCLOUD_PORTAL_CLIENT_SECRET=CLIENT_SECRET)
    env.pop("CITYCLOUD_PORTAL_TEST", None)
    portal_log = base / "portal.log"
    app = None
    try:
        wait_http(f"{idp_url}/.well-known/openid-configuration", idp, idp_log)
        app = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "citycloud"),
                "portal",
                "--spec",
                str(spec),
                "--address",
                "127.0.0.1",
                "--port",
                str(portal_port),
                "--state",
                state_url,
                "--run-dir",
                str(base / "run"),
                "--oidc-metadata-url",
                f"{idp_url}/.well-known/openid-configuration",
                "--client-id",
                CLIENT_ID,
            ],
            stdout=portal_log.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=base,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{portal_port}"
        wait_http(f"{url}/_stcore/health", app, portal_log)
        yield Portal(url=url, idp=idp_url, state_url=state_url, spec=spec)
    finally:
        if app is not None:
            stop(app)
        stop(idp)


@pytest.fixture(scope="session")
def portal_chromium(portal: Portal) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def portal_page(portal_chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test, 1366x900, Chinese locale."""
    context = portal_chromium.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Wait until the script run is over (Streamlit's "running" widget gone)
    # and give tables, drawn on canvas, a moment to paint.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # A screenshot of a page still running is better than none.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "!document.querySelector('[data-testid=\"stStatusWidget\"]')",
            timeout=15_000,
        )
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
