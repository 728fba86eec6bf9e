"""The plan: differences, order, safety rules, and the words people read."""

from __future__ import annotations

import json

import pytest

from citycloud.desired.model import Resource, ResourceId
from citycloud.errors import SafetyError
from citycloud.plan import (
    Action,
    SafetyPolicy,
    check_safety,
    make_plan,
    render_json,
    render_text,
)


def r(
    layer: str, kind: str, key: str, tenant: str | None = None, **attrs: object
) -> Resource:
    return Resource(ResourceId(layer, kind, key), attrs, tenant)


def tenant_set(slug: str, cores: int = 4) -> list[Resource]:
    return [
        r("openstack", "project", slug, slug, name=slug),
        r("openstack", "quota", slug, slug, cores=cores),
        r("openstack", "network", slug, slug, name=f"{slug}-net"),
        r("openstack", "server", f"{slug}/web-1", slug, flavor="c2.m4"),
    ]


def test_same_state_gives_an_empty_plan() -> None:
    plan = make_plan(tenant_set("a"), tenant_set("a"))
    assert plan.is_empty
    assert "无需变更" in render_text(plan, "zh")
    assert "No changes" in render_text(plan, "en")


def test_creates_run_parents_first() -> None:
    plan = make_plan(tenant_set("a"), [])
    assert [c.id.kind for c in plan] == ["project", "quota", "network", "server"]
    assert all(c.action is Action.CREATE for c in plan)


def test_deletes_run_children_first_and_before_creates() -> None:
    plan = make_plan(tenant_set("b"), tenant_set("a"))
    actions = [(c.action.value, c.id.kind) for c in plan]
    assert actions[:4] == [
        ("delete", "server"),
        ("delete", "network"),
        ("delete", "quota"),
        ("delete", "project"),
    ]
    assert actions[4] == ("create", "project")


def test_an_update_lists_the_fields_that_differ() -> None:
    plan = make_plan(tenant_set("a", cores=8), tenant_set("a", cores=4))
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert [(f.path, f.before, f.after) for f in change.fields] == [("cores", 4, 8)]
    assert "cores: 4 → 8" in render_text(plan)


def test_nested_fields_are_dotted() -> None:
    old = [
        r(
            "identity",
            "group",
            "1504",
            attributes={"tier": ["city"], "org_code": ["1504"]},
        )
    ]
    new = [
        r(
            "identity",
            "group",
            "1504",
            attributes={"tier": ["county"], "org_code": ["1504"]},
        )
    ]
    (change,) = make_plan(new, old).changes
    assert change.fields[0].path == "attributes.tier"


def test_plan_groups_by_layer_and_tenant() -> None:
    plan = make_plan([*tenant_set("a"), r("cloud", "flavor", "c2.m4", vcpus=2)], [])
    assert list(plan.by_layer()) == ["cloud", "openstack"]
    assert set(plan.by_tenant()) == {None, "a"}
    text = render_text(plan, "en")
    assert "OpenStack tenants: 4 to create" in text
    assert "[tenant a]" in text


def test_json_is_machine_readable() -> None:
    data = json.loads(render_json(make_plan(tenant_set("a"), [])))
    assert data["summary"] == {"create": 4, "update": 0, "delete": 0}
    assert data["layers"]["openstack"]["create"] == 4
    assert data["changes"][0]["tenant"] == "a"


def test_only_given_layers_are_compared() -> None:
    plan = make_plan(tenant_set("a"), [r("cloud", "flavor", "x")], layers=["openstack"])
    assert {c.id.layer for c in plan} == {"openstack"}


def test_deleting_a_tenant_needs_the_flag() -> None:
    plan = make_plan(
        [*tenant_set("a"), *tenant_set("b"), *tenant_set("c"), *tenant_set("d")],
        [
            *tenant_set("a"),
            *tenant_set("b"),
            *tenant_set("c"),
            *tenant_set("d"),
            *tenant_set("e"),
        ],
    )
    with pytest.raises(SafetyError, match="--allow-delete"):
        check_safety(plan, SafetyPolicy())
    check_safety(plan, SafetyPolicy(allow_delete=True))


def test_removing_a_rule_is_not_destructive() -> None:
    from citycloud.plan.safety import destructive_changes

    old = [r("openstack", "security_group_rule", "a/base/x", "a")]
    plan = make_plan([], old)
    assert destructive_changes(plan) == []
    check_safety(plan, SafetyPolicy())  # no --allow-delete needed


def test_mass_delete_needs_a_second_flag() -> None:
    old = [*tenant_set("a"), *tenant_set("b"), *tenant_set("c")]
    plan = make_plan(tenant_set("a"), old)
    assert plan.known_tenants == 3
    with pytest.raises(SafetyError, match="--allow-mass-delete"):
        check_safety(plan, SafetyPolicy(allow_delete=True))
    check_safety(plan, SafetyPolicy(allow_delete=True, allow_mass_delete=True))
    check_safety(plan, SafetyPolicy(allow_delete=True, max_delete_share=0.7))
