"""Operations: hosts and their use, recent applies, pending requests."""

from __future__ import annotations

import pytest

from portal import data
from tests.unit.portal.portal_users import texts


@pytest.mark.parametrize("user", ["city-cloud-admin", "city-ops"])
def test_ops_see_every_host_and_the_capacity(run_page, user):
    at = run_page("pages/operations", user)
    assert not at.exception
    hosts = at.dataframe[0].value
    assert len(hosts) == 13
    assert "共 13 台主机" in texts(at)
    assert "未配置 Prometheus，使用率不可用。" in texts(at)
    assert "暂无执行记录。" in texts(at)


@pytest.mark.parametrize(
    "user",
    [
        "city-auditor",
        "county-admin",
        "county-auditor",
        "township-staff",
        "village-staff",
    ],
)
def test_others_are_refused_and_the_refusal_is_recorded(run_page, user):
    at = run_page("pages/operations", user)
    assert "您无权访问此页面（运维管理）" in texts(at)
    assert not at.dataframe
    denied = data.audit_rows(kinds=["portal.denied"])
    assert [r.target for r in denied] == ["page:operations"]


def test_host_use_comes_from_prometheus(run_page, monkeypatch):
    monkeypatch.setenv("CITYCLOUD_PROMETHEUS_URL", "http://127.0.0.1:9")

    def fake_query(expr: str) -> list[dict[str, object]]:
        value = 0.42 if "cpu" in expr else 0.9
        return [{"metric": {"instance": "10.10.1.21:9100"}, "value": value}]

    monkeypatch.setattr(data, "prom_query", fake_query)
    at = run_page("pages/operations", "city-ops")
    assert not at.exception
    hosts = at.dataframe[0].value
    row = hosts[hosts["主机"] == "cn-01"].iloc[0]
    assert row["CPU 使用率"] == pytest.approx(0.42)
    assert row["内存使用率"] == pytest.approx(0.9)


def test_pending_requests_are_listed(run_page):
    data.requests_store().create(
        department="红山区民政局",
        owner_org_code="150402",
        requested_by="zhao.hongshan",
        draft={
            "name": "红山区智慧养老",
            "slug": "hs-elderly",
            "department": "红山区民政局",
            "owner": "150402",
            "network": {"cidr": "10.240.0.0/24"},
        },
    )
    at = run_page("pages/operations", "city-ops")
    pending = at.dataframe[-1].value
    assert list(pending["系统"]) == ["红山区智慧养老"]
