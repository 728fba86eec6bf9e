"""A person's view of the portal: real sign-in through a local OpenID Connect
provider, headless Chromium, what each user sees and may not see."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Portal, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HONGSHAN_APP = "红山区网格员 App"  # owned by 红山区, county and below
SONGSHAN_APP = "隐患排查"  # owned by 松山区, county and below
REQUEST_NAME = "红山区智慧养老"


def sign_in(page: Any, portal: Portal, username: str) -> None:
    page.goto(portal.url)
    page.get_by_text("请登录").wait_for()
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.get_by_role("button", name=username, exact=True).click()
    page.get_by_text(f"当前用户：{username}").wait_for()


def sign_out(page: Any, portal: Portal) -> None:
    page.get_by_role("button", name="退出登录").click()
    # The provider's end-session page, then back to the portal.
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(re.compile(re.escape(portal.url) + r".*"))
    page.get_by_text("请登录").wait_for()


def open_page(page: Any, name: str) -> None:
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name=name).wait_for()


def submit_request(page: Any, name: str, slug: str, cidr: str) -> None:
    open_page(page, "应用上云申请")
    page.get_by_label("系统（租户）名称").fill(name)
    page.get_by_label("应用名称").fill("养老服务")
    page.get_by_label("英文标识（可留空自动生成）").fill(slug)
    page.get_by_label("租户网络（CIDR）").fill(cidr)
    page.get_by_role("button", name="提交申请").click()
    page.get_by_text("申请已提交").wait_for()


def test_county_admin_and_township_staff_each_see_their_own(
    portal_page: Any, portal: Portal
) -> None:
    page = portal_page
    sign_in(page, portal, "zhao.hongshan")
    page.get_by_text(HONGSHAN_APP).wait_for()
    assert page.get_by_text(SONGSHAN_APP).count() == 0
    shot(page, "01-app-centre-county-admin")

    submit_request(page, REQUEST_NAME, "hs-elderly", "10.240.0.0/24")
    page.reload()
    page.get_by_role("heading", name="我的申请").wait_for()
    page.get_by_role("cell", name=REQUEST_NAME).wait_for()
    shot(page, "02-onboarding-county-admin")

    sign_out(page, portal)
    # Signing in again asks the provider for credentials again.
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.get_by_placeholder("sub").wait_for()
    shot(page, "03-sign-in-again-asks-for-credentials")

    page.get_by_role("button", name="qian.mujia", exact=True).click()
    page.get_by_text("当前用户：qian.mujia").wait_for()
    page.get_by_text(SONGSHAN_APP).wait_for()
    assert page.get_by_text(HONGSHAN_APP).count() == 0
    assert page.get_by_role("link", name="应用上云申请").count() == 0
    assert page.get_by_role("link", name="运维管理").count() == 0
    shot(page, "04-app-centre-township-staff")

    page.goto(f"{portal.url}/operations")
    page.get_by_text("您无权访问此页面（运维管理）").wait_for()
    assert page.get_by_text("主机与容量").count() == 0
    shot(page, "05-deep-link-refused")

    page.goto(f"{portal.url}/onboarding")
    page.get_by_text("您无权访问此页面（应用上云申请）").wait_for()
    assert page.get_by_text(REQUEST_NAME).count() == 0


def test_city_admin_approves_with_plan_and_auditor_sees_it(
    portal_page: Any, portal: Portal
) -> None:
    page = portal_page
    sign_in(page, portal, "zhao.hongshan")
    submit_request(page, "红山区社区养老", "hs-care", "10.241.0.0/24")
    sign_out(page, portal)

    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("button", name="zhang.admin", exact=True).click()
    page.get_by_text("当前用户：zhang.admin").wait_for()
    open_page(page, "应用上云申请")
    request = page.get_by_test_id("stExpander").filter(
        has_text="红山区社区养老 · 红山区 · zhao.hongshan"
    )
    request.get_by_role("button", name="查看变更计划").click()
    page.get_by_text("变更计划：hs-care").wait_for()
    shot(page, "06-onboarding-plan")
    request.get_by_role("button", name="批准并开通").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "已开通：hs-care", timeout=60_000
    )
    shot(page, "07-onboarding-applied")

    open_page(page, "运维管理")
    page.get_by_text("共 13 台主机").wait_for()
    page.get_by_role("heading", name="待审批的上云申请").wait_for()
    shot(page, "08-operations")
    open_page(page, "运行监控")
    shot(page, "09-monitoring")
    sign_out(page, portal)

    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("button", name="wang.audit", exact=True).click()
    page.get_by_text("当前用户：wang.audit").wait_for()
    open_page(page, "安全审计")
    page.get_by_text(re.compile(r"共 \d+ 条记录")).wait_for()
    tenant = page.get_by_label("系统")
    tenant.fill("hs-care")
    tenant.press("Enter")
    expect(page.get_by_text(re.compile(r"共 [1-9]\d* 条记录"))).to_be_visible()
    shot(page, "10-audit")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    # The auditor sees who approved the request, for which system.
    assert any(
        "onboarding.approve" in row and "zhang.admin" in row and "hs-care" in row
        for row in rows[1:]
    ), rows
