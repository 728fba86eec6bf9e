"""A member of one tenant cannot see, use or attach another tenant's things.

Two tenants are applied from the spec; the test makes one member user in each
project (the way a department's staff would sign in) and tries, as tenant A,
to reach tenant B's network, server, volume and security group.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from openstack import exceptions as sdk_exc
from openstack.connection import Connection

from tests.integration.openstack.cityspec import tenant, write_spec
from tests.integration.openstack.conftest import City

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass
class Member:
    conn: Connection
    project_id: str
    network: Any
    server: Any
    volume: Any
    group: Any


def _member(city: City, slug: str) -> Member:
    admin = city.conn
    domain = admin.identity.find_domain("chifeng")
    project = next(iter(admin.identity.projects(domain_id=domain.id, name=slug)))
    password = secrets.token_urlsafe(16)
    user = admin.identity.create_user(
        name=f"{slug}-member-{secrets.token_hex(3)}",
        password=password,
        domain_id=domain.id,
    )
    role = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, role)
    auth_url = admin.config.config["auth"]["auth_url"]
    conn = Connection(
        auth_url=auth_url,
        username=user.name,
        password=password,
        user_domain_id=domain.id,
        project_id=project.id,
        region_name=admin.config.region_name,
        identity_api_version="3",
    )
    pid = project.id
    return Member(
        conn=conn,
        project_id=pid,
        network=next(iter(admin.network.networks(project_id=pid, name=f"{slug}-net"))),
        server=next(iter(admin.compute.servers(all_projects=True, project_id=pid))),
        volume=next(
            iter(admin.block_storage.volumes(all_projects=True, project_id=pid))
        ),
        group=next(
            iter(admin.network.security_groups(project_id=pid, name=f"{slug}-base"))
        ),
    )


@pytest.fixture(scope="module")
def members(city: City) -> Iterator[tuple[Member, Member]]:
    write_spec(
        city.spec_dir,
        [
            tenant("iso-a", "隔离甲", 21, servers=1, volume_gb=1),
            tenant("iso-b", "隔离乙", 22, servers=1, volume_gb=1),
        ],
    )
    result = city.apply()
    assert result.exit_code == 0, result.output
    a, b = _member(city, "iso-a"), _member(city, "iso-b")
    yield a, b
    for member in (a, b):
        user_id = member.conn.current_user_id
        member.conn.close()
        city.conn.identity.delete_user(user_id)


def test_a_member_sees_only_their_own_tenant(members: tuple[Member, Member]) -> None:
    a, b = members
    assert {n.id for n in a.conn.network.networks()} >= {a.network.id}
    assert b.network.id not in {n.id for n in a.conn.network.networks()}
    assert [s.id for s in a.conn.compute.servers()] == [a.server.id]
    assert [v.id for v in a.conn.block_storage.volumes()] == [a.volume.id]
    groups = {g.id for g in a.conn.network.security_groups()}
    assert a.group.id in groups and b.group.id not in groups


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(lambda c, b: c.network.get_network(b.network.id), id="network"),
        pytest.param(lambda c, b: c.compute.get_server(b.server.id), id="server"),
        pytest.param(lambda c, b: c.block_storage.get_volume(b.volume.id), id="volume"),
        pytest.param(
            lambda c, b: c.network.get_security_group(b.group.id), id="security-group"
        ),
    ],
)
def test_a_member_cannot_read_the_other_tenants_resources(
    members: tuple[Member, Member], attempt: Any
) -> None:
    a, b = members
    with pytest.raises(sdk_exc.NotFoundException):
        attempt(a.conn, b)


def test_a_member_cannot_plug_into_the_other_tenants_network(
    members: tuple[Member, Member],
) -> None:
    a, b = members
    with pytest.raises((sdk_exc.NotFoundException, sdk_exc.ForbiddenException)):
        a.conn.network.create_port(network_id=b.network.id)


def test_a_member_cannot_attach_the_other_tenants_volume(
    members: tuple[Member, Member],
) -> None:
    a, b = members
    with pytest.raises(sdk_exc.HttpException):
        a.conn.compute.create_volume_attachment(a.server, volume_id=b.volume.id)
    with pytest.raises(sdk_exc.NotFoundException):
        a.conn.compute.create_volume_attachment(b.server.id, volume_id=a.volume.id)


def test_a_member_cannot_open_the_other_tenants_security_group(
    members: tuple[Member, Member],
) -> None:
    a, b = members
    with pytest.raises((sdk_exc.NotFoundException, sdk_exc.ForbiddenException)):
        a.conn.network.create_security_group_rule(
            security_group_id=b.group.id,
            direction="ingress",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
            remote_ip_prefix="0.0.0.0/0",
        )
