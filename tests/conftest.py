"""Fixtures shared by every test: the example spec and the real division list."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from citycloud.i18n import use

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "chifeng"


def shared_dir() -> Path:
    """../shared beside the checkout (CI lays a copy there), or CITYCLOUD_SHARED."""
    return Path(os.environ.get("CITYCLOUD_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def example_spec_dir() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def divisions_csv() -> Path:
    """Chifeng's real administrative divisions (read-only reference data)."""
    path = shared_dir() / "data" / "divisions" / "chifeng.csv"
    if not path.exists():
        pytest.fail(f"reference data missing: {path} (set CITYCLOUD_SHARED)")
    return path


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the developer's own .citycloud/ folder."""
    monkeypatch.setenv("CITYCLOUD_STATE_URL", f"sqlite:///{tmp_path}/state.db")
    monkeypatch.setenv("CITYCLOUD_LANG", "zh")
    use(None)  # a CLI run with --lang en must not leak into the next test


# Some SDK sessions can deadlock in their __del__ at interpreter shutdown
# (keystoneauth's session closing a pool of urllib3-future, which
# grafana-client's niquests installs; seen once after a green run). Once
# pytest has reported and written its files, leave without running those
# finalizers, keeping pytest's exit status.
_EXIT_STATUS: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if "status" in _EXIT_STATUS and not os.environ.get("CITYCLOUD_PYTEST_NORMAL_EXIT"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["status"])
