"""Refuse quota changes that would put a tenant over its limit.

Nova, Cinder and Neutron accept a limit below current usage and then refuse
every new server or volume, which looks to the department like an outage. So
a lowered limit is compared with live usage first, and refused unless the
operator forces it. ``-1`` means unlimited and is never below usage.
"""

from __future__ import annotations

from collections.abc import Mapping

from citycloud.errors import SafetyError
from citycloud.i18n import register, t

register(
    {
        "openstack.quota.below_usage": {
            "zh": "租户 {tenant} 的配额 {name} 将降为 {limit}，低于当前用量 {used}",
            "en": "tenant {tenant}: quota {name} would drop to {limit}, "
            "below its current usage of {used}",
        },
        "openstack.quota.refused": {
            "zh": "已拒绝降低配额（如确需执行，请加 --force-quota）：\n{details}",
            "en": "Lowering quotas below usage is refused "
            "(use --force-quota to do it anyway):\n{details}",
        },
    }
)


def below_usage(
    tenant: str, limits: Mapping[str, int], usage: Mapping[str, int]
) -> list[str]:
    """Messages for each limit in ``limits`` lower than the tenant's usage."""
    problems = []
    for name, limit in sorted(limits.items()):
        used = usage.get(name, 0)
        if limit != -1 and used > limit:
            problems.append(
                t(
                    "openstack.quota.below_usage",
                    tenant=tenant,
                    name=name,
                    limit=limit,
                    used=used,
                )
            )
    return problems


def refuse_quota_cuts(problems: list[str], *, force: bool) -> None:
    if problems and not force:
        raise SafetyError(t("openstack.quota.refused", details="\n".join(problems)))
