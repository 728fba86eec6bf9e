"""Tenants on the real test OpenStack: apply, converge, change, delete.

The tests run in file order over one city (a reduced Chifeng with four
tenants, two servers and a volume), each step starting from where the last
one left the cloud, because every apply through Ansible costs real seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from openstack.connection import Connection

from citycloud.adapters.openstack.engine import OpenStackEngine
from citycloud.desired import build_desired
from citycloud.spec import load_spec
from citycloud.store import StateStore
from tests.integration.openstack.cityspec import default_tenants, tenant, write_spec
from tests.integration.openstack.conftest import CLOUD, City

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def changes(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (c["action"], f"{c['layer']}/{c['kind']}/{c['key']}") for c in plan["changes"]
    ]


def project_of(conn: Connection, name: str) -> Any:
    domain = conn.identity.find_domain("chifeng")
    return next(iter(conn.identity.projects(domain_id=domain.id, name=name)), None)


def test_apply_from_empty_builds_every_tenant(city: City) -> None:
    write_spec(city.spec_dir, default_tenants())
    before = city.plan()
    assert before["summary"]["create"] > 30

    result = city.apply()

    assert result.exit_code == 0, result.output
    for slug in ("oa", "hr", "risk", "edu"):
        assert project_of(city.conn, slug) is not None
    oa = project_of(city.conn, "oa")
    servers = list(city.conn.compute.servers(all_projects=True, project_id=oa.id))
    assert [s.status for s in servers] == ["ACTIVE"]


def test_after_apply_the_plan_is_empty(city: City) -> None:
    assert changes(city.plan()) == []


def test_a_second_apply_runs_nothing(city: City) -> None:
    store = StateStore(city.state_url)
    applies = len(store.recent_applies(100))

    result = city.apply()

    assert result.exit_code == 0, result.output
    assert "Nothing to change" in result.output
    assert len(store.recent_applies(100)) == applies


def test_ansible_over_every_tenant_changes_nothing(city: City) -> None:
    desired = build_desired(load_spec(city.spec_dir), ["cloud", "openstack"])
    engine = OpenStackEngine(CLOUD, forks=4)

    run = engine.verify_all(desired)

    assert sorted(run.ok) == ["edu", "hr", "oa", "risk"]
    assert run.changed == {} or set(run.changed.values()) == {0}, run.changed


def test_a_quota_change_applies_as_an_update(city: City) -> None:
    tenants = default_tenants()
    tenants[1]["quotas"] = {**tenants[1]["quotas"], "cores": 12, "gigabytes": -1}
    write_spec(city.spec_dir, tenants)
    assert changes(city.plan()) == [("update", "openstack/quota/hr")]

    result = city.apply()

    assert result.exit_code == 0, result.output
    hr = project_of(city.conn, "hr")
    assert city.conn.compute.get_quota_set(hr.id).cores == 12
    assert city.conn.block_storage.get_quota_set(hr.id).gigabytes == -1
    assert changes(city.plan()) == []


def test_a_quota_below_usage_is_refused_unless_forced(city: City) -> None:
    tenants = default_tenants()
    tenants[1]["quotas"] = {**tenants[1]["quotas"], "cores": 12, "gigabytes": -1}
    tenants[0]["quotas"] = {**tenants[0]["quotas"], "instances": 0}
    write_spec(city.spec_dir, tenants)

    refused = city.apply()

    assert refused.exit_code == 3, refused.output
    assert "oa" in refused.output and "--force-quota" in refused.output
    oa = project_of(city.conn, "oa")
    assert city.conn.compute.get_quota_set(oa.id).instances == 4

    forced = city.apply("--force-quota")

    assert forced.exit_code == 0, forced.output
    assert city.conn.compute.get_quota_set(oa.id).instances == 0


def test_a_removed_tenant_is_deleted_only_with_the_flag(city: City) -> None:
    tenants = [t for t in default_tenants() if t["slug"] != "edu"]
    tenants[1]["quotas"] = {**tenants[1]["quotas"], "cores": 12, "gigabytes": -1}
    tenants[0]["quotas"] = {**tenants[0]["quotas"], "instances": 0}
    write_spec(city.spec_dir, tenants)

    refused = city.apply()

    assert refused.exit_code == 3, refused.output
    assert "--allow-delete" in refused.output
    assert project_of(city.conn, "edu") is not None

    done = city.apply("--allow-delete")

    assert done.exit_code == 0, done.output
    assert project_of(city.conn, "edu") is None
    assert not [n for n in city.conn.network.networks() if n.name == "edu-net"]
    assert changes(city.plan()) == []


def test_deleting_a_tenant_with_servers_and_floating_ips_goes_children_first(
    city: City,
) -> None:
    conn = city.conn
    hr = project_of(conn, "hr")
    server = next(iter(conn.compute.servers(all_projects=True, project_id=hr.id)))
    port = next(iter(conn.network.ports(device_id=server.id)))
    external = conn.network.find_network("external")
    conn.network.create_ip(
        floating_network_id=external.id, project_id=hr.id, port_id=port.id
    )
    tenants = [t for t in default_tenants() if t["slug"] not in ("edu", "hr")]
    tenants[0]["quotas"] = {**tenants[0]["quotas"], "instances": 0}
    write_spec(city.spec_dir, tenants)

    done = city.apply("--allow-delete", "--allow-mass-delete")

    assert done.exit_code == 0, done.output
    assert project_of(conn, "hr") is None
    assert not list(conn.network.ips(project_id=hr.id))
    assert not list(conn.compute.servers(all_projects=True, project_id=hr.id))


def test_deleting_many_tenants_needs_the_second_flag(city: City) -> None:
    write_spec(city.spec_dir, [tenant("newcomer", "新租户", 9)])

    refused = city.apply("--allow-delete")

    assert refused.exit_code == 3, refused.output
    assert "--allow-mass-delete" in refused.output
    assert project_of(city.conn, "oa") is not None
    assert project_of(city.conn, "newcomer") is None
