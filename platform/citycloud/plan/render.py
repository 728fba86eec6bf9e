"""The plan in words, for people (text) and for machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from citycloud.i18n import language, normalise, register, t
from citycloud.plan.model import Action, Change, Plan

SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
LAYER_NAMES = {
    "cloud": ("云平台", "Cloud"),
    "openstack": ("OpenStack 租户", "OpenStack tenants"),
    "identity": ("统一身份 (Keycloak)", "Identity (Keycloak)"),
    "kubernetes": ("容器 (Kubernetes)", "Kubernetes"),
    "monitoring": ("监控告警 (Prometheus)", "Monitoring (Prometheus)"),
    "dashboards": ("监控大屏 (Grafana)", "Dashboards (Grafana)"),
    "hosts": ("主机 (Ansible)", "Hosts (Ansible)"),
}

register(
    {
        "plan.title": {"zh": "变更计划", "en": "Plan"},
        "plan.empty": {
            "zh": "无需变更：实际状态与规格一致。",
            "en": "No changes: the actual state matches the spec.",
        },
        "plan.summary": {
            "zh": "共计：新建 {create}，修改 {update}，删除 {delete}",
            "en": "Total: {create} to create, {update} to change, {delete} to delete",
        },
        "plan.layer": {
            "zh": "{name}：新建 {create}，修改 {update}，删除 {delete}",
            "en": "{name}: {create} to create, {update} to change, {delete} to delete",
        },
        "plan.desired_only": {
            "zh": "（此层尚无实际状态可比，按期望状态全部列出）",
            "en": "(no actual state for this layer yet: planned from the desired state)",
        },
        "plan.shared": {"zh": "平台公共资源", "en": "shared"},
        "plan.tenant": {"zh": "租户 {tenant}", "en": "tenant {tenant}"},
        "plan.more": {"zh": "…… 另有 {count} 项", "en": "… and {count} more"},
    }
)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def change_line(change: Change) -> str:
    line = f"{SYMBOL[change.action]} {change.id.kind} {change.id.key}"
    if change.action is Action.UPDATE:
        fields = ", ".join(
            f"{f.path}: {_short(f.before)} → {_short(f.after)}"
            for f in change.fields[:4]
        )
        if len(change.fields) > 4:
            fields += ", …"
        line += f"  ({fields})"
    return line


def render_text(plan: Plan, lang: str | None = None, limit: int = 40) -> str:
    """Per layer, then per tenant, at most ``limit`` lines per tenant group."""
    return "\n".join(_lines(plan, lang, limit))


def _lines(plan: Plan, lang: str | None, limit: int) -> Iterator[str]:
    index = 0 if normalise(lang or language()) == "zh" else 1
    yield t("plan.title", lang=lang)
    if plan.is_empty:
        yield t("plan.empty", lang=lang)
    for layer, changes in plan.by_layer().items():
        counts = {a.value: sum(1 for c in changes if c.action is a) for a in Action}
        name = LAYER_NAMES.get(layer, (layer, layer))[index]
        yield ""
        yield t("plan.layer", lang=lang, name=name, **counts)
        if layer in plan.desired_only:
            yield "  " + t("plan.desired_only", lang=lang)
        groups: dict[str | None, list[Change]] = {}
        for change in changes:
            groups.setdefault(change.tenant, []).append(change)
        for tenant, group in sorted(
            groups.items(), key=lambda g: (g[0] is not None, g[0] or "")
        ):
            label = (
                t("plan.tenant", lang=lang, tenant=tenant)
                if tenant
                else t("plan.shared", lang=lang)
            )
            yield f"  [{label}]"
            for change in group[:limit]:
                yield "    " + change_line(change)
            if len(group) > limit:
                yield "    " + t("plan.more", lang=lang, count=len(group) - limit)
    for note in plan.notes:
        yield ""
        yield note
    yield ""
    yield t("plan.summary", lang=lang, **plan.counts())


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), ensure_ascii=False, indent=2, default=str)
