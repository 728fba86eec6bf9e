"""Checks of the controller role."""

from __future__ import annotations

from typing import Any

from conftest import Node

ROLES = {"controller"}


def test_control_plane_services_are_installed(host: Any) -> None:
    for name in ("haproxy", "memcached"):
        assert host.package(name).is_installed, name
    check = host.run("haproxy -c -f /etc/haproxy/haproxy.cfg")
    assert check.rc == 0, check.stdout + check.stderr


def test_memcached_listens_on_the_host_address(host: Any, node: Node) -> None:
    lines = host.file("/etc/memcached.conf").content_string.splitlines()
    assert f"-l {node.address}" in lines
    assert "-l 127.0.0.1" not in lines


def test_virtual_ips_can_be_bound(host: Any) -> None:
    lines = host.file("/etc/sysctl.d/60-citycloud-controller.conf").content_string
    assert "net.ipv4.ip_nonlocal_bind = 1" in lines.splitlines()


def test_api_services_may_open_enough_files(host: Any) -> None:
    limits = host.file("/etc/security/limits.d/60-citycloud-controller.conf")
    assert "hard    nofile    65536" in limits.content_string
