"""Smoke test of the test OpenStack itself (scripts/devcloud).

Every OpenStack test builds on these promises: the services are in the
catalog, there are exactly three compute hosts of a known finite size, a server
can be placed on a chosen host, and a volume can be attached to it. Each test
removes what it made, so the cloud stays empty for the next one.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import openstack
import pytest
from openstack.connection import Connection

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
HOSTS = ("cn-01", "cn-02", "cn-03")
WAIT_S = 300


@pytest.fixture(scope="module")
def conn(devcloud: Any) -> Connection:
    config = openstack.config.OpenStackConfig(config_files=[str(devcloud.clouds_yaml)])
    return openstack.connection.Connection(config=config.get_one(cloud=devcloud.cloud))


@pytest.fixture
def cleanup() -> Iterator[Callable[[Callable[[], object]], None]]:
    """Registers undo steps; they run in reverse order, even after a failure."""
    with ExitStack() as stack:
        yield lambda undo: stack.callback(undo)


def unique(prefix: str) -> str:
    return f"devcloud-smoke-{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    "service_type",
    ["identity", "compute", "network", "image", "volumev3", "placement"],
    ids=str,
)
def test_service_is_in_the_catalog_and_enabled(
    conn: Connection, service_type: str
) -> None:
    services = {service.type: service for service in conn.identity.services()}

    assert service_type in services
    assert services[service_type].is_enabled


def test_three_compute_hosts_are_up(conn: Connection) -> None:
    hypervisors = {h.name: h for h in conn.compute.hypervisors(details=True)}

    assert sorted(hypervisors) == list(HOSTS)
    assert all(h.state == "up" and h.status == "enabled" for h in hypervisors.values())


@pytest.mark.parametrize("host", HOSTS, ids=str)
def test_compute_host_offers_exactly_ten_vcpus_and_8_gib(
    conn: Connection, host: str
) -> None:
    provider = next(conn.placement.resource_providers(name=host))
    inventories = {
        inv.resource_class: inv
        for inv in conn.placement.resource_provider_inventories(provider)
    }

    assert (inventories["VCPU"].total, inventories["VCPU"].allocation_ratio) == (
        10,
        1.0,
    )
    assert inventories["MEMORY_MB"].total == 8192
    assert inventories["MEMORY_MB"].reserved == 0
    assert inventories["MEMORY_MB"].allocation_ratio == 1.0


def test_server_boots_on_a_chosen_host_and_takes_a_volume(
    conn: Connection, cleanup: Callable[[Callable[[], object]], None]
) -> None:
    flavor = conn.compute.create_flavor(name=unique("flavor"), vcpus=1, ram=256, disk=1)
    cleanup(lambda: conn.compute.delete_flavor(flavor, ignore_missing=True))
    image = conn.create_image(
        unique("image"),
        data=b"\0" * 1024 * 1024,
        disk_format="raw",
        container_format="bare",
        wait=True,
        timeout=WAIT_S,
    )
    cleanup(lambda: conn.image.delete_image(image, ignore_missing=True))
    network = conn.network.create_network(name=unique("net"))
    cleanup(lambda: conn.network.delete_network(network, ignore_missing=True))
    subnet = conn.network.create_subnet(
        network_id=network.id, cidr="10.250.0.0/24", ip_version=4, name=unique("subnet")
    )
    cleanup(lambda: conn.network.delete_subnet(subnet, ignore_missing=True))

    server = conn.compute.create_server(
        name=unique("server"),
        image_id=image.id,
        flavor_id=flavor.id,
        networks=[{"uuid": network.id}],
        host="cn-02",
    )
    cleanup(lambda: _delete_server(conn, server))
    server = conn.compute.wait_for_server(server, wait=WAIT_S)

    assert server.status == "ACTIVE"
    assert server.compute_host == "cn-02"
    assert server.hypervisor_hostname == "cn-02"
    assert next(a["addr"] for a in server.addresses[network.name]).startswith(
        "10.250.0."
    )

    volume = conn.block_storage.create_volume(size=1, name=unique("volume"))
    cleanup(lambda: _delete_volume(conn, volume))
    conn.block_storage.wait_for_status(volume, "available", wait=WAIT_S)
    conn.compute.create_volume_attachment(server, volume=volume)
    volume = conn.block_storage.wait_for_status(volume, "in-use", wait=WAIT_S)

    assert [a["server_id"] for a in volume.attachments] == [server.id]

    conn.compute.delete_volume_attachment(server, volume)
    volume = conn.block_storage.wait_for_status(volume, "available", wait=WAIT_S)

    assert volume.attachments == []


def _delete_server(conn: Connection, server: Any) -> None:
    conn.compute.delete_server(server, ignore_missing=True)
    conn.compute.wait_for_delete(server, wait=WAIT_S)


def _delete_volume(conn: Connection, volume: Any) -> None:
    # A volume still attached (the test failed half-way) is detached first.
    try:
        current = conn.block_storage.get_volume(volume.id)
    except openstack.exceptions.NotFoundException:
        return
    for attachment in current.attachments:
        conn.compute.delete_volume_attachment(attachment["server_id"], current)
    if current.attachments:
        conn.block_storage.wait_for_status(current, "available", wait=WAIT_S)
    conn.block_storage.delete_volume(current, ignore_missing=True)
    conn.block_storage.wait_for_delete(current, wait=WAIT_S)


def test_up_again_starts_nothing_and_names_the_same_cloud(devcloud: Any) -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "devcloud"), "up", "--no-install"],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    status = subprocess.run(
        [str(REPO / "scripts" / "devcloud"), "status"], capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(devcloud.clouds_yaml)
    assert " started " not in done.stderr
    assert status.returncode == 0, status.stdout


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


def test_every_listening_socket_of_the_cloud_is_on_loopback(devcloud: Any) -> None:
    leaders = {
        int(path.read_text().split()[0])
        for path in (devcloud.clouds_yaml.parent / "pid").glob("*.pid")
    }
    inodes = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            group = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
            if group not in leaders:
                continue
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
        except OSError:
            continue
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                listening.append(fields[1])

    assert len(listening) >= 9  # the APIs, AMQP, Erlang distribution, epmd
    assert [a for a in listening if a.split(":")[0] not in LOOPBACK] == []
