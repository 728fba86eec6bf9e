"""Observation turns what OpenStack returns into the desired state's shapes,
so that a cloud that matches the spec plans as zero changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from citycloud.adapters.openstack.live import LiveCloud, ProjectQuota
from citycloud.adapters.openstack.observe import observe
from citycloud.desired import build_desired
from citycloud.desired.model import DesiredState
from citycloud.plan import make_plan
from citycloud.spec import load_spec
from tests.integration.openstack.cityspec import tenant, write_spec


@pytest.fixture
def desired(tmp_path: Path) -> DesiredState:
    spec_dir = write_spec(
        tmp_path / "spec", [tenant("oa", "协同办公", 1, servers=1, volume_gb=1)]
    )
    return build_desired(load_spec(spec_dir), ["openstack"])


def live_for_oa(**changes: Any) -> LiveCloud:
    """What Neutron, Nova, Cinder and Keystone report for tenant oa."""
    pid = "p-oa"
    rules: list[dict[str, Any]] = [
        # Neutron's own defaults: never in the spec, never in the plan.
        {
            "id": "r-e4",
            "security_group_id": "sg-1",
            "direction": "egress",
            "ether_type": "IPv4",
            "protocol": None,
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": None,
            "remote_group_id": None,
        },
        {
            "id": "r-e6",
            "security_group_id": "sg-1",
            "direction": "egress",
            "ether_type": "IPv6",
            "protocol": None,
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": None,
            "remote_group_id": None,
        },
        {
            "id": "r-own",
            "security_group_id": "sg-1",
            "direction": "ingress",
            "ether_type": "IPv4",
            "protocol": None,
            "port_range_min": None,
            "port_range_max": None,
            "remote_ip_prefix": "10.77.1.0/24",
            "description": "tenant's own network",
        },
        {
            "id": "r-443",
            "security_group_id": "sg-1",
            "direction": "ingress",
            "ether_type": "IPv4",
            "protocol": "tcp",
            "port_range_min": 443,
            "port_range_max": 443,
            "remote_ip_prefix": "0.0.0.0/0",
            "description": "HTTPS 服务",
        },
        {
            "id": "r-d",
            "security_group_id": "sg-default",
            "direction": "ingress",
            "ether_type": "IPv4",
            "protocol": None,
            "remote_group_id": "sg-default",
        },
    ]
    live = LiveCloud(
        domain={
            "id": "d-1",
            "name": "chifeng",
            "description": "赤峰市",
            "is_enabled": True,
        },
        projects=[
            {
                "id": pid,
                "name": "oa",
                "domain_id": "d-1",
                "description": "协同办公 / 协同办公主管部门",
                "is_enabled": True,
                "citycloud_owner": "150402",
                "citycloud_tier": "county",
            }
        ],
        quotas={
            pid: ProjectQuota(
                limits={
                    "instances": 4,
                    "cores": 8,
                    "ram_mb": 4096,
                    "volumes": 4,
                    "gigabytes": 20,
                    "networks": 2,
                    "security_groups": 5,
                    "security_group_rules": 30,
                    "floating_ips": 50,
                }
            )
        },
        networks=[
            {"id": "n-1", "name": "oa-net", "project_id": pid, "is_shared": False},
            {
                "id": "n-ext",
                "name": "external",
                "project_id": "p-admin",
                "is_router_external": True,
            },
        ],
        subnets=[
            {
                "id": "s-1",
                "name": "oa-subnet",
                "project_id": pid,
                "network_id": "n-1",
                "cidr": "10.77.1.0/24",
                "gateway_ip": "10.77.1.1",
                "dns_nameservers": [],
                "is_dhcp_enabled": True,
            }
        ],
        routers=[
            {
                "id": "rt-1",
                "name": "oa-router",
                "project_id": pid,
                "external_gateway_info": {"network_id": "n-ext"},
            }
        ],
        router_ports=[
            {
                "device_id": "rt-1",
                "fixed_ips": [{"subnet_id": "s-1", "ip_address": "10.77.1.1"}],
            }
        ],
        security_groups=[
            {
                "id": "sg-1",
                "name": "oa-base",
                "project_id": pid,
                "description": "协同办公: own traffic and declared ports only",
            },
            {"id": "sg-default", "name": "default", "project_id": pid},
        ],
        security_group_rules=rules,
        servers=[
            {
                "id": "vm-1",
                "name": "oa-sys-app-1",
                "project_id": pid,
                "flavor": {"original_name": "c1.m512"},
                "image": {"id": "img-1"},
                "addresses": {"oa-net": [{"addr": "10.77.1.5"}]},
                "security_groups": [{"name": "oa-base"}],
                "metadata": {
                    "citycloud_app": "sys",
                    "citycloud_workload": "app",
                    "citycloud_priority": "normal",
                },
            }
        ],
        volumes=[
            {
                "id": "v-1",
                "name": "oa-sys-app-1-data",
                "project_id": pid,
                "size": 1,
                "volume_type": "__DEFAULT__",
                "attachments": [{"server_id": "vm-1"}],
            }
        ],
        images=[{"id": "img-1", "name": "tiny-raw"}],
    )
    for name, value in changes.items():
        setattr(live, name, value)
    return live


def test_a_cloud_that_matches_the_spec_plans_no_change(desired: DesiredState) -> None:
    plan = make_plan(desired, observe(live_for_oa(), desired), ["openstack"])
    assert [str(c.id) for c in plan] == []


def test_a_missing_rule_and_a_changed_quota_show_as_create_and_update(
    desired: DesiredState,
) -> None:
    live = live_for_oa()
    live.security_group_rules = [
        r for r in live.security_group_rules if r["id"] != "r-443"
    ]
    live.quotas["p-oa"].limits["cores"] = 16
    plan = make_plan(desired, observe(live, desired), ["openstack"])
    assert {(c.action.value, str(c.id)) for c in plan} == {
        ("create", "openstack/security_group_rule/oa/base/ingress-tcp-443-0.0.0.0/0"),
        ("update", "openstack/quota/oa"),
    }


def test_projects_of_other_domains_are_not_the_citys(desired: DesiredState) -> None:
    live = live_for_oa()
    live.projects[0]["domain_id"] = "d-other"
    live.projects = []
    plan = make_plan(desired, observe(live, desired), ["openstack"])
    assert plan.counts()["delete"] == 0
    assert "openstack/project/oa" in {str(c.id) for c in plan}


def test_a_project_not_in_the_spec_is_planned_for_deletion(
    desired: DesiredState,
) -> None:
    live = live_for_oa()
    live.projects.append(
        {"id": "p-old", "name": "old", "domain_id": "d-1", "is_enabled": True}
    )
    plan = make_plan(desired, observe(live, desired), ["openstack"])
    assert [(c.action.value, str(c.id)) for c in plan] == [
        ("delete", "openstack/project/old")
    ]
