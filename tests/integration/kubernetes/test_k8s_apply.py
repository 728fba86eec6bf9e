"""Apply the example city's container tenants to the fake API server: create,
then converge with zero writes; drift shows in the plan; conflicts, deletes
and their safety rules behave like a real cluster's."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from citycloud.adapters.kubernetes import (
    ApplyConflict,
    KubeClient,
    ManifestError,
    connect,
)
from citycloud.desired import DesiredState
from citycloud.desired.model import Resource
from citycloud.errors import PlanError, SafetyError
from citycloud.plan import Action, SafetyPolicy
from tests.fakes.kubernetes.server import FakeKubeApiServer
from tests.integration.kubernetes.conftest import EngineFactory

pytestmark = pytest.mark.integration

PORTAL_NS = "portal-1504"


def _edit(fake: FakeKubeApiServer) -> k8s.CoreV1Api:
    """A second client acting like a person with kubectl."""
    return k8s.CoreV1Api(connect(host=fake.url))


def test_first_apply_creates_everything_in_order(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    engine = make_engine()
    plan = engine.plan(example_desired)
    assert plan.counts() == {"create": len(example_desired), "update": 0, "delete": 0}

    engine.apply(plan)

    kinds = [c.id.kind for c in plan]
    assert kinds.index("rolebinding") > kinds.index("namespace")
    stored = {
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        for o in fake.store.iter_objects()
    }
    assert ("Namespace", None, PORTAL_NS) in stored
    assert ("NetworkPolicy", PORTAL_NS, "default-deny") in stored
    assert all(
        e["manager"] == "citycloud" and e["operation"] == "Apply"
        for o in fake.store.iter_objects()
        for e in o["metadata"]["managedFields"]
    )


def test_second_apply_writes_nothing(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    engine = make_engine()
    engine.apply(engine.plan(example_desired))
    versions = {
        o["metadata"]["uid"]: o["metadata"]["resourceVersion"]
        for o in fake.store.iter_objects()
    }
    fake.reset_log()

    again = engine.plan(example_desired)
    engine.apply(again)

    assert again.is_empty
    assert fake.writes() == []
    assert engine.last_report.writes == 0
    assert {
        o["metadata"]["uid"]: o["metadata"]["resourceVersion"]
        for o in fake.store.iter_objects()
    } == versions


def test_reapplying_identical_manifests_is_a_no_op_on_the_server(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    engine = make_engine()
    engine.apply(engine.plan(example_desired))
    before = fake.store.resource_version

    for resource in example_desired:
        engine.client.apply(dict(resource.attrs))

    assert fake.store.resource_version == before


def test_listing_pages_through_everything(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    engine = make_engine(page_size=2)
    engine.apply(engine.plan(example_desired))
    fake.reset_log()

    observed = engine.observe()

    assert {r.id for r in observed} == set(example_desired.resources)
    continued = [r for r in fake.requests if "continue" in r.query]
    assert continued, "observing should have needed more than one page"
    assert all(r.query.get("limit") == "2" for r in fake.requests)


def test_drift_by_hand_shows_as_a_field_difference(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    engine = make_engine()
    engine.apply(engine.plan(example_desired))
    api = _edit(fake)
    api.patch_namespaced_resource_quota(
        "quota",
        PORTAL_NS,
        {"spec": {"hard": {"limits.cpu": "64"}}},
        field_manager="kubectl-edit",
    )
    k8s.NetworkingV1Api(connect(host=fake.url)).delete_namespaced_network_policy(
        "default-deny", PORTAL_NS
    )
    api.patch_namespace(
        PORTAL_NS,
        {"metadata": {"labels": {"team": "ops"}}},
        field_manager="kubectl-label",
    )

    plan = engine.plan(example_desired)

    changes = {(c.action, c.id.kind, c.id.key): c for c in plan}
    assert set(changes) == {
        (Action.UPDATE, "resourcequota", f"{PORTAL_NS}/quota"),
        (Action.CREATE, "networkpolicy", f"{PORTAL_NS}/default-deny"),
    }
    (field,) = changes[(Action.UPDATE, "resourcequota", f"{PORTAL_NS}/quota")].fields
    assert (field.path, field.before, field.after) == (
        "spec.hard.limits.cpu",
        "64",
        "8",
    )


def test_a_field_taken_by_another_manager_needs_force(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    make_engine().apply(make_engine().plan(example_desired))
    _edit(fake).patch_namespaced_resource_quota(
        "quota",
        PORTAL_NS,
        {"spec": {"hard": {"limits.cpu": "64"}}},
        field_manager="kubectl-edit",
    )
    engine = make_engine()
    plan = engine.plan(example_desired)

    with pytest.raises(ApplyConflict) as caught:
        engine.apply(plan)
    assert caught.value.fields == (".spec.hard.limits.cpu",)
    assert (
        fake.store.get(_rt("resourcequotas"), PORTAL_NS, "quota")["spec"]["hard"][
            "limits.cpu"
        ]
        == "64"
    )

    forced = make_engine(force=True)
    forced.apply(plan)
    assert forced.plan(example_desired).is_empty


def test_fields_another_applier_adds_are_left_alone(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    engine = make_engine()
    engine.apply(engine.plan(example_desired))
    other = KubeClient(connect(host=fake.url), field_manager="quota-operator")
    other.apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": PORTAL_NS},
            "spec": {"hard": {"pods": "50"}},
        }
    )

    assert engine.plan(example_desired).is_empty
    engine.apply(engine.plan(example_desired))
    stored = fake.store.get(_rt("resourcequotas"), PORTAL_NS, "quota")
    assert stored["spec"]["hard"]["pods"] == "50"


def _without_tenant(desired: DesiredState, slug: str) -> list[Resource]:
    return [r for r in desired if r.tenant != slug]


def test_removing_a_tenant_needs_allow_delete(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    make_engine().apply(make_engine().plan(example_desired))
    fewer = _without_tenant(example_desired, "portal")
    engine = make_engine()
    plan = engine.plan(fewer)
    assert {c.action for c in plan} == {Action.DELETE}
    fake.reset_log()

    with pytest.raises(SafetyError):
        engine.apply(plan)
    assert fake.writes() == []

    allowed = make_engine(
        policy=SafetyPolicy(allow_delete=True, allow_mass_delete=True)
    )
    allowed.apply(plan)
    # Children go with their namespace: one DELETE, nothing left behind.
    assert [(w.method, w.path) for w in fake.writes()] == [
        ("DELETE", f"/api/v1/namespaces/{PORTAL_NS}")
    ]
    assert allowed.plan(fewer).is_empty


def test_a_removed_role_binding_is_deleted_without_the_flag(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    make_engine().apply(make_engine().plan(example_desired))
    fewer = [
        r
        for r in example_desired
        if not (r.id.kind == "rolebinding" and r.id.key.endswith("/tenant-supervise"))
    ]
    engine = make_engine()
    plan = engine.plan(fewer)
    engine.apply(plan)

    assert [(c.action, c.id.kind) for c in plan] == [(Action.DELETE, "rolebinding")]
    assert engine.plan(fewer).is_empty


def test_an_invalid_manifest_stops_the_apply_before_any_write(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    broken = []
    for r in example_desired:
        if r.id.kind == "networkpolicy" and r.id.key == f"{PORTAL_NS}/allow-dns":
            attrs = {**r.attrs, "spec": {**r.attrs["spec"], "podSelectr": {}}}
            r = Resource(r.id, attrs, r.tenant, r.parent)
        broken.append(r)
    engine = make_engine()

    with pytest.raises(ManifestError) as caught:
        engine.apply(engine.plan(broken))
    assert caught.value.problems[0].file == f"NetworkPolicy {PORTAL_NS}/allow-dns"
    assert fake.writes() == []


def _rt(plural: str):  # type: ignore[no-untyped-def]
    from tests.fakes.kubernetes.state import RESOURCE_TYPES

    return RESOURCE_TYPES[plural]


def test_a_namespace_citycloud_does_not_manage_is_not_taken_over(
    make_engine: EngineFactory, example_desired: DesiredState, fake: FakeKubeApiServer
) -> None:
    _edit(fake).create_namespace(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PORTAL_NS}}
    )
    fake.reset_log()

    with pytest.raises(PlanError) as caught:
        make_engine().plan(example_desired)
    assert PORTAL_NS in str(caught.value)
    assert fake.writes() == []
