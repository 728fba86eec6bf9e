"""App centre: each user sees the apps of their tier, role, department and county."""

from __future__ import annotations

import pytest

from portal import data
from tests.unit.portal.portal_users import texts

HONGSHAN = "红山区网格员 App"
SONGSHAN = "隐患排查"
DATA_BUREAU_ONLY = "数据共享交换"


@pytest.mark.parametrize(
    ("user", "sees", "hidden"),
    [
        pytest.param(
            "city-cloud-admin",
            ["城市云统一门户"],
            [HONGSHAN, SONGSHAN],
            id="city-cloud-admin",
        ),
        pytest.param("city-ops", ["统一指挥调度平台"], [HONGSHAN], id="city-ops"),
        pytest.param(
            "city-auditor",
            ["城市云统一门户"],
            [HONGSHAN, "网格化管理"],
            id="city-auditor",
        ),
        pytest.param(
            "county-admin",
            [HONGSHAN, "安全生产监管"],
            [SONGSHAN, DATA_BUREAU_ONLY],
            id="county-admin",
        ),
        pytest.param(
            "county-auditor", ["城市云统一门户"], [SONGSHAN], id="county-auditor"
        ),
        pytest.param(
            "township-staff",
            [SONGSHAN, "森林草原防火"],
            [HONGSHAN, "安全生产监管"],
            id="township-staff",
        ),
        pytest.param(
            "village-staff",
            [HONGSHAN, "网格化管理"],
            [SONGSHAN, "防汛抗旱"],
            id="village-staff",
        ),
    ],
)
def test_each_user_sees_only_their_apps(run_page, user, sees, hidden):
    at = run_page("pages/app_centre", user)
    assert not at.exception
    shown = {s.value for s in at.subheader}
    assert set(sees) <= shown
    assert not set(hidden) & shown


def test_opening_an_app_is_recorded(run_page):
    at = run_page("pages/app_centre", "township-staff")
    button = next(b for b in at.button if b.key and b.key.startswith("open:"))
    button.click().run()
    assert at.get("link_button")
    opened = data.audit_rows(kinds=["portal.app_open"])
    assert [r.actor for r in opened] == ["qian.mujia"]
    assert opened[0].target.startswith("app:")


def test_page_view_is_recorded_once_per_visit(run_page):
    at = run_page("pages/app_centre", "county-admin")
    at.run()
    views = data.audit_rows(kinds=["portal.page"])
    assert [(r.actor, r.target) for r in views] == [
        ("zhao.hongshan", "page:app_centre")
    ]


def test_signed_out_visitor_sees_no_apps(run_page):
    at = run_page("pages/app_centre")
    assert HONGSHAN not in texts(at)
    assert not at.subheader
