"""The desired state: from the spec, every resource each layer must hold.

Pure data and pure functions: no I/O, no SDKs. ``build_desired`` is the entry
point; each layer has its own builder module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from citycloud.desired import identity_export  # noqa: F401  (registers the realm export)
from citycloud.desired.hosts import host_resources
from citycloud.desired.identity import identity_resources
from citycloud.desired.kubernetes import kubernetes_resources
from citycloud.desired.model import (
    KIND_ORDER,
    LAYERS,
    DesiredState,
    Resource,
    ResourceId,
    order_of,
)
from citycloud.desired.monitoring import dashboard_resources, monitoring_resources
from citycloud.desired.openstack import cloud_resources, openstack_resources
from citycloud.spec.tree import Spec

__all__ = [
    "BUILDERS",
    "KIND_ORDER",
    "LAYERS",
    "DesiredState",
    "Resource",
    "ResourceId",
    "build_desired",
    "order_of",
]

Builder = Callable[[Spec], Iterator[Resource]]

BUILDERS: dict[str, Builder] = {
    "cloud": cloud_resources,
    "openstack": openstack_resources,
    "identity": identity_resources,
    "kubernetes": kubernetes_resources,
    "monitoring": monitoring_resources,
    "dashboards": dashboard_resources,
    "hosts": host_resources,
}


def build_desired(
    spec: Spec,
    layers: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DesiredState:
    """Every resource of ``layers`` (all by default) that the spec asks for."""
    wanted = tuple(layers) if layers is not None else LAYERS
    unknown = [name for name in wanted if name not in BUILDERS]
    if unknown:
        raise ValueError(f"unknown layer(s): {', '.join(unknown)}")
    resources: list[Resource] = []
    for name in wanted:
        if progress is not None:
            progress(name)
        resources.extend(BUILDERS[name](spec))
    return DesiredState.of(resources)
