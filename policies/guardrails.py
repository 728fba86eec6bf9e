"""Guardrails every city cloud stack must keep, whoever writes the program:

* no ingress from the whole internet except on declared public ports;
* every tenant network private: not shared between projects, private
  address ranges only (the external provider network excepted);
* every tenant project has its quotas set.

Configuration (``pulumi policy enable ... --config``):
``publicPorts`` (default [443]) and ``externalNetworks`` (default ["external"]).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

RULE = "openstack:networking/secGroupRule:SecGroupRule"
NETWORK = "openstack:networking/network:Network"
SUBNET = "openstack:networking/subnet:Subnet"
PROJECT = "openstack:identity/project:Project"
COMPUTE_QUOTA = "openstack:compute/quotaSetV2:QuotaSetV2"
TENANT = "citycloud:openstack:Tenant"
REQUIRED_QUOTAS = ("instances", "cores", "ram")


def _config(args: Any, key: str, default: Any) -> Any:
    config: Mapping[str, Any] = args.get_config() or {}
    return config.get(key, default)


def _is_world(prefix: str | None) -> bool:
    if not prefix:
        return True  # no remote means any address
    return ipaddress.ip_network(prefix, strict=False).prefixlen == 0


def check_open_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RULE:
        return
    props = args.props
    if props.get("direction") != "ingress" or not _is_world(
        props.get("remoteIpPrefix")
    ):
        return
    public = {int(p) for p in _config(args, "publicPorts", [443])}
    low, high = props.get("portRangeMin"), props.get("portRangeMax")
    if props.get("protocol") in (None, "", "icmp") or low is None:
        report(
            f"{args.name}: ingress from anywhere on every port; open only public ports"
        )
        return
    opened = set(range(int(low), int(high or low) + 1))
    if not opened <= public:
        report(
            f"{args.name}: ingress from anywhere on ports {low}-{high or low}; "
            f"only {sorted(public)} may be public"
        )


def check_private_networks(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    externals = set(_config(args, "externalNetworks", ["external"]))
    props = args.props
    if args.resource_type == NETWORK:
        if props.get("external") and props.get("name") not in externals:
            report(f"{args.name}: only {sorted(externals)} may be external networks")
        if props.get("shared"):
            report(f"{args.name}: a network shared with every project is not private")
    elif args.resource_type == SUBNET:
        cidr = props.get("cidr")
        provider = str(args.name).startswith("external-")
        if (
            cidr
            and not provider
            and not ipaddress.ip_network(cidr, strict=False).is_private
        ):
            report(f"{args.name}: {cidr} is not a private range")


def check_quotas(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every tenant component holds a project and a compute quota set that
    limits instances, cores and RAM (a value of -1, unlimited, is allowed
    where the spec says so; absent is not)."""
    children: dict[str, list[Any]] = {}
    for resource in args.resources:
        parent = resource.parent
        if parent is not None and parent.resource_type == TENANT:
            children.setdefault(parent.urn, []).append(resource)
    for resource in args.resources:
        if resource.resource_type != TENANT:
            continue
        mine = children.get(resource.urn, [])
        quotas = [c for c in mine if c.resource_type == COMPUTE_QUOTA]
        if not any(c.resource_type == PROJECT for c in mine):
            continue
        if not quotas:
            report(f"tenant {resource.name} has no compute quota set", resource.urn)
            continue
        missing = [k for k in REQUIRED_QUOTAS if quotas[0].props.get(k) is None]
        if missing:
            report(
                f"tenant {resource.name} sets no quota for {', '.join(missing)}",
                resource.urn,
            )


POLICIES = [
    ResourceValidationPolicy(
        name="no-open-ingress",
        description="Ingress from 0.0.0.0/0 only on declared public ports.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_open_ingress,
    ),
    ResourceValidationPolicy(
        name="tenant-networks-private",
        description="Tenant networks are not shared and use private ranges.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_private_networks,
    ),
    StackValidationPolicy(
        name="tenant-quotas-set",
        description="Every tenant project has compute quotas set.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_quotas,
    ),
]
