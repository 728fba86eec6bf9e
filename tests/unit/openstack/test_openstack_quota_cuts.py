"""Lowering a quota below what a tenant uses needs --force-quota; when forced,
Nova's part is sent with Nova's own force flag."""

from __future__ import annotations

from typing import Any

import pytest

from citycloud.adapters.openstack import engine as engine_module
from citycloud.adapters.openstack.engine import OpenStackEngine
from citycloud.adapters.openstack.live import LiveCloud, ProjectQuota
from citycloud.desired.model import res
from citycloud.errors import SafetyError
from citycloud.plan import make_plan


class FakeCompute:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def update_quota_set(self, project: str, **attrs: Any) -> None:
        self.calls.append((project, attrs))


class FakeConn:
    def __init__(self) -> None:
        self.compute = FakeCompute()


def quota(instances: int) -> Any:
    attrs = {"project": "oa", "instances": instances, "cores": 8}
    return res("openstack", "quota", "oa", attrs, tenant="oa")


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> LiveCloud:
    used = {"p-oa": ProjectQuota(limits={"instances": 4}, usage={"instances": 1})}
    monkeypatch.setattr(engine_module, "read_quotas", lambda *_a, **_k: used)
    return LiveCloud(projects=[{"id": "p-oa", "name": "oa"}])


@pytest.mark.parametrize(
    ("instances", "refused"),
    [
        pytest.param(0, True, id="below-usage"),
        pytest.param(1, False, id="down-to-usage"),
        pytest.param(-1, False, id="unlimited"),
    ],
)
def test_quota_cut_is_refused_without_force(
    live: LiveCloud, instances: int, refused: bool
) -> None:
    plan = make_plan([quota(instances)], [quota(4)], ["openstack"])
    engine = OpenStackEngine("test", connection=FakeConn())  # type: ignore[arg-type]
    if refused:
        with pytest.raises(SafetyError, match="oa"):
            engine.check_quota_cuts(plan, live)
    else:
        assert engine.check_quota_cuts(plan, live) == {}


def test_a_forced_cut_sets_novas_limit_with_force(live: LiveCloud) -> None:
    conn = FakeConn()
    engine = OpenStackEngine("test", force_quota=True, connection=conn)  # type: ignore[arg-type]
    plan = make_plan([quota(0)], [quota(4)], ["openstack"])

    forced = engine.check_quota_cuts(plan, live)
    engine.force_compute_cuts(forced)

    assert conn.compute.calls == [("p-oa", {"force": True, "instances": 0})]
