"""Checks of the node_exporter role: every host."""

from __future__ import annotations

from typing import Any

from conftest import Node


def test_node_exporter_is_installed(host: Any) -> None:
    assert host.package("prometheus-node-exporter").is_installed
    assert host.run("prometheus-node-exporter --version").rc == 0


def test_node_exporter_listens_on_the_host_address(host: Any, node: Node) -> None:
    args = host.file("/etc/default/prometheus-node-exporter").content_string
    assert f"--web.listen-address={node.address}:9100" in args
    assert "--collector.textfile.directory=/var/lib/prometheus/node-exporter" in args


def test_textfile_directory_belongs_to_prometheus(host: Any) -> None:
    folder = host.file("/var/lib/prometheus/node-exporter")
    assert folder.is_directory
    assert folder.user == "prometheus"


def test_node_exporter_is_serving(host: Any, node: Node, runtime: None) -> None:
    assert host.socket(f"tcp://{node.address}:9100").is_listening
