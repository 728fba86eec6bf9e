"""Applying a plan: engines for their layers, the store for the rest, and an
honest record however the apply ends."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from citycloud.apply import apply_plan, make_workspace, plan_workspace
from citycloud.desired.model import DesiredState, Resource
from citycloud.errors import TransientError
from citycloud.plan import Plan, SafetyPolicy
from citycloud.plan.engine import Progress
from citycloud.spec import Spec, load_spec
from citycloud.store import StateStore


class Failing:
    """An engine for the hosts layer that fails in a chosen way."""

    name = "failing"
    layers: Sequence[str] = ("hosts",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def observe(self, desired: DesiredState, spec: Spec) -> list[Resource]:
        return []

    def apply(
        self, plan: Plan, desired: DesiredState, spec: Spec, progress: Progress
    ) -> list[Resource] | None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(
            TransientError("ansible", "host cn-01 unreachable"),
            "failed",
            id="outside-error",
        ),
        pytest.param(KeyboardInterrupt(), "interrupted", id="ctrl-c"),
    ],
)
def test_an_apply_that_stops_is_recorded_and_changes_nothing(
    example_spec_dir: Path, tmp_path: Path, error: BaseException, status: str
) -> None:
    store = StateStore(f"sqlite:///{tmp_path}/s.db")
    spec = load_spec(example_spec_dir)
    ws = make_workspace(spec, store, [Failing(error)], ["hosts"])
    plan = plan_workspace(ws)
    with pytest.raises(type(error)):
        apply_plan(ws, plan, SafetyPolicy())
    (record,) = store.recent_applies()
    assert record.status == status
    assert store.applied(["hosts"]) == []
    assert len(plan_workspace(ws)) == len(plan)


def test_artifacts_of_a_removed_tenant_are_removed(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    from citycloud.apply import write_artifacts

    store = StateStore(f"sqlite:///{tmp_path}/s.db")
    spec = load_spec(example_spec_dir)
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "mine.txt").write_text("kept", encoding="utf-8")
    write_artifacts(make_workspace(spec, store), out)
    rules = out / "monitoring" / "rules" / "tenant-bigdata.yml"
    assert rules.exists()
    smaller = Spec(
        spec.document,
        spec.orgs,
        tuple(t for t in spec.tenants if t.slug != "bigdata"),
        spec.roles,
    )
    write_artifacts(make_workspace(smaller, store), out)
    assert not rules.exists()
    assert not (out / "openstack" / "tenants" / "bigdata.json").exists()
    assert (out / "notes" / "mine.txt").read_text(encoding="utf-8") == "kept"
    assert "&id" not in (out / "kubernetes").joinpath(
        sorted(p.name for p in (out / "kubernetes").iterdir())[0]
    ).read_text(encoding="utf-8")


def test_an_apply_is_counted_and_timed_in_the_platform_metrics(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    from citycloud.metrics import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = sample("citycloud_apply_duration_seconds_count", layer="hosts")
    created = sample("citycloud_changes_total", layer="hosts", action="create")
    ws = make_workspace(
        load_spec(example_spec_dir),
        StateStore(f"sqlite:///{tmp_path}/s.db"),
        layers=["hosts"],
    )
    apply_plan(ws, plan_workspace(ws), SafetyPolicy())
    assert sample("citycloud_apply_duration_seconds_count", layer="hosts") == before + 1
    assert (
        sample("citycloud_changes_total", layer="hosts", action="create")
        == created + 13
    )
