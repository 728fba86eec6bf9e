"""Turn a live snapshot into the desired state's resource shapes.

The plan is a plain difference, so every value the desired state carries must
be read back in the same form: names rather than IDs, the spec's quota names,
``None`` where the spec leaves a field unset. Whatever OpenStack adds on its
own is left out on this side, consistently: Neutron's default egress rules and
each project's ``default`` security group, quota keys the spec does not set,
and projects outside the city's domain.

Values the APIs have no field for (a project's owning organisation, a server's
app) are kept in Keystone project properties and Nova server metadata, under
the ``citycloud_`` prefix, and read back from there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from citycloud.adapters.openstack.live import LiveCloud, Raw
from citycloud.desired.model import DesiredState, Resource, ResourceId, res

log = logging.getLogger(__name__)

PROJECT_PROPS = ("owner", "tier")
SERVER_META = ("app", "workload", "priority")
DEFAULT_GROUP = "default"


def meta_key(name: str) -> str:
    return f"citycloud_{name}"


def rule_key(attrs: Mapping[str, Any]) -> str:
    """The rule's identity, built exactly as the desired state builds it."""
    low, high = attrs.get("port_range_min"), attrs.get("port_range_max")
    if low is None:
        ports = "all"
    elif high in (None, low):
        ports = str(low)
    else:
        ports = f"{low}-{high}"
    protocol = attrs.get("protocol") or "any"
    return f"{attrs['direction']}-{protocol}-{ports}-{attrs.get('remote_ip_prefix')}"


def is_default_egress(rule: Mapping[str, Any]) -> bool:
    """Neutron adds these to every group; the spec never lists them."""
    return (
        rule.get("direction") == "egress"
        and not rule.get("protocol")
        and rule.get("port_range_min") is None
        and not rule.get("remote_ip_prefix")
        and not rule.get("remote_group_id")
    )


def _flavor(item: Raw) -> Resource:
    return res(
        "cloud",
        "flavor",
        item["name"],
        {
            "name": item["name"],
            "vcpus": item.get("vcpus"),
            "ram_mb": item.get("ram"),
            "disk_gb": item.get("disk"),
            "is_public": bool(item.get("is_public", True)),
        },
    )


def _image(item: Raw) -> Resource:
    return res(
        "cloud",
        "image",
        item["name"],
        {
            "name": item["name"],
            "disk_format": item.get("disk_format"),
            "container_format": item.get("container_format"),
            "min_disk_gb": item.get("min_disk") or 0,
            "visibility": item.get("visibility"),
        },
    )


def cloud_layer(live: LiveCloud, desired: DesiredState) -> Iterator[Resource]:
    """Cloud-wide resources that exist and that citycloud manages.

    Flavors, images and volume types are shared with whatever else runs on the
    cloud, so only those the desired state names are reported: an unrelated
    flavor is never planned for deletion.
    """
    wanted = {r.id for r in desired.layer("cloud")}
    if live.domain is not None:
        domain = live.domain
        yield res(
            "cloud",
            "domain",
            domain["name"],
            {
                "name": domain["name"],
                "description": domain.get("description") or "",
                "enabled": bool(domain.get("is_enabled", True)),
            },
        )
    for flavor in live.flavors:
        if ResourceId("cloud", "flavor", flavor["name"]) in wanted:
            yield _flavor(flavor)
    for image in live.images:
        if ResourceId("cloud", "image", image.get("name") or "") in wanted:
            yield _image(image)
    for vtype in live.volume_types:
        if ResourceId("cloud", "volume_type", vtype["name"]) in wanted:
            specs = vtype.get("extra_specs") or {}
            yield res(
                "cloud",
                "volume_type",
                vtype["name"],
                {
                    "name": vtype["name"],
                    "backend": specs.get("volume_backend_name"),
                    "is_public": bool(vtype.get("is_public", True)),
                },
            )
    subnets_by_net: dict[str, list[Raw]] = {}
    for subnet in live.subnets:
        subnets_by_net.setdefault(str(subnet.get("network_id")), []).append(subnet)
    for net in live.networks:
        if not net.get("is_router_external"):
            continue
        net_id = ResourceId("cloud", "external_network", net["name"])
        if net_id not in wanted:
            continue
        yield Resource(
            net_id,
            {
                "name": net["name"],
                "physical_network": net.get("provider_physical_network"),
                "network_type": net.get("provider_network_type"),
                "segmentation_id": net.get("provider_segmentation_id"),
                "external": True,
                "shared": bool(net.get("is_shared")),
            },
        )
        for subnet in subnets_by_net.get(net["id"], [])[:1]:
            pools = [
                [p["start"], p["end"]] for p in subnet.get("allocation_pools") or []
            ]
            yield res(
                "cloud",
                "external_subnet",
                net["name"],
                {
                    "name": subnet["name"],
                    "network": net["name"],
                    "cidr": subnet["cidr"],
                    "gateway_ip": subnet.get("gateway_ip"),
                    "allocation_pools": pools,
                    "enable_dhcp": bool(subnet.get("is_dhcp_enabled")),
                },
                parent=net_id,
            )
    for aggregate in live.aggregates:
        if ResourceId("cloud", "aggregate", aggregate["name"]) not in wanted:
            continue
        yield res(
            "cloud",
            "aggregate",
            aggregate["name"],
            {
                "name": aggregate["name"],
                "availability_zone": aggregate.get("availability_zone"),
                "hosts": sorted(aggregate.get("hosts") or []),
            },
        )


def _quota_keys(desired: DesiredState) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    for quota in desired.kind("openstack", "quota"):
        keys[quota.key] = {k for k in quota.attrs if k != "project"}
    return keys


def openstack_layer(live: LiveCloud, desired: DesiredState) -> Iterator[Resource]:
    """Every tenant resource found in the city's domain."""
    if live.domain is None:
        return
    quota_keys = _quota_keys(desired)
    domain_name = live.domain["name"]
    images = {i["id"]: i.get("name") for i in live.images}
    for project in live.projects:
        slug = project["name"]
        yield from _tenant(live, project, slug, domain_name, quota_keys, images)


def _tenant(
    live: LiveCloud,
    project: Raw,
    slug: str,
    domain_name: str,
    quota_keys: Mapping[str, set[str]],
    images: Mapping[str, str | None],
) -> Iterator[Resource]:
    pid = project["id"]
    project_rid = ResourceId("openstack", "project", slug)

    def child(kind: str, key: str, attrs: dict[str, Any]) -> Resource:
        return res("openstack", kind, key, attrs, tenant=slug, parent=project_rid)

    yield Resource(
        project_rid,
        {
            "name": slug,
            "domain": domain_name,
            "description": project.get("description") or "",
            "enabled": bool(project.get("is_enabled", True)),
            **{name: project.get(meta_key(name)) or None for name in PROJECT_PROPS},
        },
        tenant=slug,
    )
    quota = live.quotas.get(pid)
    if quota is not None:
        keys = quota_keys.get(slug, set())
        yield child(
            "quota",
            slug,
            {"project": slug, **{k: v for k, v in quota.limits.items() if k in keys}},
        )
    prefix = f"{slug}-"
    networks = live.owned_by(pid, live.networks)
    net_names = {n["id"]: n["name"] for n in networks}
    for net in networks:
        yield child(
            "network",
            _key(slug, net["name"], "net"),
            {
                "name": net["name"],
                "project": slug,
                "shared": bool(net.get("is_shared")),
            },
        )
    subnets = live.owned_by(pid, live.subnets)
    subnet_names = {s["id"]: s["name"] for s in subnets}
    for subnet in subnets:
        yield child(
            "subnet",
            _key(slug, subnet["name"], "subnet"),
            {
                "name": subnet["name"],
                "project": slug,
                "network": net_names.get(str(subnet.get("network_id"))),
                "cidr": subnet["cidr"],
                "gateway_ip": subnet.get("gateway_ip"),
                "dns_nameservers": list(subnet.get("dns_nameservers") or []),
                "enable_dhcp": bool(subnet.get("is_dhcp_enabled")),
            },
        )
    ext_names = {
        n["id"]: n["name"] for n in live.networks if n.get("is_router_external")
    }
    for router in live.owned_by(pid, live.routers):
        gateway = router.get("external_gateway_info") or {}
        interfaces = sorted(
            {
                subnet_names.get(ip.get("subnet_id"), ip.get("subnet_id"))
                for port in live.router_ports
                if port.get("device_id") == router["id"]
                for ip in port.get("fixed_ips") or []
            }
        )
        yield child(
            "router",
            _key(slug, router["name"], "router"),
            {
                "name": router["name"],
                "project": slug,
                "external_network": ext_names.get(gateway.get("network_id")),
                "interfaces": interfaces,
            },
        )
    groups = [
        g
        for g in live.owned_by(pid, live.security_groups)
        if g["name"] != DEFAULT_GROUP
    ]
    for group in groups:
        short = (
            group["name"][len(prefix) :]
            if group["name"].startswith(prefix)
            else group["name"]
        )
        group_key = f"{slug}/{short}"
        yield child(
            "security_group",
            group_key,
            {
                "name": group["name"],
                "project": slug,
                "description": group.get("description") or "",
            },
        )
        for rule in live.security_group_rules:
            if rule.get("security_group_id") != group["id"] or is_default_egress(rule):
                continue
            attrs = {
                "security_group": group["name"],
                "project": slug,
                "direction": rule["direction"],
                "ethertype": rule.get("ether_type") or rule.get("ethertype"),
                "protocol": rule.get("protocol"),
                "port_range_min": rule.get("port_range_min"),
                "port_range_max": rule.get("port_range_max"),
                "remote_ip_prefix": rule.get("remote_ip_prefix"),
                "description": rule.get("description") or "",
            }
            yield child("security_group_rule", f"{group_key}/{rule_key(attrs)}", attrs)
    servers = live.owned_by(pid, live.servers)
    server_names = {s["id"]: s["name"] for s in servers}
    for server in servers:
        metadata = server.get("metadata") or {}
        flavor = server.get("flavor") or {}
        image = server.get("image") or {}
        addresses = server.get("addresses") or {}
        yield child(
            "server",
            _key(slug, server["name"], None),
            {
                "name": server["name"],
                "project": slug,
                "flavor": flavor.get("original_name") or flavor.get("name"),
                "image": images.get(image.get("id", "")) if image else None,
                "network": sorted(addresses)[0] if addresses else None,
                "security_groups": sorted(
                    {g["name"] for g in server.get("security_groups") or []}
                ),
                **{name: metadata.get(meta_key(name)) for name in SERVER_META},
            },
        )
    for volume in live.owned_by(pid, live.volumes):
        attached = [a.get("server_id") for a in volume.get("attachments") or []]
        yield child(
            "volume",
            _key(slug, volume.get("name") or volume["id"], None),
            {
                "name": volume.get("name") or volume["id"],
                "project": slug,
                "size_gb": volume.get("size"),
                "volume_type": volume.get("volume_type"),
                "server": server_names.get(attached[0]) if attached else None,
            },
        )


def _key(slug: str, name: str, suffix: str | None) -> str:
    """The desired state's key for a tenant resource named ``name``.

    One network, subnet and router per tenant are keyed by the slug alone;
    servers and volumes by ``slug/<name without the slug prefix>``.
    """
    if suffix is not None and name == f"{slug}-{suffix}":
        return slug
    if suffix is not None:
        return f"{slug}/{name}"
    prefix = f"{slug}-"
    short = name[len(prefix) :] if name.startswith(prefix) else name
    return f"{slug}/{short}"


def observe(live: LiveCloud, desired: DesiredState) -> list[Resource]:
    """Actual state of the ``cloud`` and ``openstack`` layers."""
    found = [*cloud_layer(live, desired), *openstack_layer(live, desired)]
    log.debug("observed %d resource(s)", len(found))
    return found
