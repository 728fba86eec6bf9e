"""Observe the live objects citycloud manages and shape them like the desired ones.

Every kind in :data:`KINDS` is listed across the cluster, filtered by the
``app.kubernetes.io/managed-by=citycloud`` label and paged. Each live object is
projected onto the shape the desired state uses (apiVersion, kind, name,
namespace, citycloud's labels, and the kind's sections), so the plan is a
plain difference.

What the projection keeps, and why: labels outside citycloud's own keys belong
to others (the API server adds ``kubernetes.io/metadata.name``) and are
dropped. Inside a section, a field owned *only* by another field manager that
used server-side apply is dropped as well: such a manager co-manages the
object on purpose and citycloud's apply never removes its fields. A field
changed by a plain update (``kubectl edit``, ``kubectl patch``) stays, so that
drift shows up in the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from citycloud.adapters.kubernetes.client import FIELD_MANAGER, KubeClient, Obj
from citycloud.desired.kubernetes import (
    KINDS,
    LABEL_MANAGED_BY,
    LABEL_PREFIX,
    LABEL_TENANT,
    LAYER,
    MANAGED_BY,
    ObjectKind,
    key_of,
)
from citycloud.desired.model import Resource, ResourceId

log = logging.getLogger(__name__)

SELECTOR = f"{LABEL_MANAGED_BY}={MANAGED_BY}"

Path = tuple[str, ...]


def _paths(fields: Mapping[str, Any], prefix: Path = ()) -> Iterator[Path]:
    """Field paths of a ``fieldsV1`` tree (map keys only; lists are atomic)."""
    for key, sub in fields.items():
        if not key.startswith("f:"):
            continue
        path = (*prefix, key[2:])
        if isinstance(sub, Mapping) and any(k.startswith("f:") for k in sub):
            yield from _paths(sub, path)
        else:
            yield path


def _foreign_apply_paths(obj: Obj, manager: str) -> set[Path]:
    """Paths owned only by other managers that used server-side apply."""
    ours: set[Path] = set()
    applied_by_others: set[Path] = set()
    updated_by_others: set[Path] = set()
    for entry in (obj.get("metadata") or {}).get("managedFields") or ():
        paths = set(_paths(entry.get("fieldsV1") or {}))
        if entry.get("manager") == manager:
            ours |= paths
        elif entry.get("operation") == "Apply":
            applied_by_others |= paths
        else:
            updated_by_others |= paths
    return applied_by_others - ours - updated_by_others


def _without(value: Any, path: Path) -> Any:
    if not path or not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {k: v for k, v in value.items() if k != path[0]}
    return {**value, path[0]: _without(value[path[0]], path[1:])}


def project(kind: ObjectKind, obj: Obj, manager: str = FIELD_MANAGER) -> dict[str, Any]:
    """The live object in the shape of a desired manifest."""
    meta = obj.get("metadata") or {}
    labels = {
        k: v
        for k, v in sorted((meta.get("labels") or {}).items())
        if k == LABEL_MANAGED_BY or k.startswith(LABEL_PREFIX)
    }
    shaped: dict[str, Any] = {"apiVersion": kind.api_version, "kind": kind.kind}
    shaped_meta: dict[str, Any] = {"name": meta.get("name")}
    if kind.namespaced:
        shaped_meta["namespace"] = meta.get("namespace")
    shaped_meta["labels"] = labels
    shaped["metadata"] = shaped_meta
    for section in kind.sections:
        if section in obj:
            shaped[section] = obj[section]
    for path in _foreign_apply_paths(obj, manager):
        if path and path[0] in kind.sections:
            shaped = _without(shaped, path)
    return shaped


def to_resource(kind: ObjectKind, obj: Obj, manager: str = FIELD_MANAGER) -> Resource:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace") if kind.namespaced else None
    name = str(meta.get("name"))
    labels = meta.get("labels") or {}
    tenant = labels.get(LABEL_TENANT) or None
    if namespace is None:
        return Resource(
            ResourceId(LAYER, kind.name, name), project(kind, obj, manager), tenant
        )
    return Resource(
        ResourceId(LAYER, kind.name, key_of(namespace, name)),
        project(kind, obj, manager),
        tenant,
        ResourceId(LAYER, "namespace", namespace),
    )


def observe(client: KubeClient, kinds: Iterable[str] | None = None) -> list[Resource]:
    """Every citycloud-managed object of ``kinds`` (all by default)."""
    found: dict[ResourceId, Resource] = {}
    for name in kinds if kinds is not None else KINDS:
        kind = KINDS[name]
        count = 0
        for obj in client.list(name, label_selector=SELECTOR):
            resource = to_resource(kind, obj, client.field_manager)
            found[resource.id] = resource
            count += 1
        log.debug("observed %s %s object(s)", count, kind.kind)
    return list(found.values())
