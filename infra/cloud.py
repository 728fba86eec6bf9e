"""The cloud itself: the city's domain, flavors, images, volume types, the
external network with its floating range, and one aggregate (with its
availability zone) per rack."""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_openstack as openstack

from citycloud.desired.model import Resource

DEFAULT_VOLUME_TYPE = "__DEFAULT__"


class CityCloud(pulumi.ComponentResource):
    domain_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        resources: Iterable[Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("citycloud:openstack:City", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config = pulumi.Config("citycloud")
        sources: dict[str, str] = config.get_object("imageSources") or {}
        by_kind: dict[str, list[Resource]] = {}
        for resource in resources:
            by_kind.setdefault(resource.id.kind, []).append(resource)

        (domain,) = by_kind.get("domain", [])
        d = domain.attrs
        self.domain = openstack.identity.Project(
            f"domain-{d['name']}",
            name=d["name"],
            description=d["description"],
            enabled=d["enabled"],
            is_domain=True,
            opts=child,
        )
        self.domain_id = self.domain.id

        for flavor in by_kind.get("flavor", []):
            f = flavor.attrs
            openstack.compute.Flavor(
                f"flavor-{f['name']}",
                name=f["name"],
                vcpus=f["vcpus"],
                ram=f["ram_mb"],
                disk=f["disk_gb"],
                is_public=f["is_public"],
                opts=child,
            )
        for image in by_kind.get("image", []):
            i = image.attrs
            if i["name"] not in sources:
                pulumi.log.warn(
                    f"image {i['name']}: no citycloud:imageSources entry; not managed here"
                )
                continue
            openstack.images.Image(
                f"image-{i['name']}",
                name=i["name"],
                container_format=i["container_format"],
                disk_format=i["disk_format"],
                min_disk_gb=i["min_disk_gb"],
                visibility=i["visibility"],
                image_source_url=sources[i["name"]],
                opts=child,
            )
        for volume_type in by_kind.get("volume_type", []):
            v = volume_type.attrs
            openstack.blockstorage.VolumeTypeV3(
                f"volume-type-{v['name']}",
                name=v["name"],
                is_public=v["is_public"],
                extra_specs={"volume_backend_name": v["backend"]},
                opts=child,
            )

        self.external_networks: dict[str, openstack.networking.Network] = {}
        for network in by_kind.get("external_network", []):
            n = network.attrs
            self.external_networks[n["name"]] = openstack.networking.Network(
                f"external-{n['name']}",
                name=n["name"],
                external=True,
                shared=n["shared"],
                segments=[
                    openstack.networking.NetworkSegmentArgs(
                        physical_network=n["physical_network"],
                        network_type=n["network_type"],
                        segmentation_id=n["segmentation_id"],
                    )
                ],
                opts=child,
            )
        for subnet in by_kind.get("external_subnet", []):
            s = subnet.attrs
            openstack.networking.Subnet(
                f"external-subnet-{subnet.id.key}",
                name=s["name"],
                network_id=self.external_networks[s["network"]].id,
                cidr=s["cidr"],
                gateway_ip=s["gateway_ip"],
                enable_dhcp=s["enable_dhcp"],
                allocation_pools=[
                    openstack.networking.SubnetAllocationPoolArgs(start=start, end=end)
                    for start, end in s["allocation_pools"]
                ],
                opts=child,
            )
        for aggregate in by_kind.get("aggregate", []):
            a = aggregate.attrs
            openstack.compute.AggregateV2(
                f"aggregate-{a['name']}",
                name=a["name"],
                zone=a["availability_zone"],
                hosts=a["hosts"],
                opts=child,
            )
        self.register_outputs(
            {
                "domain_id": self.domain_id,
                "external_networks": {
                    k: v.id for k, v in self.external_networks.items()
                },
            }
        )
