"""The plan's access summary: who gains or loses access, in words."""

from __future__ import annotations

from typing import Any

import pytest

from citycloud.desired.model import ResourceId
from citycloud.plan.access import access_note, access_summary
from citycloud.plan.model import Action, Change

NAMES = {"1504": "赤峰市", "150402": "红山区", "150404": "松山区"}


def rule(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tiers": ["county", "township"],
        "roles": ["staff"],
        "departments": [],
        "scope": "owner",
        "owner": "150402",
    }
    return {**base, **kw}


def client_change(action: Action, before: Any, after: Any) -> Change:
    attrs_before = None if before is False else {"name": "网格化管理", "access": before}
    attrs_after = None if after is False else {"name": "网格化管理", "access": after}
    return Change(
        action,
        ResourceId("identity", "client", "grid-web"),
        "grid",
        attrs_before,
        attrs_after,
    )


APP = "应用「网格化管理」："
HONGSHAN = "红山区及其下属单位"


def says(orgs: str, tiers: str, roles: str, verb: str, departments: str = "") -> str:
    return f"{APP}{orgs}（{tiers}）中具有 {roles} 角色{departments}的人员将{verb}访问。"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            rule(),
            rule(roles=["staff", "ops"]),
            [says(HONGSHAN, "县级、乡级", "ops", "获得")],
        ),
        (
            rule(roles=["staff", "ops"]),
            rule(),
            [says(HONGSHAN, "县级、乡级", "ops", "失去")],
        ),
        (
            rule(),
            rule(tiers=["county", "township", "village"]),
            [says(HONGSHAN, "村级", "staff", "获得")],
        ),
        (
            rule(),
            rule(scope="city"),
            [says(f"{HONGSHAN}以外的全市各单位", "县级、乡级", "staff", "获得")],
        ),
        (
            rule(),
            rule(owner="150404"),
            [
                says(HONGSHAN, "县级、乡级", "staff", "失去"),
                says("松山区及其下属单位", "县级、乡级", "staff", "获得"),
            ],
        ),
        (
            rule(),
            rule(departments=["应急管理局"]),
            [says(HONGSHAN, "县级、乡级", "staff", "失去", "（应急管理局以外的部门）")],
        ),
    ],
    ids=[
        "role-added",
        "role-removed",
        "tier-added",
        "opened-city-wide",
        "new-owner",
        "narrowed-to-department",
    ],
)
def test_updates_say_who_gains_or_loses(
    before: Any, after: Any, expected: list[str]
) -> None:
    change = client_change(Action.UPDATE, before, after)
    assert access_summary([change], NAMES, "zh") == expected


def test_new_and_removed_apps_name_their_audience() -> None:
    created = client_change(Action.CREATE, False, rule())
    deleted = client_change(Action.DELETE, rule(scope="city"), False)
    lines = access_summary([created, deleted], NAMES, "en")
    assert lines[0].startswith("New app “网格化管理”: people with role staff")
    assert "红山区 and the units under it" in lines[0]
    assert lines[1].endswith("every unit of the city will lose access.")


def test_changes_that_do_not_touch_access_say_nothing() -> None:
    unchanged = client_change(Action.UPDATE, rule(), rule())
    group = Change(
        Action.CREATE,
        ResourceId("identity", "group", "150402"),
        None,
        None,
        {"name": "红山区"},
    )
    assert access_summary([unchanged, group], NAMES, "zh") == []
    assert access_note([unchanged], NAMES, "zh") is None


def test_the_note_is_part_of_the_plan_text(tmp_path: Any) -> None:
    from citycloud.apply import make_workspace, plan_workspace
    from citycloud.plan import render_text
    from citycloud.spec import load_spec
    from citycloud.store import StateStore
    from tests.fakes.keycloak.chifeng import EXAMPLE

    spec = load_spec(EXAMPLE)
    ws = make_workspace(
        spec, StateStore(f"sqlite:///{tmp_path}/s.db"), layers=["identity"]
    )
    text = render_text(plan_workspace(ws), lang="zh")
    assert "访问权限变化" in text
    assert "将可以访问" in text
