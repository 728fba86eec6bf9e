"""Onboarding: request, routing to an approver at or above the owning
organisation, plan, approval with apply, rejection; every step recorded."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from portal import data
from tests.unit.portal.portal_users import texts


def fill_request(at: AppTest, name: str, slug: str, cidr: str, owner: str) -> AppTest:
    at.text_input(key="tenant_name").input(name)
    at.text_input(key="app_name").input("养老服务")
    at.text_input(key="slug").input(slug)
    at.text_input(key="cidr").input(cidr)
    at.selectbox(key="owner").select(owner)
    submit = next(b for b in at.button if b.label == "提交申请")
    return submit.click().run()


@pytest.fixture
def requested(run_page) -> AppTest:
    """红山区's admin has asked for a tenant owned by 红山区."""
    at = run_page("pages/onboarding", "county-admin")
    fill_request(at, "红山区智慧养老", "hs-elderly", "10.240.0.0/24", "150402")
    assert not at.exception
    return at


def pending_titles(at: AppTest) -> list[str]:
    return [e.label for e in at.expander]


def test_request_is_routed_and_listed_for_the_requester(requested):
    assert "申请已提交" in texts(requested)
    mine = requested.table[0].value
    assert list(mine.iloc[:, 0]) == ["红山区智慧养老"]
    # Nobody approves their own request.
    assert pending_titles(requested) == []
    [request] = data.find_requests()
    assert request.route == ("1504", "150402")
    kinds = [r.kind for r in data.audit_rows(kinds=["onboarding.request"])]
    assert kinds == ["onboarding.request"]


def test_invalid_request_names_the_problem(run_page):
    at = run_page("pages/onboarding", "county-admin")
    fill_request(at, "红山区智慧养老", "hs-elderly", "8.8.8.0/24", "150402")
    assert "申请内容有误" in texts(at)
    assert data.find_requests() == []


@pytest.mark.parametrize(
    ("user", "sees"),
    [
        pytest.param("city-cloud-admin", True, id="city-cloud-admin"),
        pytest.param("county-auditor", None, id="county-auditor-denied"),
        pytest.param("township-staff", None, id="township-staff-denied"),
        pytest.param("village-staff", None, id="village-staff-denied"),
    ],
)
def test_only_approvers_on_the_route_see_the_request(requested, run_page, user, sees):
    at = run_page("pages/onboarding", user)
    if sees is None:
        assert "您无权访问此页面（应用上云申请）" in texts(at)
        assert "红山区智慧养老" not in texts(at)
        return
    assert pending_titles(at) == ["红山区智慧养老 · 红山区 · zhao.hongshan"]


def test_another_countys_admin_does_not_see_it(requested, run_page, monkeypatch):
    other = {
        "preferred_username": "sun.admin",
        "org_code": "150404",
        "tier": "county",
        "roles": ["tenant-admin"],
        "groups": ["/赤峰市/松山区"],
    }
    at = AppTest.from_file(str(data.REPO / "portal" / "pages" / "onboarding.py"))
    at.session_state["citycloud_test_claims"] = other
    at.run(timeout=30)
    assert pending_titles(at) == []
    assert "红山区智慧养老" not in texts(at)


def approve(at: AppTest) -> AppTest:
    at.button(key=next(b.key for b in at.button if b.key.startswith("plan:"))).click()
    at.run(timeout=60)
    return at


def test_approver_sees_the_plan_then_applies_it(requested, run_page):
    at = run_page("pages/onboarding", "city-cloud-admin")
    approve(at)
    plan_text = "\n".join(c.value for c in at.code)
    assert "+ project hs-elderly" in plan_text
    assert "变更计划：hs-elderly" in texts(at)
    spec_file = data.spec_path() / "tenants" / "hs-elderly.yaml"
    assert not spec_file.exists()  # looking at a plan changes nothing

    ok = next(b for b in at.button if b.key and b.key.startswith("ok:"))
    ok.click().run(timeout=60)
    assert not at.exception
    assert "已开通：hs-elderly" in texts(at)
    assert spec_file.exists()
    assert "红山区智慧养老" in spec_file.read_text(encoding="utf-8")
    kinds = [r.kind for r in reversed(data.audit_rows())]
    assert kinds.index("onboarding.request") < kinds.index("onboarding.approve")
    assert kinds.index("onboarding.approve") < kinds.index("apply.change")
    [applied] = data.recent_applies()
    assert applied["outcome"] == "succeeded" and applied["changes"] > 0
    # The new app now shows in the app centre of 红山区's county staff, and
    # not at the village tier, which the request left out.
    centre = run_page("pages/app_centre", "county-admin")
    assert "养老服务" in {s.value for s in centre.subheader}
    village = run_page("pages/app_centre", "village-staff")
    assert "养老服务" not in {s.value for s in village.subheader}


def test_rejection_needs_a_reason_and_is_recorded(requested, run_page):
    at = run_page("pages/onboarding", "city-cloud-admin")
    key = next(b.key for b in at.button if b.key.startswith("no:"))
    at.button(key=key).click().run()
    assert data.find_requests()[0].state.value == "pending"
    at.text_input(key=key.replace("no:", "why:")).input("网段与现网冲突").run()
    at.button(key=key).click().run()
    assert "已驳回该申请" in texts(at)
    [request] = data.find_requests()
    assert request.state.value == "rejected" and request.reason == "网段与现网冲突"
    assert [r.kind for r in data.audit_rows(kinds=["onboarding.reject"])] == [
        "onboarding.reject"
    ]
