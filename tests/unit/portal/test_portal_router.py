"""The router: sign-in, demo mode only on loopback, navigation from roles,
language, sign-out."""

from __future__ import annotations

import pytest
from streamlit import config

from portal import data
from tests.unit.portal.portal_users import texts


@pytest.fixture
def address():
    """Set Streamlit's server.address for the run, as `citycloud portal` does."""
    before = config.get_option("server.address")

    def set_to(value: str | None) -> None:
        config.set_option("server.address", value)

    yield set_to
    config.set_option("server.address", before)


def test_no_identity_provider_and_no_loopback_refuses_to_serve(run_page, address):
    address(None)  # Streamlit's default: every interface
    at = run_page("app")
    assert not at.exception
    assert "拒绝在非本机地址上提供服务" in texts(at)
    assert not at.page_link
    assert not at.selectbox or all(s.key == "language_picker" for s in at.selectbox)


def test_loopback_demo_mode_is_marked_and_signs_in_a_demo_user(run_page, address):
    address("127.0.0.1")
    at = run_page("app")
    assert "本地演示模式" in texts(at)
    picker = next(s for s in at.selectbox if s.key != "language_picker")
    assert len(picker.options) >= 4
    at.button(key="demo_enter").click().run()
    assert not at.exception
    assert "演示用户" in texts(at)
    assert [link.value for link in at.page_link]
    at.button(key="sign_out").click().run()
    assert "本地演示模式" in texts(at)
    assert not at.page_link
    kinds = [r.kind for r in data.audit_rows()]
    assert "auth.login" in kinds and "auth.logout" in kinds


@pytest.mark.parametrize(
    ("user", "links"),
    [
        pytest.param(
            "city-cloud-admin",
            ["应用中心", "应用上云申请", "运维管理", "运行监控"],
            id="city-cloud-admin",
        ),
        pytest.param("city-ops", ["应用中心", "运维管理", "运行监控"], id="city-ops"),
        pytest.param("city-auditor", ["应用中心", "安全审计"], id="city-auditor"),
        pytest.param(
            "county-admin",
            ["应用中心", "应用上云申请", "运行监控"],
            id="county-tenant-admin",
        ),
        pytest.param("county-auditor", ["应用中心", "安全审计"], id="county-auditor"),
        pytest.param("township-staff", ["应用中心"], id="township-staff"),
        pytest.param("village-staff", ["应用中心"], id="village-staff"),
    ],
)
def test_navigation_is_built_from_the_users_roles(run_page, user, links):
    at = run_page("app", user)
    assert not at.exception
    assert [link.value for link in at.page_link] == links


def test_english_is_selectable(run_page):
    at = run_page("app", "county-admin", lang="en")
    assert [link.value for link in at.page_link] == [
        "App centre",
        "Onboarding",
        "Monitoring",
    ]
    assert "Signed in as zhao.hongshan" in texts(at)


def test_deep_link_is_refused_and_recorded(run_page):
    at = run_page("app", "township-staff")
    at.switch_page("pages/operations.py").run()
    assert "您无权访问此页面（运维管理）" in texts(at)
    assert "主机与容量" not in texts(at)
    denied = data.audit_rows(kinds=["portal.denied"])
    assert [(r.actor, r.target) for r in denied] == [("qian.mujia", "page:operations")]


def test_test_hook_is_ignored_without_the_flag(run_page, monkeypatch, address):
    monkeypatch.delenv("CITYCLOUD_PORTAL_TEST")
    address(None)
    at = run_page("app", "city-cloud-admin")
    assert "zhang.admin" not in texts(at)
    assert not at.page_link
