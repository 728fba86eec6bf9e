"""The Ansible inventory holds exactly the tenants the plan changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.adapters.ansible.tenants import OpsUser, tenant_hosts
from citycloud.adapters.openstack.observe import observe
from citycloud.desired import build_desired
from citycloud.plan import make_plan
from citycloud.spec import load_spec
from tests.integration.openstack.cityspec import tenant, write_spec
from tests.unit.openstack.test_openstack_observe import live_for_oa

OPS = OpsUser("admin", "Default")


def test_only_changed_tenants_run_and_removed_ones_are_emptied(tmp_path: Path) -> None:
    spec_dir = write_spec(
        tmp_path / "spec",
        [
            tenant("oa", "协同办公", 1, servers=1, volume_gb=1),
            tenant("hr", "人事管理", 2),
        ],
    )
    desired = build_desired(load_spec(spec_dir), ["openstack"])
    live = live_for_oa()
    live.projects.append({"id": "p-old", "name": "old", "domain_id": "d-1"})
    live.servers.append({"id": "vm-old", "name": "old-x", "project_id": "p-old"})
    live.floating_ips = [{"id": "fip-old", "project_id": "p-old"}]
    plan = make_plan(desired, observe(live, desired), ["openstack"])

    hosts = tenant_hosts(plan, desired, live, OPS, "devcloud-admin")

    assert sorted(hosts) == ["hr", "old"]  # oa already matches: it does not run
    hr = hosts["hr"]
    assert hr["citycloud_tenant_state"] == "present"
    assert hr["citycloud_tenant_quota"]["ram"] == 4096
    assert hr["citycloud_tenant_subnets"][0]["cidr"] == "10.77.2.0/24"
    assert hr["citycloud_tenant_routers"][0]["interfaces"] == ["hr-subnet"]
    old = hosts["old"]
    assert old["citycloud_tenant_state"] == "absent"
    assert old["citycloud_tenant_remove"]["floating_ips"] == ["fip-old"]
    assert old["citycloud_tenant_remove"]["servers"] == ["vm-old"]
    assert old["citycloud_tenant_remove"]["project"] == "p-old"


def test_images_upload_the_files_the_spec_names(tmp_path: Path) -> None:
    from citycloud.adapters.ansible.tenants import cloud_vars
    from citycloud.adapters.openstack.engine import image_files
    from citycloud.desired import build_desired
    from citycloud.errors import PermanentError
    from citycloud.spec import load_spec
    from tests.support.specs import CITY, write

    (tmp_path / "debian-12.qcow2").write_bytes(b"\0" * 512)
    spec_text = CITY.replace(
        "images: [{name: debian-12}]",
        "images: [{name: debian-12, source: debian-12.qcow2}]",
    )
    spec = load_spec(write(tmp_path, {"city.yaml": spec_text}))
    files = image_files(spec)
    assert files == {"debian-12": str(tmp_path / "debian-12.qcow2")}
    (image,) = cloud_vars(build_desired(spec, ["cloud"]), "c", "/blank.img", files)[
        "citycloud_cloud_images"
    ]
    assert image["filename"] == str(tmp_path / "debian-12.qcow2")

    url = load_spec(
        write(
            tmp_path,
            {
                "city.yaml": spec_text.replace(
                    "source: debian-12.qcow2", "source: https://example.invalid/x.qcow2"
                )
            },
        )
    )
    with pytest.raises(PermanentError, match="is a URL"):
        image_files(url)
