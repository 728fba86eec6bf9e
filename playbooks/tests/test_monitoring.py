"""Checks of the monitoring role."""

from __future__ import annotations

from typing import Any

from conftest import Node

ROLES = {"monitoring"}


def test_prometheus_is_installed(host: Any) -> None:
    assert host.package("prometheus").is_installed


def test_prometheus_accepts_its_configuration(host: Any) -> None:
    check = host.run("promtool check config /etc/prometheus/prometheus.yml")
    assert check.rc == 0, check.stdout + check.stderr


def test_every_host_is_a_scrape_target(host: Any, node: Node) -> None:
    targets = host.file("/etc/prometheus/file_sd/citycloud-nodes.yml").content_string
    for other in node.others:
        assert f'"{other["address"]}:9100"' in targets
        assert f'host: "{other["name"]}"' in targets


def test_prometheus_listens_on_the_host_address(host: Any, node: Node) -> None:
    args = host.file("/etc/default/prometheus").content_string
    assert f"--web.listen-address={node.address}:9090" in args
