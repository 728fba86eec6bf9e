"""The scheduler bound to the real test OpenStack (scripts/devcloud: three
fake compute hosts cn-01..03), fed by the real Prometheus of conftest."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from citycloud.scheduler import (
    PRIORITY_RANKS,
    MetricsSnapshot,
    Resources,
    Scheduler,
    Workload,
)
from citycloud.scheduler.binding import (
    OpenStackBinder,
    bind_placements,
    read_placement,
    wait_gone,
)
from tests.fakes.node_exporter import FakeNodeExporter
from tests.integration.scheduler.conftest import HOSTS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Wait = Callable[[Callable[[MetricsSnapshot], bool]], MetricsSnapshot]
FLAVOR = "cc-sched-1c256"
IMAGE = "cc-sched-raw"
NETWORK = "cc-sched-net"


@dataclass
class Cloud:
    conn: Any
    servers: list[str]


@pytest.fixture(scope="session")
def sched_cloud(devcloud: Any) -> Iterator[Cloud]:
    """An admin connection to the shared devcloud with a flavor, image and
    network for the scheduler's servers; every server made is deleted after."""
    import openstack

    config = openstack.config.OpenStackConfig(config_files=[str(devcloud.clouds_yaml)])
    conn = openstack.connection.Connection(config=config.get_one(cloud=devcloud.cloud))
    if conn.compute.find_flavor(FLAVOR) is None:
        conn.compute.create_flavor(name=FLAVOR, vcpus=1, ram=256, disk=1)
    if conn.image.find_image(IMAGE) is None:
        conn.create_image(
            IMAGE,
            data=b"\0" * 1024 * 1024,
            disk_format="raw",
            container_format="bare",
            wait=True,
        )
    if conn.network.find_network(NETWORK) is None:
        net = conn.network.create_network(name=NETWORK)
        conn.network.create_subnet(
            network_id=net.id,
            name=f"{NETWORK}-subnet",
            ip_version=4,
            cidr="10.250.0.0/24",
        )
    cloud = Cloud(conn, [])
    yield cloud
    wait_gone(conn, cloud.servers)


def vm(key: str, priority: str, run: str) -> Workload:
    tenant, app = key.split("/")
    return Workload(
        key,
        tenant,
        app,
        Resources(1, 256, 1),
        PRIORITY_RANKS[priority],
        extra={
            "name": f"cc-sched-{run}-{tenant}",
            "flavor": FLAVOR,
            "image": IMAGE,
            "network": NETWORK,
        },
    )


def test_servers_run_on_the_chosen_hosts_and_avoid_the_hot_one(
    sched_cloud: Cloud, cool_hosts: dict[str, FakeNodeExporter], wait_for: Wait
) -> None:
    hosts, usage = read_placement(sched_cloud.conn)
    assert set(HOSTS) <= {h.name for h in hosts}
    cool_hosts["cn-02"].node.set(cpu=0.97, memory=0.95)
    snap = wait_for(lambda s: (s.hosts["cn-02"].memory_utilisation or 0) > 0.9)
    run = uuid.uuid4().hex[:6]
    batch = vm("stats/etl", "batch", run)
    critical = vm("dispatch/cmd", "critical", run)

    result = Scheduler().schedule(hosts, [batch, critical], usage, snap)
    bindings = bind_placements(result, OpenStackBinder(sched_cloud.conn))
    sched_cloud.servers.extend(b.server_id for b in bindings if b.server_id)

    assert [d.workload.key for d in result.decisions] == ["dispatch/cmd", "stats/etl"]
    assert len(bindings) == 2
    assert "cn-02" not in {b.host for b in bindings}
    for binding in bindings:
        assert binding.status == "ACTIVE"
        assert (
            binding.actual_host == binding.host == result.placements[binding.workload]
        )
