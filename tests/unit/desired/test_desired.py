"""The desired state: every layer's resources from the spec, as pure data."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.desired import LAYERS, build_desired
from citycloud.desired.artifacts import render_all
from citycloud.desired.model import ResourceId
from citycloud.spec import Spec, load_spec


@pytest.fixture(scope="module")
def spec(example_spec_dir: Path, divisions_csv: Path) -> Spec:
    return load_spec(example_spec_dir, divisions=[divisions_csv])


def test_every_layer_has_resources(spec: Spec) -> None:
    desired = build_desired(spec)
    assert {r.id.layer for r in desired} == set(LAYERS)


def test_building_twice_gives_the_same_value(spec: Spec) -> None:
    assert build_desired(spec).digest() == build_desired(spec).digest()


def test_cloud_layer(spec: Spec) -> None:
    desired = build_desired(spec, ["cloud"])
    kinds = {r.id.kind for r in desired}
    assert {
        "domain",
        "flavor",
        "image",
        "external_network",
        "external_subnet",
        "aggregate",
    } <= kinds
    aggregate = desired.resources[ResourceId("cloud", "aggregate", "r03")]
    assert aggregate.attrs["availability_zone"] == "az2"
    assert aggregate.attrs["hosts"] == ["cn-05", "cn-06"]
    subnet = desired.resources[ResourceId("cloud", "external_subnet", "external")]
    assert subnet.attrs["allocation_pools"] == [["198.51.100.100", "198.51.100.250"]]


def test_vm_tenant_gets_project_network_router_group_servers(spec: Spec) -> None:
    desired = build_desired(spec, ["openstack"])
    mine = {r.id.kind: r for r in desired.tenant("dispatch")}
    assert {
        "project",
        "quota",
        "network",
        "subnet",
        "router",
        "security_group",
        "security_group_rule",
        "server",
        "volume",
    } <= set(mine)
    assert mine["quota"].attrs["cores"] == 96
    assert mine["router"].attrs["interfaces"] == ["dispatch-subnet"]
    servers = [r for r in desired.tenant("dispatch") if r.id.kind == "server"]
    assert len(servers) == 5  # 3 dispatch-api + 2 media-gateway
    # Container tenants have no OpenStack project.
    assert not desired.tenant("grassroots")


def test_security_rules_admit_own_network_and_declared_ports_only(spec: Spec) -> None:
    desired = build_desired(spec, ["openstack"])
    rules = [
        r.attrs for r in desired.tenant("onemap") if r.id.kind == "security_group_rule"
    ]
    remotes = {
        (r["protocol"], r["port_range_min"], r["remote_ip_prefix"]) for r in rules
    }
    assert remotes == {
        (None, None, "10.20.1.0/24"),
        ("tcp", 443, "0.0.0.0/0"),
        ("tcp", 22, "10.10.0.0/16"),
    }


def test_identity_group_tree_mirrors_the_organisations(spec: Spec) -> None:
    desired = build_desired(spec, ["identity"])
    groups = desired.kind("identity", "group")
    assert len(groups) == 210
    xitun = desired.resources[ResourceId("identity", "group", "150402001")]
    assert xitun.attrs["path"] == "/赤峰市/红山区/西屯街道"
    assert xitun.parent == ResourceId("identity", "group", "150402")
    clients = {r.key for r in desired.kind("identity", "client")}
    assert {
        "citycloud-portal",
        "onemap-gis",
        "risk-fire",
        "dispatch-command",
    } <= clients
    roles = {r.key for r in desired.kind("identity", "role")}
    assert roles == {"cloud-admin", "ops", "tenant-admin", "staff", "auditor"}


def test_keys_do_not_depend_on_display_names(spec: Spec) -> None:
    renamed = spec.tenants[0].model_copy(update={"name": "改名后的租户"})
    other = Spec(spec.document, spec.orgs, (renamed, *spec.tenants[1:]), spec.roles)
    before = {r.id for r in build_desired(spec)}
    after = {r.id for r in build_desired(other)}
    assert before == after


def test_hosts_layer_and_inventory(spec: Spec) -> None:
    desired = build_desired(spec, ["hosts"])
    assert len(desired) == 13
    files = render_all(desired, spec)
    inventory = files["hosts/inventory.yml"]
    assert "cn-01" in inventory and "ansible_host: 10.10.1.21" in inventory


def test_unknown_layer_is_refused(spec: Spec) -> None:
    with pytest.raises(ValueError, match="unknown layer"):
        build_desired(spec, ["dns"])


def test_the_cluster_gets_an_oidc_client_with_the_groups_claim(spec: Spec) -> None:
    desired = build_desired(spec, ["identity"])
    client = desired.resources[ResourceId("identity", "client", "citycloud-kubernetes")]
    assert client.attrs["publicClient"] is True
    groups = desired.resources[
        ResourceId("identity", "mapper", "citycloud-kubernetes/groups")
    ]
    assert groups.attrs["config"]["full.path"] == "true"
    assert groups.attrs["config"]["id.token.claim"] == "true"
