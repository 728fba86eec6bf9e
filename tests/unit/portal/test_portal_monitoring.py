"""Monitoring: charts from Prometheus, filtered to the tenants a user may see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal import data
from tests.unit.portal.portal_users import texts


@pytest.fixture
def prometheus(monkeypatch):
    """Every tenant and three hosts report; records which queries ran."""
    monkeypatch.setenv("CITYCLOUD_PROMETHEUS_URL", "http://127.0.0.1:9")
    now = datetime.now(UTC)
    tenants = ["bigdata", "dispatch", "hongshan-grid", "songshan-risk"]

    def fake_range(expr: str, minutes: int = 60, step: str = "60s") -> list[dict]:
        return [{"tenant": slug, "time": now, "value": 4.0} for slug in tenants]

    def fake_query(expr: str) -> list[dict]:
        return [
            {"metric": {"instance": f"10.10.1.2{i}:9100", "job": "node"}, "value": 1.0}
            for i in range(1, 4)
        ]

    monkeypatch.setattr(data, "prom_range", fake_range)
    monkeypatch.setattr(data, "prom_query", fake_query)


def chart_tenants(at) -> set[str]:
    found: set[str] = set()
    for chart in at.get("vega_lite_chart"):
        spec = chart.proto.spec
        found |= {
            slug
            for slug in ("bigdata", "dispatch", "hongshan-grid", "songshan-risk")
            if slug in spec
        }
        for dataset in chart.proto.datasets:
            found |= {
                slug
                for slug in ("bigdata", "dispatch", "hongshan-grid", "songshan-risk")
                if slug.encode() in dataset.data.data
            }
    return found


def test_without_prometheus_an_empty_state_explains_why(run_page):
    at = run_page("pages/monitoring", "city-ops")
    assert "未配置 Prometheus" in texts(at)
    assert not at.get("vega_lite_chart")


def test_ops_see_the_whole_city(run_page, prometheus):
    at = run_page("pages/monitoring", "city-ops")
    assert not at.exception
    assert at.metric[0].value == "3/3"
    assert {"bigdata", "hongshan-grid", "songshan-risk"} <= chart_tenants(at)
    assert "主机健康" in texts(at)


def test_county_admin_sees_only_their_tenants(run_page, prometheus):
    at = run_page("pages/monitoring", "county-admin")
    assert not at.exception
    assert chart_tenants(at) == {"hongshan-grid"}
    assert "主机健康" not in texts(at)


@pytest.mark.parametrize("user", ["township-staff", "village-staff", "city-auditor"])
def test_staff_and_auditors_are_refused(run_page, prometheus, user):
    at = run_page("pages/monitoring", user)
    assert "您无权访问此页面（运行监控）" in texts(at)
    assert not at.get("vega_lite_chart")
