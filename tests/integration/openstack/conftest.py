"""Fixtures for the OpenStack tests: the test cloud from scripts/devcloud (the
session fixture ``devcloud``), a CLI runner bound to it, and a clean city
domain for each test module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack
import pytest
from click.testing import CliRunner, Result
from openstack.connection import Connection

from citycloud.cli import main

CLOUD = "devcloud-admin"
LAYERS = ["--layer", "cloud", "--layer", "openstack"]


@dataclass
class City:
    """One test module's view of the cloud: its spec folder, state and CLI."""

    spec_dir: Path
    state_url: str
    conn: Connection
    clouds_yaml: Path

    def cli(self, *args: str, cloud: str = CLOUD) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main,
            [
                *args[:1],
                str(self.spec_dir),
                "--cloud",
                cloud,
                *LAYERS,
                "--state",
                self.state_url,
                "--out",
                str(self.spec_dir.parent / "out"),
                *args[1:],
            ],
            env={
                "OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml),
                "CITYCLOUD_LANG": "en",
            },
            catch_exceptions=False,
        )

    def plan(self, cloud: str = CLOUD) -> dict[str, Any]:
        result = self.cli("plan", "--json", cloud=cloud)
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def apply(self, *flags: str) -> Result:
        return self.cli("apply", *flags)


def wipe_domain(conn: Connection, domain_name: str) -> None:
    """Remove every project of the city's domain and what it holds."""
    domain = conn.identity.find_domain(domain_name, ignore_missing=True)
    if domain is None:
        return
    for project in list(conn.identity.projects(domain_id=domain.id)):
        pid = project.id
        for fip in list(conn.network.ips(project_id=pid)):
            conn.network.delete_ip(fip)
        for server in list(conn.compute.servers(all_projects=True, project_id=pid)):
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=120)
        for volume in list(
            conn.block_storage.volumes(all_projects=True, project_id=pid)
        ):
            conn.block_storage.delete_volume(volume, force=True)
            conn.block_storage.wait_for_delete(volume, wait=120)
        for router in list(conn.network.routers(project_id=pid)):
            for port in list(
                conn.network.ports(
                    device_id=router.id, device_owner="network:router_interface"
                )
            ):
                conn.network.remove_interface_from_router(router, port_id=port.id)
            conn.network.delete_router(router)
        for network in list(conn.network.networks(project_id=pid)):
            conn.network.delete_network(network)
        for group in list(conn.network.security_groups(project_id=pid)):
            conn.network.delete_security_group(group)
        conn.identity.delete_project(project)


@pytest.fixture(scope="session")
def clouds_yaml(devcloud: Any) -> Path:
    """The test cloud's clouds.yaml (the devcloud fixture also exports it)."""
    path = Path(devcloud.clouds_yaml)
    assert devcloud.cloud == CLOUD
    return path


@pytest.fixture(scope="session")
def admin_conn(clouds_yaml: Path) -> Connection:
    return openstack.connect(cloud=CLOUD)


@pytest.fixture(scope="module")
def city(
    tmp_path_factory: pytest.TempPathFactory, admin_conn: Connection, clouds_yaml: Path
) -> Iterator[City]:
    base = tmp_path_factory.mktemp("city")
    wipe_domain(admin_conn, "chifeng")
    yield City(base / "spec", f"sqlite:///{base}/state.db", admin_conn, clouds_yaml)
    wipe_domain(admin_conn, "chifeng")
