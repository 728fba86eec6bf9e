"""Audit: who signed in, who opened what, what changed; filters; CSV for Excel."""

from __future__ import annotations

import csv
import io

import pytest

from portal import data
from tests.unit.portal.portal_users import texts


@pytest.fixture
def history(run_page):
    """Sign-ins and page opens by users of two counties, one refused."""
    run_page("pages/app_centre", "county-admin")
    run_page("pages/app_centre", "township-staff")
    run_page("pages/operations", "township-staff")  # refused
    run_page("pages/app_centre", "city-ops")


def shown(at) -> list[tuple[str, str]]:
    frame = at.dataframe[0].value
    return list(zip(frame["操作人"], frame["类型"], strict=True))


def test_city_auditor_sees_everyone(history, run_page):
    at = run_page("pages/audit", "city-auditor")
    assert not at.exception
    rows = shown(at)
    actors = {actor for actor, _ in rows}
    assert {"zhao.hongshan", "qian.mujia", "li.ops", "wang.audit"} <= actors
    assert ("qian.mujia", "越权访问") in rows
    assert ("zhao.hongshan", "登录") in rows


def test_county_auditor_sees_only_their_county(history, run_page):
    at = run_page("pages/audit", "county-auditor")
    actors = {actor for actor, _ in shown(at)}
    assert "qian.mujia" in actors  # a township of 松山区
    assert "zhao.hongshan" not in actors  # 红山区
    assert "li.ops" not in actors  # the city


def test_filters_narrow_the_records(history, run_page):
    at = run_page("pages/audit", "city-auditor")
    at.text_input(key="actor").input("qian.mujia").run()
    at.multiselect(key="kinds").select("portal.denied").run()
    assert shown(at) == [("qian.mujia", "越权访问")]
    assert "共 1 条记录" in texts(at)


@pytest.mark.parametrize(
    "user", ["city-cloud-admin", "city-ops", "county-admin", "township-staff"]
)
def test_non_auditors_are_refused(history, run_page, user):
    at = run_page("pages/audit", user)
    assert "您无权访问此页面（安全审计）" in texts(at)
    assert not at.dataframe


def test_csv_opens_in_excel_with_chinese_and_city_time(history):
    rows = data.audit_rows()
    headers = ["时间", "类型", "操作人", "机构", "系统", "对象", "动作", "结果", "详情"]
    blob = data.audit_csv(rows, headers)
    assert blob.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs
    table = list(csv.reader(io.StringIO(blob.decode("utf-8-sig"))))
    assert table[0] == headers
    assert len(table) == len(rows) + 1
    first = rows[0]
    assert table[1][0] == data.local_time(first.time)  # Asia/Shanghai, not UTC


def test_export_is_itself_recorded(history, run_page):
    at = run_page("pages/audit", "city-auditor")
    at.download_button(key="export").click().run()
    [export] = data.audit_rows(kinds=["audit.export"])
    assert export.actor == "wang.audit"
    assert '"format": "csv"' in export.detail


def test_formula_like_cells_are_kept_as_text():
    row = data.AuditRow(
        time="2026-12-03T06:00:00+00:00", kind="x", actor="=cmd|' /C calc'!A0"
    )
    blob = data.audit_csv([row], data.AUDIT_COLUMNS)
    assert "'=cmd" in blob.decode("utf-8-sig")


def test_city_time_zone_is_shanghai():
    assert data.local_time("2026-12-03T06:00:00+00:00") == "2026-12-03 14:00:00"
