"""Checks that read live state before any write, and error mapping."""

from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from citycloud.adapters.openstack.conflicts import TenantIntent, check_conflicts
from citycloud.adapters.openstack.errors import map_error
from citycloud.adapters.openstack.guards import below_usage, refuse_quota_cuts
from citycloud.adapters.openstack.live import LiveCloud
from citycloud.errors import PermanentError, PlanError, SafetyError, TransientError
from citycloud.i18n import use


def cloud_with_other_domain() -> LiveCloud:
    return LiveCloud(
        domain={"id": "d-city", "name": "chifeng"},
        domains={
            "d-city": {"id": "d-city", "name": "chifeng"},
            "d-x": {"id": "d-x", "name": "neighbour"},
        },
        projects=[{"id": "p-oa", "name": "oa", "domain_id": "d-city"}],
        all_projects=[
            {"id": "p-oa", "name": "oa", "domain_id": "d-city"},
            {"id": "p-x", "name": "hr", "domain_id": "d-x"},
        ],
        networks=[{"id": "n-x", "name": "legacy-net", "project_id": "p-x"}],
        subnets=[
            {
                "id": "s-oa",
                "cidr": "10.77.1.0/24",
                "project_id": "p-oa",
                "network_id": "n-oa",
            },
            {
                "id": "s-x",
                "cidr": "10.77.8.0/22",
                "project_id": "p-x",
                "network_id": "n-x",
            },
        ],
    )


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        pytest.param(
            TenantIntent("edu", "edu", ("10.77.9.0/24",)),
            ["edu", "network.cidr", "10.77.9.0/24", "legacy-net"],
            id="cidr-inside-another-projects-subnet",
        ),
        pytest.param(
            TenantIntent("hr", "hr", ("10.77.2.0/24",)),
            ["hr", "slug", "neighbour"],
            id="project-name-owned-by-another-domain",
        ),
    ],
)
def test_conflicts_name_the_tenant_and_field(
    intent: TenantIntent, expected: list[str]
) -> None:
    use("en")
    with pytest.raises(PlanError) as caught:
        check_conflicts([intent], cloud_with_other_domain(), "chifeng")
    for word in expected:
        assert word in str(caught.value)


def test_a_tenants_own_subnet_is_no_conflict() -> None:
    # check_conflicts raises PlanError on any conflict; none here.
    assert None is check_conflicts(
        [TenantIntent("oa", "oa", ("10.77.1.0/24",))],
        cloud_with_other_domain(),
        "chifeng",
    )


@pytest.mark.parametrize(
    ("limits", "usage", "refused"),
    [
        pytest.param({"instances": 1}, {"instances": 3}, True, id="below-usage"),
        pytest.param({"instances": 3}, {"instances": 3}, False, id="equal-usage"),
        pytest.param({"cores": -1}, {"cores": 99}, False, id="unlimited"),
        pytest.param({"volumes": 0}, {}, False, id="unused"),
    ],
)
def test_quota_cuts_below_usage_are_refused_unless_forced(
    limits: dict[str, int], usage: dict[str, int], refused: bool
) -> None:
    use("en")
    problems = below_usage("oa", limits, usage)
    assert bool(problems) is refused
    if refused:
        with pytest.raises(SafetyError, match="--force-quota"):
            refuse_quota_cuts(problems, force=False)
        assert "oa" in problems[0]
    refuse_quota_cuts(problems, force=True)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(ksa_exc.ConnectFailure("refused"), TransientError, id="refused"),
        pytest.param(
            sdk_exc.HttpException("down", http_status=503), TransientError, id="503"
        ),
        pytest.param(
            sdk_exc.ConflictException("dup", http_status=409), PermanentError, id="409"
        ),
        pytest.param(
            sdk_exc.ForbiddenException("quota", http_status=403),
            PermanentError,
            id="403",
        ),
        pytest.param(sdk_exc.ResourceTimeout("slow"), TransientError, id="timeout"),
    ],
)
def test_sdk_errors_map_to_retry_or_not(error: Exception, kind: type) -> None:
    mapped = map_error(error, "create server")
    assert isinstance(mapped, kind)
    assert mapped.system == "openstack"
    assert "create server" in str(mapped)
