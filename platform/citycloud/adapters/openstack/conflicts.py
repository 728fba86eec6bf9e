"""Checks of the spec against what is live, run before anything is written.

Keystone and Neutron would accept some conflicting requests (a project name
reused in another domain, a CIDR that overlaps another project's network) and
the city would end up with ambiguous names or unroutable tenants. These checks
read the snapshot the plan was made from and fail the plan instead, naming the
tenant and the spec field to change.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from citycloud.adapters.openstack.live import LiveCloud
from citycloud.errors import PlanError
from citycloud.i18n import register, t

log = logging.getLogger(__name__)

register(
    {
        "openstack.conflict.cidr": {
            "zh": "租户 {tenant} 的 {field}（{cidr}）与云中已有网络 {network}"
            "（项目 {project}，子网 {other}）重叠",
            "en": "tenant {tenant}: {field} ({cidr}) overlaps the existing network "
            "{network} (project {project}, subnet {other})",
        },
        "openstack.conflict.project": {
            "zh": "租户 {tenant} 的 {field}（项目名 {name}）已被其他域 {domain} 占用",
            "en": "tenant {tenant}: {field} (project name {name}) is already used "
            "in another domain, {domain}",
        },
        "openstack.conflicts": {
            "zh": "规格与云中现状冲突：\n{details}",
            "en": "The spec conflicts with the live cloud:\n{details}",
        },
    }
)


@dataclass(frozen=True)
class TenantIntent:
    """What the conflict checks need to know about one tenant of the spec."""

    tenant: str
    project: str
    cidrs: tuple[str, ...]


def find_conflicts(
    intents: Iterable[TenantIntent], live: LiveCloud, domain_name: str
) -> list[str]:
    """Every conflict between the tenants and the live cloud, as messages."""
    problems: list[str] = []
    own_domain = live.domain["id"] if live.domain else None
    projects_by_id = {p["id"]: p for p in live.all_projects}
    networks_by_id = {n["id"]: n for n in live.networks}
    for intent in intents:
        own = live.project_by_name(intent.project)
        own_id = own["id"] if own else None
        for other in live.all_projects:
            if other["name"] == intent.project and other.get("domain_id") != own_domain:
                domain = live.domains.get(str(other.get("domain_id")), {})
                problems.append(
                    t(
                        "openstack.conflict.project",
                        tenant=intent.tenant,
                        field="slug",
                        name=intent.project,
                        domain=domain.get("name", other.get("domain_id")),
                    )
                )
        for cidr in intent.cidrs:
            wanted = ipaddress.ip_network(cidr, strict=False)
            for subnet in live.subnets:
                if own_id is not None and subnet.get("project_id") == own_id:
                    continue
                try:
                    existing = ipaddress.ip_network(subnet["cidr"], strict=False)
                except (KeyError, ValueError):
                    continue
                if existing.version != wanted.version or not existing.overlaps(wanted):
                    continue
                network = networks_by_id.get(str(subnet.get("network_id")), {})
                project = projects_by_id.get(str(subnet.get("project_id")), {})
                problems.append(
                    t(
                        "openstack.conflict.cidr",
                        tenant=intent.tenant,
                        field="network.cidr",
                        cidr=str(wanted),
                        network=network.get("name", subnet.get("network_id")),
                        project=project.get("name", subnet.get("project_id")),
                        other=subnet["cidr"],
                    )
                )
    for problem in problems:
        log.debug("conflict with live state: %s", problem)
    return problems


def check_conflicts(
    intents: Iterable[TenantIntent], live: LiveCloud, domain_name: str
) -> None:
    """Raise PlanError listing every conflict, if there is any."""
    problems = find_conflicts(intents, live, domain_name)
    if problems:
        raise PlanError(t("openstack.conflicts", details="\n".join(problems)))
