"""Reading host metrics from Prometheus's HTTP API (a fake transport)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from citycloud.scheduler import FakeClock
from citycloud.scheduler.prometheus import PrometheusSource
from tests.unit.scheduler.sched_helpers import NOW


class FakeResponse:
    def __init__(self, body: dict[str, Any], status: int = 200) -> None:
        self._body = body
        self.status_code = status

    def json(self) -> dict[str, Any]:
        return self._body


def vector(*rows: tuple[str, float]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"host": h}, "value": [NOW, str(v)]} for h, v in rows
            ],
        },
    }


def matrix(*rows: tuple[str, list[float]]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"host": h},
                    "values": [[NOW - i, str(v)] for i, v in enumerate(vs)],
                }
                for h, vs in rows
            ],
        },
    }


class FakeSession:
    """Answers by the shape of the expression, like a small Prometheus."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, url: str, params: dict[str, Any], timeout: float) -> FakeResponse:
        self.calls.append((url, params))
        if self.fail:
            raise self.fail
        query = params["query"]
        if url.endswith("query_range"):
            return FakeResponse(
                matrix(("cn-01", [0.2, 0.4, 0.2, 0.4]), ("cn-02", [0.5]))
            )
        if "node_cpu_seconds_total" in query:
            return FakeResponse(vector(("cn-01", 0.35), ("cn-02", 1.2)))
        if "max_over_time" in query:
            return FakeResponse(
                vector(("cn-01", NOW - 4), ("cn-02", NOW - 2), ("cn-03", NOW - 700))
            )
        if "MemAvailable" in query:
            return FakeResponse(vector(("cn-01", 0.5), ("cn-02", 0.25)))
        if "(up)" in query:
            return FakeResponse(vector(("cn-01", 1), ("cn-02", 1), ("cn-03", 0)))
        return FakeResponse(
            {"status": "error", "errorType": "bad_data", "error": "?"}, 400
        )


def source(session: FakeSession) -> PrometheusSource:
    return PrometheusSource(
        "http://127.0.0.1:9/",
        clock=FakeClock(NOW),
        session=session,  # type: ignore[arg-type]
    )


def test_snapshot_reads_utilisation_sample_time_variation_and_up() -> None:
    snap = source(FakeSession()).snapshot()

    one, two, three = snap.hosts["cn-01"], snap.hosts["cn-02"], snap.hosts["cn-03"]
    assert snap.error is None
    assert (one.cpu_utilisation, one.memory_utilisation) == (0.35, 0.5)
    assert one.sampled_at == NOW - 4
    assert one.cpu_stddev == pytest.approx(0.1)
    assert two.cpu_utilisation == 1.0  # clamped
    assert two.cpu_stddev is None  # one point says nothing about variation
    assert three.up is False and three.cpu_utilisation is None


def test_queries_go_to_the_instant_and_range_endpoints() -> None:
    session = FakeSession()
    source(session).snapshot()

    paths = {url.rsplit("/", 1)[-1] for url, _ in session.calls}
    assert paths == {"query", "query_range"}
    assert all(p.get("time", p.get("end")) == NOW for _, p in session.calls)


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("refused"),
        requests.Timeout("slow"),
        ValueError("not json"),
    ],
    ids=["unreachable", "timeout", "garbage"],
)
def test_an_unusable_prometheus_gives_an_empty_snapshot_with_the_error(
    failure: Exception,
) -> None:
    snap = source(FakeSession(fail=failure)).snapshot()

    assert snap.hosts == {}
    assert snap.error and type(failure).__name__ in snap.error
