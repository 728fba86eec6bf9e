"""The shape every layer's state takes: resources with stable identities.

Desired state (from the spec) and actual state (observed from an outside
system, or recorded by the last apply) are both sets of :class:`Resource`, so
the plan is a plain difference of two values. A resource's identity
(``layer``, ``kind``, ``key``) never contains a display name: renaming a tenant
updates it instead of replacing it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

LAYERS = (
    "cloud",
    "openstack",
    "identity",
    "kubernetes",
    "monitoring",
    "dashboards",
    "hosts",
)

# Creation order within a layer: parents before children. Deletes run reversed.
KIND_ORDER: Mapping[str, tuple[str, ...]] = {
    "cloud": (
        "domain",
        "flavor",
        "image",
        "volume_type",
        "external_network",
        "external_subnet",
        "aggregate",
    ),
    "openstack": (
        "project",
        "quota",
        "network",
        "subnet",
        "router",
        "security_group",
        "security_group_rule",
        "volume",
        "server",
    ),
    "identity": ("realm", "role", "group", "client", "mapper", "permission"),
    "kubernetes": (
        "namespace",
        "resourcequota",
        "limitrange",
        "networkpolicy",
        "rolebinding",
    ),
    "monitoring": ("scrape_config", "rule_group", "alert_route"),
    "dashboards": ("team", "folder", "folder_permission", "dashboard"),
    "hosts": ("host",),
}


class ResourceId(NamedTuple):
    layer: str
    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.layer}/{self.kind}/{self.key}"


def order_of(rid: ResourceId) -> tuple[int, int, str]:
    """Sort key that creates parents first: layer, then kind, then key."""
    layer = LAYERS.index(rid.layer) if rid.layer in LAYERS else len(LAYERS)
    kinds = KIND_ORDER.get(rid.layer, ())
    kind = kinds.index(rid.kind) if rid.kind in kinds else len(kinds)
    return layer, kind, rid.key


@dataclass(frozen=True, slots=True)
class Resource:
    """One thing a layer must hold. ``attrs`` is JSON-shaped data, never mutated."""

    id: ResourceId
    attrs: Mapping[str, Any] = field(default_factory=dict)
    tenant: str | None = None
    parent: ResourceId | None = None

    @property
    def layer(self) -> str:
        return self.id.layer

    @property
    def kind(self) -> str:
        return self.id.kind

    @property
    def key(self) -> str:
        return self.id.key

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.id.layer,
            "kind": self.id.kind,
            "key": self.id.key,
            "tenant": self.tenant,
            "parent": str(self.parent) if self.parent else None,
            "attrs": self.attrs,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Resource:
        parent = data.get("parent")
        return cls(
            id=ResourceId(data["layer"], data["kind"], data["key"]),
            attrs=data.get("attrs") or {},
            tenant=data.get("tenant"),
            parent=ResourceId(*parent.split("/", 2)) if parent else None,
        )


def res(
    layer: str,
    kind: str,
    key: str,
    attrs: Mapping[str, Any],
    tenant: str | None = None,
    parent: ResourceId | None = None,
) -> Resource:
    """Shorthand used by the layer builders."""
    return Resource(ResourceId(layer, kind, key), attrs, tenant, parent)


@dataclass(frozen=True)
class DesiredState:
    """Every resource each layer must hold, keyed by identity."""

    resources: Mapping[ResourceId, Resource]

    @classmethod
    def of(cls, resources: Iterable[Resource]) -> DesiredState:
        table: dict[ResourceId, Resource] = {}
        for resource in resources:
            if resource.id in table:
                raise ValueError(
                    f"two desired resources share the identity {resource.id}"
                )
            table[resource.id] = resource
        return cls(table)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources.values())

    def __len__(self) -> int:
        return len(self.resources)

    def layer(self, name: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.id.layer == name]

    def kind(self, layer: str, kind: str) -> list[Resource]:
        return [
            r
            for r in self.resources.values()
            if r.id.layer == layer and r.id.kind == kind
        ]

    def tenant(self, slug: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.tenant == slug]

    def only(self, layers: Iterable[str]) -> DesiredState:
        wanted = set(layers)
        return DesiredState(
            {k: v for k, v in self.resources.items() if k.layer in wanted}
        )

    def digest(self) -> str:
        """A fingerprint of the whole desired state (for apply records)."""
        import hashlib

        body = json.dumps(
            [r.to_dict() for r in sorted(self, key=lambda r: order_of(r.id))],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()
