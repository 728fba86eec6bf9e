"""One VM tenant: its project with quotas, a private network behind its own
router, the base security group and rules, servers and volumes. Servers and
volumes are created in the tenant's own project through a provider scoped to
it, so they count against the tenant's quotas."""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_openstack as openstack
from cloud import DEFAULT_VOLUME_TYPE, CityCloud

from citycloud.desired.model import Resource

COMPUTE_QUOTAS = {"instances": "instances", "cores": "cores", "ram_mb": "ram"}
NETWORK_QUOTAS = {
    "floating_ips": "floatingip",
    "networks": "network",
    "security_groups": "security_group",
    "security_group_rules": "security_group_rule",
}
VOLUME_QUOTAS = {"volumes": "volumes", "gigabytes": "gigabytes"}


def _pick(attrs: dict[str, object], names: dict[str, str]) -> dict[str, object]:
    return {ours: attrs[theirs] for theirs, ours in names.items() if theirs in attrs}


class Tenant(pulumi.ComponentResource):
    project_id: pulumi.Output[str]

    def __init__(
        self,
        slug: str,
        resources: Iterable[Resource],
        cloud: CityCloud,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("citycloud:openstack:Tenant", slug, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        by_kind: dict[str, list[Resource]] = {}
        for resource in resources:
            by_kind.setdefault(resource.id.kind, []).append(resource)

        (project_res,) = by_kind["project"]
        p = project_res.attrs
        project = openstack.identity.Project(
            f"{slug}-project",
            name=p["name"],
            description=p["description"],
            enabled=p["enabled"],
            domain_id=cloud.domain_id,
            opts=child,
        )
        self.project_id = project.id
        for quota in by_kind.get("quota", []):
            q = dict(quota.attrs)
            compute = _pick(q, COMPUTE_QUOTAS)
            if compute:
                openstack.compute.QuotaSetV2(
                    f"{slug}-compute-quota",
                    project_id=project.id,
                    **compute,
                    opts=child,
                )
            network = _pick(q, NETWORK_QUOTAS)
            if network:
                openstack.networking.QuotaV2(
                    f"{slug}-network-quota",
                    project_id=project.id,
                    **network,
                    opts=child,
                )
            volume = _pick(q, VOLUME_QUOTAS)
            if volume:
                openstack.blockstorage.QuoteSetV3(
                    f"{slug}-volume-quota", project_id=project.id, **volume, opts=child
                )

        (net_res,) = by_kind["network"]
        network_ = openstack.networking.Network(
            f"{slug}-net",
            name=net_res.attrs["name"],
            tenant_id=project.id,
            shared=net_res.attrs["shared"],
            opts=child,
        )
        (subnet_res,) = by_kind["subnet"]
        s = subnet_res.attrs
        subnet = openstack.networking.Subnet(
            f"{slug}-subnet",
            name=s["name"],
            tenant_id=project.id,
            network_id=network_.id,
            cidr=s["cidr"],
            gateway_ip=s["gateway_ip"],
            dns_nameservers=list(s["dns_nameservers"]),
            enable_dhcp=s["enable_dhcp"],
            opts=child,
        )
        (router_res,) = by_kind["router"]
        r = router_res.attrs
        external = cloud.external_networks.get(r["external_network"] or "")
        router = openstack.networking.Router(
            f"{slug}-router",
            name=r["name"],
            tenant_id=project.id,
            external_network_id=external.id if external is not None else None,
            opts=child,
        )
        openstack.networking.RouterInterface(
            f"{slug}-router-interface",
            router_id=router.id,
            subnet_id=subnet.id,
            opts=child,
        )

        groups: dict[str, openstack.networking.SecGroup] = {}
        for group in by_kind.get("security_group", []):
            g = group.attrs
            groups[g["name"]] = openstack.networking.SecGroup(
                f"{slug}-sg-{group.id.key.split('/', 1)[1]}",
                name=g["name"],
                description=g["description"],
                tenant_id=project.id,
                opts=child,
            )
        for rule in by_kind.get("security_group_rule", []):
            a = rule.attrs
            openstack.networking.SecGroupRule(
                f"{slug}-rule-{rule.id.key.split('/', 2)[2]}",
                security_group_id=groups[a["security_group"]].id,
                tenant_id=project.id,
                direction=a["direction"],
                ethertype=a["ethertype"],
                protocol=a["protocol"],
                port_range_min=a["port_range_min"],
                port_range_max=a["port_range_max"],
                remote_ip_prefix=a["remote_ip_prefix"],
                description=a["description"],
                opts=child,
            )

        scoped = openstack.Provider(f"{slug}-scoped", tenant_id=project.id, opts=child)
        in_project = pulumi.ResourceOptions(parent=self, provider=scoped)
        servers: dict[str, openstack.compute.Instance] = {}
        for server in sorted(by_kind.get("server", []), key=lambda x: x.id.key):
            a = server.attrs
            servers[a["name"]] = openstack.compute.Instance(
                a["name"],
                name=a["name"],
                flavor_name=a["flavor"],
                image_name=a["image"],
                networks=[openstack.compute.InstanceNetworkArgs(uuid=network_.id)],
                security_groups=[groups[name].name for name in a["security_groups"]],
                metadata={
                    "citycloud-app": a["app"],
                    "citycloud-priority": a["priority"],
                },
                opts=in_project,
            )
        for volume in sorted(by_kind.get("volume", []), key=lambda x: x.id.key):
            a = volume.attrs
            created = openstack.blockstorage.Volume(
                a["name"],
                name=a["name"],
                size=a["size_gb"],
                volume_type=None
                if a["volume_type"] == DEFAULT_VOLUME_TYPE
                else a["volume_type"],
                opts=in_project,
            )
            if a.get("server") in servers:
                openstack.compute.VolumeAttach(
                    f"{a['name']}-attach",
                    instance_id=servers[a["server"]].id,
                    volume_id=created.id,
                    opts=in_project,
                )
        self.register_outputs({"project_id": project.id, "network_id": network_.id})
