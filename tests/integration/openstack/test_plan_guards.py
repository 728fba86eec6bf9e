"""A spec that conflicts with the live cloud fails in plan, before any write;
an outside failure during apply is reported clearly and nothing is recorded
as applied that was not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openstack.connection import Connection
from ruamel.yaml import YAML

from citycloud.store import StateStore
from tests.integration.openstack.cityspec import tenant, write_spec
from tests.integration.openstack.conftest import City

pytestmark = [pytest.mark.integration]


def project_names(conn: Connection) -> set[str]:
    domain = conn.identity.find_domain("chifeng", ignore_missing=True)
    if domain is None:
        return set()
    return {p.name for p in conn.identity.projects(domain_id=domain.id)}


@pytest.fixture
def legacy_network(admin_conn: Connection) -> Iterator[Any]:
    """A network someone else made in the admin project, on 10.77.60.0/24."""
    network = admin_conn.network.create_network(name="legacy-net")
    admin_conn.network.create_subnet(
        network_id=network.id, cidr="10.77.60.0/24", ip_version=4, name="legacy"
    )
    yield network
    admin_conn.network.delete_network(network)


@pytest.fixture
def legacy_project(admin_conn: Connection) -> Iterator[Any]:
    """A project named like a tenant, but in another domain."""
    project = admin_conn.identity.create_project(name="legacy", domain_id="default")
    yield project
    admin_conn.identity.delete_project(project)


def test_a_taken_cidr_fails_the_plan_naming_tenant_and_field(
    city: City, legacy_network: Any
) -> None:
    write_spec(city.spec_dir, [tenant("newnet", "新网络", 60)])

    planned = city.cli("plan")
    applied = city.apply()

    for result in (planned, applied):
        assert result.exit_code == 1, result.output
        assert "newnet" in result.output
        assert "network.cidr" in result.output
        assert "legacy-net" in result.output
    assert "newnet" not in project_names(city.conn)


def test_a_project_name_of_another_domain_fails_the_plan(
    city: City, legacy_project: Any
) -> None:
    write_spec(city.spec_dir, [tenant("legacy", "旧系统", 61)])

    result = city.apply()

    assert result.exit_code == 1, result.output
    assert "legacy" in result.output and "slug" in result.output
    assert "legacy" not in project_names(city.conn)


def test_a_quota_exceeded_fails_clearly_and_records_nothing(city: City) -> None:
    greedy = tenant("greedy", "超额租户", 62, servers=2)
    greedy["quotas"] = {**greedy["quotas"], "instances": 1}
    write_spec(city.spec_dir, [greedy])
    store = StateStore(city.state_url)
    recorded = store.applied(["cloud", "openstack"])

    result = city.apply()

    assert result.exit_code == 4, result.output
    assert "greedy" in result.output
    assert "quota" in result.output.lower()
    assert store.applied(["cloud", "openstack"]) == recorded
    assert store.recent_applies(1)[0].status == "failed"
    remaining = city.plan()["changes"]
    assert [c["key"] for c in remaining] == ["greedy/sys-app-2"]


def test_a_service_down_is_reported_before_any_write(
    city: City, clouds_yaml: Path, tmp_path: Path
) -> None:
    yaml = YAML()
    config = yaml.load(clouds_yaml.read_text(encoding="utf-8"))
    broken = dict(config["clouds"]["devcloud-admin"])
    broken["network_endpoint_override"] = "http://127.0.0.1:9/"
    config["clouds"]["devcloud-no-neutron"] = broken
    copy = tmp_path / "clouds.yaml"
    with copy.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    city.clouds_yaml = copy
    write_spec(city.spec_dir, [tenant("offline", "离线租户", 63)])
    store = StateStore(city.state_url)
    applies = len(store.recent_applies(100))

    try:
        result = city.cli("apply", cloud="devcloud-no-neutron")
    finally:
        city.clouds_yaml = clouds_yaml

    assert result.exit_code == 4, result.output
    assert "openstack" in result.output and "network" in result.output
    assert len(store.recent_applies(100)) == applies
    assert "offline" not in project_names(city.conn)
