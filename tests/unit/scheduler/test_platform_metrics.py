"""The platform's own metrics: names, bounded labels, several processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from citycloud import metrics


def families() -> dict[str, object]:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def test_names_follow_the_prometheus_naming_guide() -> None:
    for collector in metrics.REGISTRY._collector_to_names:
        for family in collector.describe():
            assert family.name.startswith("citycloud_")
            if family.type == "counter":
                assert not family.name.endswith("_total")  # the client adds it
            if family.type == "histogram":
                assert family.name.endswith("_seconds")


@pytest.mark.parametrize(
    ("layer", "expected"),
    [("openstack", "openstack"), ("tenant-赤峰-42", "other")],
    ids=["known-layer", "unknown-value-bounded"],
)
def test_label_values_are_bounded(layer: str, expected: str) -> None:
    before = metrics.CHANGES.labels(expected, "create")._value.get()

    metrics.count_change(layer, "create")

    assert metrics.CHANGES.labels(expected, "create")._value.get() == before + 1


def test_scheduler_decisions_are_exposed() -> None:
    metrics.observe_scheduler_decision("placed", 0.002, stale_hosts=2, displaced=1)

    found = families()
    decisions: Any = found["citycloud_scheduler_decisions"]
    names = {s.name for s in decisions.samples}
    assert "citycloud_scheduler_decisions_total" in names
    assert "citycloud_scheduler_decision_duration_seconds" in found
    assert "citycloud_scheduler_displacements" in found


def test_error_kind_follows_the_exception_hierarchy() -> None:
    from citycloud.errors import PermanentError, SafetyError, TransientError

    assert metrics.error_kind(TransientError("openstack", "503")) == "transient"
    assert metrics.error_kind(PermanentError("openstack", "400")) == "permanent"
    assert metrics.error_kind(SafetyError("deletes")) == "safety"
    assert metrics.error_kind(RuntimeError()) == "other"


WORKER = """
from citycloud import metrics
metrics.observe_apply("openstack", "success", 3.0)
metrics.count_change("openstack", "create", 5)
metrics.observe_scheduler_decision("placed", 0.01)
"""

READER = """
from citycloud import metrics
print(metrics.exposition()[0].decode())
"""


def test_counts_from_several_processes_add_up(tmp_path: Path) -> None:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for _ in range(3):
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True)

    out = subprocess.run(
        [sys.executable, "-c", READER],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(out)
        for s in f.samples
    }
    assert (
        samples[
            ("citycloud_changes_total", (("action", "create"), ("layer", "openstack")))
        ]
        == 15
    )
    assert (
        samples[
            (
                "citycloud_applies_total",
                (("layer", "openstack"), ("outcome", "success")),
            )
        ]
        == 3
    )
    assert (
        samples[
            (
                "citycloud_scheduler_decisions_total",
                (("mode", "live"), ("outcome", "placed")),
            )
        ]
        == 3
    )


def test_an_applied_plan_counts_per_layer_and_action() -> None:
    from citycloud.desired.model import Resource, ResourceId
    from citycloud.plan import make_plan

    desired = [
        Resource(ResourceId("openstack", "project", "t1"), {"name": "t1"}),
        Resource(ResourceId("identity", "group", "g1"), {"name": "g1"}),
    ]
    plan = make_plan(desired, [])

    def value(layer: str) -> float:
        return metrics.CHANGES.labels(layer, "create")._value.get()

    before = value("openstack"), value("identity")
    metrics.observe_applied_plan(plan, "succeeded")

    assert (value("openstack"), value("identity")) == (before[0] + 1, before[1] + 1)
