"""Small node_exporter look-alikes, one per fake compute host, on loopback.

Each serves the node_exporter series the scheduler reads
(node_cpu_seconds_total per cpu and mode, node_memory_MemTotal_bytes,
node_memory_MemAvailable_bytes) with prometheus-client. A test sets the
host's CPU and memory utilisation at will (to make it hot) and can stop and
restart the exporter (to make its metrics go stale).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class NodeLike(Collector):
    def __init__(self, cpus: int = 10, memory_bytes: int = 8 << 30) -> None:
        self.cpus = cpus
        self.memory_bytes = memory_bytes
        self._lock = threading.Lock()
        self._cpu = 0.1
        self._memory = 0.1
        self._idle = 0.0
        self._busy = 0.0
        self._since = time.monotonic()

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed = now - self._since
        self._idle += elapsed * (1.0 - self._cpu)
        self._busy += elapsed * self._cpu
        self._since = now

    def set(self, cpu: float | None = None, memory: float | None = None) -> None:
        with self._lock:
            self._advance()
            if cpu is not None:
                self._cpu = cpu
            if memory is not None:
                self._memory = memory

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            self._advance()
            idle, busy, memory = self._idle, self._busy, self._memory
        seconds = CounterMetricFamily(
            "node_cpu_seconds",
            "Seconds the CPUs spent in each mode.",
            labels=["cpu", "mode"],
        )
        for cpu in range(self.cpus):
            seconds.add_metric([str(cpu), "idle"], idle)
            seconds.add_metric([str(cpu), "user"], busy)
        yield seconds
        yield GaugeMetricFamily(
            "node_memory_MemTotal_bytes", "Memory in bytes.", value=self.memory_bytes
        )
        yield GaugeMetricFamily(
            "node_memory_MemAvailable_bytes",
            "Available memory in bytes.",
            value=self.memory_bytes * (1.0 - memory),
        )


class FakeNodeExporter:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.node = NodeLike()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.node)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is None:
            self._server, self._thread = start_http_server(
                self.port, addr="127.0.0.1", registry=self.registry
            )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(5)
            self._server = None
            self._thread = None
