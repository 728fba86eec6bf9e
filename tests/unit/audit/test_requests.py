"""Onboarding requests: routed up the organisation tree, every step in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from citycloud.errors import SpecError
from citycloud.spec import load_spec
from citycloud.spec.tree import Spec
from citycloud.store.audit import AuditLedger
from citycloud.store.requests import OnboardingRequests, RequestError, RequestState

TOWNSHIP = "150402001"  # 西屯街道, under 红山区 (150402), under 赤峰市 (1504)
OTHER_COUNTY = "150404"  # 松山区


@pytest.fixture(scope="module")
def spec(example_spec_dir: Path) -> Spec:
    return load_spec(example_spec_dir)


@pytest.fixture
def requests(ledger: AuditLedger, spec: Spec) -> OnboardingRequests:
    return OnboardingRequests(ledger, spec)


def draft(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "西屯街道网格化管理",
        "department": "西屯街道办事处",
        "owner": TOWNSHIP,
        "network": {"cidr": "10.40.8.0/24"},
        "quotas": {"instances": 4, "cores": 8},
    }
    return {**base, **changes}


def create(requests: OnboardingRequests, **changes: Any) -> Any:
    return requests.create(
        department="西屯街道办事处",
        owner_org_code=TOWNSHIP,
        draft=draft(**changes),
        requested_by="wang.clerk",
        requested_by_org=TOWNSHIP,
    )


def test_a_request_is_routed_to_its_org_and_every_org_above(
    requests: OnboardingRequests,
) -> None:
    request = create(requests)

    assert request.state is RequestState.PENDING
    assert request.route == ("1504", "150402", TOWNSHIP)
    assert request.tenant_slug  # a DNS-safe slug made from the Chinese name
    assert [r.id for r in requests.pending_for("150402")] == [request.id]
    assert requests.pending_for(OTHER_COUNTY) == []


@pytest.mark.parametrize(
    "approver_org", ["1504", "150402", TOWNSHIP], ids=["city", "county", "township"]
)
def test_an_org_on_the_route_can_approve(
    requests: OnboardingRequests, ledger: AuditLedger, approver_org: str
) -> None:
    request = create(requests)

    decided = requests.approve(
        request.id,
        approver="li.approver",
        approver_org_code=approver_org,
        reason="符合规划",
    )

    assert decided.state is RequestState.APPROVED
    assert decided.decided_by_org == approver_org
    kinds = [r.kind for r in ledger.query(tenant=request.tenant_slug)]
    assert kinds == ["onboarding.request", "onboarding.approve"]


def test_an_org_off_the_route_cannot_decide(requests: OnboardingRequests) -> None:
    request = create(requests)

    with pytest.raises(RequestError, match="not on the route"):
        requests.approve(request.id, approver="zhao", approver_org_code=OTHER_COUNTY)

    assert requests.get(request.id).state is RequestState.PENDING


def test_nobody_approves_their_own_request(requests: OnboardingRequests) -> None:
    request = create(requests)

    with pytest.raises(RequestError, match="own request"):
        requests.approve(request.id, approver="wang.clerk", approver_org_code=TOWNSHIP)


def test_a_rejection_needs_a_reason_and_is_recorded_with_it(
    requests: OnboardingRequests, ledger: AuditLedger
) -> None:
    request = create(requests)
    with pytest.raises(RequestError, match="reason"):
        requests.reject(
            request.id, approver="li", approver_org_code="150402", reason=" "
        )

    decided = requests.reject(
        request.id,
        approver="li",
        approver_org_code="150402",
        reason="网段与现有租户冲突",
    )

    assert decided.state is RequestState.REJECTED
    record = ledger.query(kinds=["onboarding.reject"])[0]
    assert record.detail["reason"] == "网段与现有租户冲突"
    assert record.actor == "li" and record.actor_org_code == "150402"


def test_a_decided_request_cannot_be_decided_again(
    requests: OnboardingRequests,
) -> None:
    request = create(requests)
    requests.approve(request.id, approver="li", approver_org_code="150402")

    with pytest.raises(RequestError, match="already approved"):
        requests.reject(
            request.id, approver="zhao", approver_org_code="1504", reason="late"
        )


def test_the_requester_can_withdraw(requests: OnboardingRequests) -> None:
    request = create(requests)

    assert (
        requests.withdraw(request.id, by="wang.clerk").state is RequestState.WITHDRAWN
    )
    with pytest.raises(RequestError):
        requests.withdraw(request.id, by="someone.else")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"owner": OTHER_COUNTY}, "owner"),
        ({"network": {"cidr": "8.8.8.0/24"}}, "network"),
        ({"priority": "urgent-ish"}, "priority"),
    ],
    ids=["owner-mismatch", "public-network", "bad-priority"],
)
def test_an_invalid_draft_is_refused_with_the_field_named(
    requests: OnboardingRequests,
    ledger: AuditLedger,
    changes: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(SpecError) as caught:
        create(requests, **changes)

    assert any(p.field.startswith(field) for p in caught.value.problems)
    assert ledger.query(kinds=["onboarding.request"]) == []
