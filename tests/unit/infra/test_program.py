"""The Pulumi program under Pulumi's own mocks: every tenant becomes a
component whose children match the desired state the plan shows."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from citycloud.desired import build_desired
from citycloud.spec import load_spec

INFRA = Path(__file__).resolve().parents[3] / "infra"


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str, dict[str, Any]]:
        self.created.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="citycloud", stack="test", preview=False)
    monkeypatch.syspath_prepend(str(INFRA))
    yield mocks
    for name in ("program", "cloud", "tenant"):
        sys.modules.pop(name, None)


def by_type(recorder: Recorder, token: str) -> list[pulumi.runtime.MockResourceArgs]:
    return [a for a in recorder.created if a.typ == token]


def run_program(recorder: Recorder, example_spec_dir: Path) -> dict[str, Any]:
    """Run the program under the mocks until every registration is done."""
    import program

    desired = build_desired(load_spec(example_spec_dir), ["cloud", "openstack"])
    built: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> Any:
        _cloud, tenants = program.build(desired)
        built.update(tenants)
        return pulumi.Output.all(*(t.project_id for t in tenants.values()))

    run()
    return built


def test_every_vm_tenant_is_a_component_with_its_resources(
    recorder: Recorder, example_spec_dir: Path
) -> None:
    tenants = run_program(recorder, example_spec_dir)
    assert set(tenants) == {"onemap", "dispatch", "risk", "bigdata", "songshan-risk"}
    components = by_type(recorder, "citycloud:openstack:Tenant")
    assert {c.name for c in components} == set(tenants)
    projects = [
        p
        for p in by_type(recorder, "openstack:identity/project:Project")
        if not p.inputs.get("isDomain")
    ]
    assert {p.inputs["name"] for p in projects} == set(tenants)
    quotas = {
        q.name: q.inputs
        for q in by_type(recorder, "openstack:compute/quotaSetV2:QuotaSetV2")
    }
    assert quotas["dispatch-compute-quota"]["cores"] == 96
    assert quotas["dispatch-compute-quota"]["ram"] == 196608
    servers = [
        s
        for s in by_type(recorder, "openstack:compute/instance:Instance")
        if s.name.startswith("dispatch-")
    ]
    assert len(servers) == 5
    rules = [
        r.inputs
        for r in by_type(recorder, "openstack:networking/secGroupRule:SecGroupRule")
        if r.name.startswith("onemap-")
    ]
    assert {
        (r.get("protocol"), r.get("portRangeMin"), r["remoteIpPrefix"]) for r in rules
    } == {
        (None, None, "10.20.1.0/24"),
        ("tcp", 443, "0.0.0.0/0"),
        ("tcp", 22, "10.10.0.0/16"),
    }


def test_the_cloud_and_tenant_networks(
    recorder: Recorder, example_spec_dir: Path
) -> None:
    run_program(recorder, example_spec_dir)
    subnets = {
        s.name: s.inputs
        for s in by_type(recorder, "openstack:networking/subnet:Subnet")
    }
    assert subnets["risk-subnet"]["cidr"] == "10.20.4.0/23"
    aggregates = {
        a.inputs["name"]: a.inputs
        for a in by_type(recorder, "openstack:compute/aggregateV2:AggregateV2")
    }
    assert aggregates["r03"]["zone"] == "az2" and aggregates["r03"]["hosts"] == [
        "cn-05",
        "cn-06",
    ]
    networks = by_type(recorder, "openstack:networking/network:Network")
    assert [n.inputs["name"] for n in networks if n.inputs.get("external")] == [
        "external"
    ]
    assert not any(n.inputs.get("shared") for n in networks if n.name.endswith("-net"))
    volumes = [
        v.inputs for v in by_type(recorder, "openstack:blockstorage/volume:Volume")
    ]
    assert any(v.get("size") == 500 and v.get("volumeType") == "ssd" for v in volumes)


def test_the_pulumi_engine_says_clearly_when_the_cli_is_missing(
    monkeypatch: pytest.MonkeyPatch, example_spec_dir: Path
) -> None:
    from citycloud.adapters.pulumi import runner
    from citycloud.errors import PermanentError

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PermanentError, match="Pulumi CLI is not installed"):
        runner.up("chifeng", example_spec_dir)
