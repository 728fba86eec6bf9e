"""A real Prometheus (Debian's, through scripts/prometheus) scraping one fake
node exporter per compute host, for the scheduler's integration tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from citycloud.scheduler import MetricsSnapshot
from citycloud.scheduler.prometheus import PrometheusSource
from tests.fakes.node_exporter import FakeNodeExporter

REPO = Path(__file__).resolve().parents[3]
HOSTS = ("cn-01", "cn-02", "cn-03")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def node_exporters() -> Iterator[dict[str, FakeNodeExporter]]:
    exporters = {h: FakeNodeExporter(h, free_port()) for h in HOSTS}
    for exporter in exporters.values():
        exporter.start()
    yield exporters
    for exporter in exporters.values():
        exporter.stop()


@pytest.fixture(scope="session")
def prometheus_url(
    node_exporters: dict[str, FakeNodeExporter],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    subprocess.run([str(REPO / "scripts/setup.d/40-prometheus.sh")], check=True)
    name = f"scheduler-{os.getpid()}"
    port = free_port()
    config = tmp_path_factory.mktemp("prometheus") / "prometheus.yml"
    targets = "\n".join(
        f"      - targets: ['{e.target}']\n        labels: {{host: {h}}}"
        for h, e in node_exporters.items()
    )
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: citycloud-nodes\n    static_configs:\n"
        f"{targets}\n",
        encoding="utf-8",
    )
    script = str(REPO / "scripts/prometheus")
    subprocess.run(
        [script, "up", name, "--config", str(config), "--port", str(port)], check=True
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([script, "down", name], check=True)
        run_dir = Path(os.environ.get("CITYCLOUD_RUN_DIR", "/tmp/citycloud-run"))
        shutil.rmtree(run_dir / "prometheus" / name, ignore_errors=True)


@pytest.fixture
def prometheus_source(prometheus_url: str) -> PrometheusSource:
    return PrometheusSource(
        prometheus_url,
        rate_window="5s",
        variation_window_s=30,
        variation_step_s=1,
        last_seen_window="10m",
    )


@pytest.fixture
def cool_hosts(
    node_exporters: dict[str, FakeNodeExporter],
    prometheus_source: PrometheusSource,
    wait_for: Callable[[Callable[[MetricsSnapshot], bool]], MetricsSnapshot],
) -> dict[str, FakeNodeExporter]:
    """Every exporter running and every host seen cool by Prometheus."""
    for exporter in node_exporters.values():
        exporter.start()
        exporter.node.set(cpu=0.1, memory=0.1)

    def all_cool(snap: MetricsSnapshot) -> bool:
        return all(
            (m := snap.hosts.get(h)) is not None
            and m.up is True
            and m.cpu_utilisation is not None
            and m.cpu_utilisation < 0.3
            and (m.memory_utilisation or 1) < 0.3
            for h in HOSTS
        )

    wait_for(all_cool)
    return node_exporters


@pytest.fixture
def wait_for(
    prometheus_source: PrometheusSource,
) -> Callable[[Callable[[MetricsSnapshot], bool]], MetricsSnapshot]:
    def wait(condition: Callable[[MetricsSnapshot], bool]) -> MetricsSnapshot:
        deadline = time.monotonic() + 60
        while True:
            snap = prometheus_source.snapshot()
            if condition(snap):
                return snap
            if time.monotonic() > deadline:
                raise AssertionError(f"Prometheus never showed it: {snap}")
            time.sleep(0.5)

    return wait
