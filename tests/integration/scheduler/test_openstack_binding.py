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
    CREATE,
    EVICT,
    UNSHELVE,
    OpenStackBinder,
    bind_placements,
    read_cloud,
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


def vm(key: str, priority: str, run: str, flavor: str = FLAVOR, **kw: Any) -> Workload:
    tenant, app = key.split("/")
    vcpus = kw.pop("vcpus", 1)
    return Workload(
        key,
        tenant,
        app,
        Resources(vcpus, 256, 1),
        PRIORITY_RANKS[priority],
        extra={
            "name": f"cc-sched-{run}-{tenant}",
            "flavor": flavor,
            "image": IMAGE,
            "network": NETWORK,
        },
        **kw,
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


def test_a_critical_workload_displaces_a_running_batch_server_that_moves(
    sched_cloud: Cloud,
    cool_hosts: dict[str, FakeNodeExporter],
    wait_for: Wait,
    request: pytest.FixtureRequest,
) -> None:
    conn = sched_cloud.conn
    run = uuid.uuid4().hex[:6]
    binder = OpenStackBinder(conn)
    # A preemptible batch server already runs on the emptiest host...
    hosts, usage = read_placement(conn)
    taken = {h.name: 0.0 for h in hosts}
    for allocation in usage:
        taken[allocation.host] += allocation.workload.resources.vcpus
    target = max(HOSTS, key=lambda h: (-taken[h], h))
    batch = vm("stats/etl", "batch", run, preemptible=True)
    first = binder.bind(batch, target)
    sched_cloud.servers.append(str(first.server_id))
    assert first.verified
    # ...and a critical workload, allowed on that host only, needs one vCPU
    # more than is left there.
    free = next(h for h in hosts if h.name == target).capacity.vcpus - taken[target]
    big = f"cc-sched-{run}-big"
    flavor = conn.compute.create_flavor(name=big, vcpus=int(free), ram=256, disk=1)
    request.addfinalizer(lambda: conn.compute.delete_flavor(flavor))
    critical = vm(
        "dispatch/cmd",
        "critical",
        run,
        flavor=big,
        vcpus=int(free),
        allowed_hosts=frozenset({target}),
    )
    snap = wait_for(lambda s: all(s.hosts[h].up for h in HOSTS))

    live = read_cloud(conn, [batch, critical])
    assert [w.key for w in live.pending] == ["dispatch/cmd"]
    result = Scheduler().schedule(live.hosts, live.pending, live.allocations, snap)
    bindings = bind_placements(result, binder)
    sched_cloud.servers.extend(
        b.server_id for b in bindings if b.server_id and b.action == CREATE
    )

    moved_to = result.placements["stats/etl"]
    assert result.placements["dispatch/cmd"] == target
    assert moved_to != target
    assert [(b.action, b.workload, b.host) for b in bindings] == [
        (EVICT, "stats/etl", target),
        (CREATE, "dispatch/cmd", target),
        (UNSHELVE, "stats/etl", moved_to),
    ]
    assert all(b.verified for b in bindings), bindings
    # The batch server moved: the same server, not a second one.
    assert bindings[2].server_id == first.server_id
    named = list(
        conn.compute.servers(name=f"^{batch.extra['name']}$", all_projects=True)
    )
    assert [(s.id, s.compute_host, s.status) for s in named] == [
        (first.server_id, moved_to, "ACTIVE")
    ]
    # Both now run: a second look finds nothing to place.
    again = read_cloud(conn, [batch, critical])
    assert again.pending == []
    assert sorted(again.existing) == ["dispatch/cmd", "stats/etl"]
