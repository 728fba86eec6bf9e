"""Fixtures for the portal's AppTests: a copy of the example spec, a run dir,
and a runner that injects a user through the portal's test hook."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.unit.portal.portal_users import SYNTHETIC_VILLAGE, USERS

REPO = Path(__file__).resolve().parents[3]
PORTAL = REPO / "portal"


@pytest.fixture
def portal_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh spec copy and run dir per test; caches cleared on both sides."""
    spec = tmp_path / "spec"
    shutil.copytree(REPO / "examples" / "chifeng", spec)
    (spec / "zz-synthetic-village.yaml").write_text(SYNTHETIC_VILLAGE, encoding="utf-8")
    monkeypatch.setenv("CITYCLOUD_PORTAL_TEST", "1")
    monkeypatch.setenv("CITYCLOUD_SPEC", str(spec))
    monkeypatch.setenv("CITYCLOUD_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("CITYCLOUD_STATE_URL", raising=False)
    monkeypatch.delenv("CITYCLOUD_PROMETHEUS_URL", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield spec
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def run_page(portal_env: Path) -> Callable[..., AppTest]:
    """Run a portal script (``app`` or ``pages/NAME``) as a given user."""

    def run(script: str, user: str | None = None, lang: str | None = None) -> AppTest:
        at = AppTest.from_file(str(PORTAL / f"{script}.py"), default_timeout=30)
        if user is not None:
            at.session_state["citycloud_test_claims"] = USERS[user]
        if lang is not None:
            at.session_state["citycloud_lang"] = lang
        return at.run()

    return run
