"""Safety rules: what a plan may not do without a person saying so.

Deleting what holds data or grants access (a tenant's project, volumes,
servers, a namespace, an organisation's group) needs an explicit flag; a plan
that would delete more than a share of the tenants needs a second one.
"""

from __future__ import annotations

from dataclasses import dataclass

from citycloud.errors import SafetyError
from citycloud.i18n import register, t
from citycloud.plan.model import TENANT_ROOTS, Action, Plan

DESTRUCTIVE: frozenset[tuple[str, str]] = frozenset(
    {
        ("cloud", "domain"),
        ("cloud", "external_network"),
        ("cloud", "image"),
        ("openstack", "project"),
        ("openstack", "server"),
        ("openstack", "volume"),
        ("openstack", "network"),
        ("identity", "realm"),
        ("identity", "group"),
        ("identity", "client"),
        ("kubernetes", "namespace"),
        ("hosts", "host"),
    }
)

register(
    {
        "safety.delete": {
            "zh": "计划将删除 {count} 个会丢失数据或权限的资源（{sample}）；确认无误后加 --allow-delete 重新运行",
            "en": "the plan deletes {count} resource(s) that hold data or access ({sample}); "
            "re-run with --allow-delete if that is intended",
        },
        "safety.mass": {
            "zh": "计划将删除 {deleted}/{total} 个租户（{share:.0%}，上限 {limit:.0%}）；"
            "确认无误后再加 --allow-mass-delete",
            "en": "the plan deletes {deleted} of {total} tenants ({share:.0%}, limit "
            "{limit:.0%}); add --allow-mass-delete if that is intended",
        },
    }
)


register(
    {
        "safety.rename": {
            "zh": "。若是改了租户名称（{gone} → {new}），请在规格中写上原来的 slug，"
            "租户即按修改处理，而不是删除后重建",
            "en": ". If a tenant was renamed ({gone} → {new}), write its old slug in "
            "the spec so it is changed rather than deleted and created again",
        },
        "safety.warn": {
            "zh": "注意：按此计划执行 apply 将被拒绝：{message}",
            "en": "Note: apply would refuse this plan: {message}",
        },
    }
)


def created_tenants(plan: Plan) -> set[str]:
    return {
        c.tenant or c.id.key
        for c in plan
        if c.action is Action.CREATE and (c.id.layer, c.id.kind) in TENANT_ROOTS
    }


def _rename_hint(plan: Plan) -> str:
    gone, new = sorted(deleted_tenants(plan)), sorted(created_tenants(plan))
    if not gone or not new:
        return ""
    return t("safety.rename", gone=", ".join(gone[:3]), new=", ".join(new[:3]))


@dataclass(frozen=True)
class SafetyPolicy:
    allow_delete: bool = False
    allow_mass_delete: bool = False
    max_delete_share: float = 0.25


def destructive_changes(plan: Plan) -> list[str]:
    return [
        str(c.id)
        for c in plan
        if c.action is Action.DELETE and (c.id.layer, c.id.kind) in DESTRUCTIVE
    ]


def deleted_tenants(plan: Plan) -> set[str]:
    """Tenants whose top resource (project or namespace) the plan deletes."""
    return {
        c.tenant or c.id.key
        for c in plan
        if c.action is Action.DELETE and (c.id.layer, c.id.kind) in TENANT_ROOTS
    }


def check_safety(plan: Plan, policy: SafetyPolicy) -> None:
    """Raise SafetyError if ``plan`` breaks a rule the policy does not waive."""
    known_tenants = plan.known_tenants
    risky = destructive_changes(plan)
    if risky and not policy.allow_delete:
        sample = ", ".join(risky[:3]) + (" …" if len(risky) > 3 else "")
        raise SafetyError(
            t("safety.delete", count=len(risky), sample=sample) + _rename_hint(plan)
        )
    gone = len(deleted_tenants(plan))
    if gone and known_tenants:
        share = gone / known_tenants
        if share > policy.max_delete_share and not policy.allow_mass_delete:
            raise SafetyError(
                t(
                    "safety.mass",
                    deleted=gone,
                    total=known_tenants,
                    share=share,
                    limit=policy.max_delete_share,
                )
            )
