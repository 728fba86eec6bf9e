"""Read the stack config once, build the desired state, create components.

The Pulumi program and the Ansible engine read the same desired state
(citycloud.desired), so both engines apply exactly what `citycloud plan`
shows.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
from cloud import CityCloud
from tenant import Tenant

from citycloud.desired import build_desired
from citycloud.desired.model import DesiredState
from citycloud.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent


def build(desired: DesiredState) -> tuple[CityCloud, dict[str, Tenant]]:
    """Components for the cloud and each VM tenant of ``desired``."""
    cloud = CityCloud("city", desired.layer("cloud"))
    tenants: dict[str, Tenant] = {}
    for slug in sorted({r.tenant for r in desired.layer("openstack") if r.tenant}):
        tenants[slug] = Tenant(slug, desired.tenant(slug), cloud)
    return cloud, tenants


def main() -> None:
    config = pulumi.Config("citycloud")
    spec_path = ROOT / config.require("spec")
    divisions = [ROOT / d for d in (config.get_object("divisions") or [])]
    spec = load_spec(spec_path, divisions)
    cloud, tenants = build(build_desired(spec, ["cloud", "openstack"]))
    pulumi.export("domain_id", cloud.domain_id)
    pulumi.export("tenants", {slug: t.project_id for slug, t in tenants.items()})
