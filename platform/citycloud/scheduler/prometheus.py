"""Host metrics from Prometheus's HTTP API, as the scheduler needs them.

Instant queries give each host's current CPU and memory utilisation from
node_exporter series and the time of the last sample; range queries over
the variation window give how much that use moved. Hosts are told apart by
a target label (`host` by default) that the scrape configuration sets.

A source that cannot be reached yields an empty snapshot carrying the
error: scheduling then goes on from allocations, and says so.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from typing import Any

import requests

from citycloud.scheduler.clock import Clock, SystemClock
from citycloud.scheduler.model import HostMetrics, MetricsSnapshot

log = logging.getLogger(__name__)


class PrometheusSource:
    def __init__(
        self,
        url: str,
        *,
        host_label: str = "host",
        rate_window: str = "1m",
        variation_window_s: float = 600.0,
        variation_step_s: float = 15.0,
        last_seen_window: str = "1h",
        timeout_s: float = 5.0,
        clock: Clock | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.host_label = host_label
        self.rate_window = rate_window
        self.variation_window_s = variation_window_s
        self.variation_step_s = variation_step_s
        self.last_seen_window = last_seen_window
        self.timeout_s = timeout_s
        self.clock = clock or SystemClock()
        self.session = session or requests.Session()

    # The expressions are public so monitoring rules can reuse the same ones.
    def cpu_expr(self) -> str:
        h = self.host_label
        return (
            f"1 - avg by ({h}) "
            f'(rate(node_cpu_seconds_total{{mode="idle"}}[{self.rate_window}]))'
        )

    def memory_expr(self) -> str:
        h = self.host_label
        return (
            f"max by ({h}) (1 - node_memory_MemAvailable_bytes"
            " / node_memory_MemTotal_bytes)"
        )

    def last_sample_expr(self) -> str:
        # The sample time of the latest memory reading, still known after the
        # exporter stopped (instant queries then return nothing for it).
        h = self.host_label
        return (
            f"max by ({h}) (max_over_time("
            f"timestamp(node_memory_MemTotal_bytes)[{self.last_seen_window}:15s]))"
        )

    def up_expr(self) -> str:
        return f"max by ({self.host_label}) (up)"

    def snapshot(self) -> MetricsSnapshot:
        now = self.clock.now()
        try:
            cpu = self._instant(self.cpu_expr(), now)
            memory = self._instant(self.memory_expr(), now)
            seen = self._instant(self.last_sample_expr(), now)
            up = self._instant(self.up_expr(), now)
            cpu_var = self._variation(self.cpu_expr(), now)
            mem_var = self._variation(self.memory_expr(), now)
        except (requests.RequestException, ValueError, KeyError) as exc:
            log.warning("Prometheus at %s unusable: %s", self.url, exc)
            return MetricsSnapshot({}, now, f"{type(exc).__name__}: {exc}")
        hosts: dict[str, HostMetrics] = {}
        for host in set(cpu) | set(memory) | set(seen) | set(up):
            if not host:
                continue
            sampled = seen.get(host, (None, 0.0))[1]
            hosts[host] = HostMetrics(
                host=host,
                sampled_at=sampled,
                cpu_utilisation=_clamp(cpu[host][1]) if host in cpu else None,
                memory_utilisation=_clamp(memory[host][1]) if host in memory else None,
                cpu_stddev=cpu_var.get(host),
                memory_stddev=mem_var.get(host),
                up=(up[host][1] >= 1.0) if host in up else None,
            )
        log.debug("Read metrics of %d hosts from %s", len(hosts), self.url)
        return MetricsSnapshot(hosts, now, None)

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        response = self.session.get(
            f"{self.url}{path}", params=params, timeout=self.timeout_s
        )
        body = response.json()
        if response.status_code >= 400 or body.get("status") != "success":
            raise ValueError(
                f"{response.status_code} {body.get('errorType')}: {body.get('error')}"
            )
        return body["data"]

    def _instant(self, expr: str, now: float) -> dict[str, tuple[float, float]]:
        """Host -> (evaluation time, value)."""
        data = self._get("/api/v1/query", {"query": expr, "time": now})
        return _by_host(data["result"], self.host_label, lambda r: r["value"])

    def _variation(self, expr: str, now: float) -> dict[str, float]:
        data = self._get(
            "/api/v1/query_range",
            {
                "query": expr,
                "start": now - self.variation_window_s,
                "end": now,
                "step": self.variation_step_s,
            },
        )
        out: dict[str, float] = {}
        for series in data["result"]:
            host = series["metric"].get(self.host_label, "")
            values = [float(v) for _, v in series["values"]]
            if host and len(values) >= 2:
                out[host] = statistics.pstdev(values)
        return out


def _by_host(
    result: list[dict[str, Any]],
    label: str,
    pick: Callable[[dict[str, Any]], list[Any]],
) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for row in result:
        host = row["metric"].get(label, "")
        at, value = pick(row)
        number = float(value)
        if number == number:  # NaN when a series has a single sample
            out[host] = (float(at), number)
    return out


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
