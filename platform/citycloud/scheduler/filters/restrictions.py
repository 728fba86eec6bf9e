"""Tenant host restrictions, both ways.

A workload may be limited to some hosts or racks (its tenant's choice), and a
host may be dedicated to some tenants (nobody else lands there).
"""

from __future__ import annotations

from citycloud.scheduler.model import Workload
from citycloud.scheduler.rules import Context
from citycloud.scheduler.state import HostState


class TenantRestrictionFilter:
    name = "tenant_restrictions"
    resolvable_by_displacement = False

    def reject(self, state: HostState, workload: Workload, ctx: Context) -> str | None:
        host = state.host
        if host.dedicated_to and workload.tenant not in host.dedicated_to:
            return "host dedicated to " + ",".join(sorted(host.dedicated_to))
        if workload.allowed_hosts and host.name not in workload.allowed_hosts:
            return "not in the tenant's allowed hosts"
        if workload.allowed_racks and host.rack not in workload.allowed_racks:
            return f"rack {host.rack} not in the tenant's allowed racks"
        return None
