"""The plan: the ordered difference between desired and actual state.

A plan is data. It knows which resources are created, updated or deleted, and
in which fields they differ; it is ordered so that parents are created before
their children and children deleted before their parents.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from citycloud.desired.model import LAYERS, Resource, ResourceId, order_of

MISSING: Any = None
# The resource that stands for a whole tenant in each layer.
TENANT_ROOTS = frozenset({("openstack", "project"), ("kubernetes", "namespace")})


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    id: ResourceId
    tenant: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    fields: tuple[FieldChange, ...] = ()
    parent: ResourceId | None = None

    @property
    def resource(self) -> Resource:
        """The resource as it will be (or was, for a delete)."""
        attrs = self.after if self.after is not None else self.before
        return Resource(self.id, attrs or {}, self.tenant, self.parent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "layer": self.id.layer,
            "kind": self.id.kind,
            "key": self.id.key,
            "tenant": self.tenant,
            "fields": [
                {"path": f.path, "before": f.before, "after": f.after}
                for f in self.fields
            ],
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class Plan:
    """Changes in execution order, plus what the plan was made from."""

    changes: tuple[Change, ...]
    layers: tuple[str, ...] = LAYERS
    # Layers compared only against their own desired state (no actual yet).
    desired_only: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    # Tenants present in the actual state (for the mass-delete rule).
    known_tenants: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def counts(self) -> dict[str, int]:
        found = Counter(c.action.value for c in self.changes)
        return {a.value: found.get(a.value, 0) for a in Action}

    def by_layer(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = defaultdict(list)
        for change in self.changes:
            out[change.id.layer].append(change)
        return {layer: out[layer] for layer in self.layers if layer in out}

    def by_tenant(self) -> dict[str | None, list[Change]]:
        out: dict[str | None, list[Change]] = defaultdict(list)
        for change in self.changes:
            out[change.tenant].append(change)
        return dict(out)

    def only(self, layers: Iterable[str]) -> Plan:
        wanted = tuple(layers)
        return replace(
            self,
            changes=tuple(c for c in self.changes if c.id.layer in wanted),
            layers=tuple(layer for layer in self.layers if layer in wanted),
            desired_only=tuple(layer for layer in self.desired_only if layer in wanted),
        )

    def for_tenants(self, tenants: Iterable[str]) -> Plan:
        wanted = set(tenants)
        return replace(
            self, changes=tuple(c for c in self.changes if c.tenant in wanted)
        )

    def tenants(self, action: Action | None = None) -> set[str]:
        return {
            c.tenant
            for c in self.changes
            if c.tenant is not None and (action is None or c.action is action)
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.counts(),
            "layers": {
                layer: {
                    action.value: sum(1 for c in changes if c.action is action)
                    for action in Action
                }
                for layer, changes in self.by_layer().items()
            },
            "desired_only": list(self.desired_only),
            "notes": list(self.notes),
            "changes": [c.to_dict() for c in self.changes],
        }

    def digest(self) -> str:
        body = json.dumps(
            self.to_dict(), sort_keys=True, ensure_ascii=False, default=str
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def _diff(before: Any, after: Any, path: str, out: list[FieldChange]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            _diff(before.get(key, MISSING), after.get(key, MISSING), sub, out)
    elif before != after:
        out.append(FieldChange(path, before, after))


def diff_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[FieldChange, ...]:
    """Every leaf that differs, as dotted paths. Lists compare whole."""
    out: list[FieldChange] = []
    _diff(before, after, "", out)
    return tuple(out)


def make_plan(
    desired: Iterable[Resource],
    actual: Iterable[Resource],
    layers: Iterable[str] = LAYERS,
    desired_only: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Plan:
    """The changes that turn ``actual`` into ``desired`` for ``layers``.

    Creates and updates run parents first (layer, then kind order); deletes
    run before them, children first, so a name freed by a delete can be reused.
    """
    wanted = tuple(layers)
    want = {r.id: r for r in desired if r.id.layer in wanted}
    have = {r.id: r for r in actual if r.id.layer in wanted}
    deletes: list[Change] = []
    upserts: list[Change] = []
    for rid, gone in have.items():
        if rid not in want:
            deletes.append(
                Change(
                    Action.DELETE,
                    rid,
                    gone.tenant,
                    dict(gone.attrs),
                    None,
                    parent=gone.parent,
                )
            )
    for rid, target in want.items():
        current = have.get(rid)
        if current is None:
            upserts.append(
                Change(
                    Action.CREATE,
                    rid,
                    target.tenant,
                    None,
                    dict(target.attrs),
                    parent=target.parent,
                )
            )
            continue
        fields = diff_fields(current.attrs, target.attrs)
        if fields:
            upserts.append(
                Change(
                    Action.UPDATE,
                    rid,
                    target.tenant,
                    dict(current.attrs),
                    dict(target.attrs),
                    fields,
                    parent=target.parent,
                )
            )
    deletes.sort(key=lambda c: order_of(c.id), reverse=True)
    upserts.sort(key=lambda c: order_of(c.id))
    known = sum(1 for rid in have if (rid.layer, rid.kind) in TENANT_ROOTS)
    return Plan(
        tuple(deletes + upserts), wanted, tuple(desired_only), tuple(notes), known
    )
