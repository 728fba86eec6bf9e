"""In-memory object store of the fake kube-apiserver, with server-side apply.

The behaviour follows what kube-apiserver does for the calls the citycloud
adapter makes: objects keyed by (resource, namespace, name), one global
resourceVersion counter that only moves when stored content changes, field
ownership recorded in ``metadata.managedFields`` per manager and operation,
apply conflicts when another manager owns a field with a different value,
list paging with an opaque ``continue`` token, and namespace deletion taking
the namespace's objects with it.

Lists are treated as atomic (owned and replaced as a whole), which is how the
lists of the kinds served here (NetworkPolicy rules, LimitRange limits,
RoleBinding subjects) are declared in Kubernetes. Every public method raises
:class:`ApiError` carrying the Status the HTTP layer sends back.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str, ...]
Obj = dict[str, Any]

# Fields the server owns itself; they never enter a manager's field set.
_IDENTITY_FIELDS = {
    ("apiVersion",),
    ("kind",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "resourceVersion"),
    ("metadata", "uid"),
    ("metadata", "creationTimestamp"),
    ("metadata", "managedFields"),
    ("metadata", "generation"),
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


@dataclass(frozen=True)
class ResourceType:
    plural: str
    kind: str
    group_version: str
    namespaced: bool


RESOURCE_TYPES: dict[str, ResourceType] = {
    rt.plural: rt
    for rt in (
        ResourceType("namespaces", "Namespace", "v1", False),
        ResourceType("resourcequotas", "ResourceQuota", "v1", True),
        ResourceType("limitranges", "LimitRange", "v1", True),
        ResourceType("networkpolicies", "NetworkPolicy", "networking.k8s.io/v1", True),
        ResourceType(
            "rolebindings", "RoleBinding", "rbac.authorization.k8s.io/v1", True
        ),
    )
}


class ApiError(Exception):
    """A failure the API server reports as a ``Status`` object."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> Obj:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{rt.plural} "{name}" not found',
        {"name": name, "kind": rt.plural},
    )


# --- field sets -------------------------------------------------------------


def leaf_paths(obj: Any, prefix: Path = ()) -> set[Path]:
    """Paths of the fields an object sets: maps recurse, lists are atomic."""
    if isinstance(obj, dict) and obj:
        paths: set[Path] = set()
        for key, value in obj.items():
            paths |= leaf_paths(value, (*prefix, str(key)))
        return paths
    return {prefix}


def managed_paths(obj: Obj) -> set[Path]:
    body = {k: v for k, v in obj.items() if k != "status"}
    return {
        p
        for p in leaf_paths(body)
        if p and not any(p[: len(i)] == i for i in _IDENTITY_FIELDS)
    }


def overlaps(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


_MISSING = object()


def get_path(obj: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def set_path(obj: Obj, path: Path, value: Any) -> None:
    for part in path[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            obj[part] = nxt
        obj = nxt
    obj[path[-1]] = copy.deepcopy(value)


def del_path(obj: Obj, path: Path) -> None:
    parents: list[tuple[Obj, str]] = []
    cur: Any = obj
    for part in path[:-1]:
        if not isinstance(cur, dict) or part not in cur:
            return
        parents.append((cur, part))
        cur = cur[part]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    # Drop maps the removal left empty, but never the top-level sections.
    for depth in range(len(parents) - 1, 0, -1):
        parent, key = parents[depth]
        if parent[key] == {}:
            del parent[key]


def to_fields_v1(paths: set[Path]) -> Obj:
    tree: Obj = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def from_fields_v1(tree: Obj, prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, sub in tree.items():
        if not key.startswith("f:"):
            continue
        path = (*prefix, key[2:])
        paths |= from_fields_v1(sub, path) if sub else {path}
    return paths


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- label selectors --------------------------------------------------------


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            key = key.rstrip("=").strip()
            if labels.get(key) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


# --- the store --------------------------------------------------------------


@dataclass
class Store:
    objects: dict[tuple[str, str, str], Obj] = field(default_factory=dict)
    resource_version: int = 1000
    writes: int = 0
    # Continue tokens are numbered; those up to ``expired_tokens`` answer
    # 410 Gone, as after an etcd compaction (see expire_continue_tokens).
    tokens_issued: int = 0
    expired_tokens: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def expire_continue_tokens(self) -> None:
        """Make every continue token handed out so far too old to use."""
        with self.lock:
            self.expired_tokens = self.tokens_issued

    # helpers

    def _now(self) -> str:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _bump(self, obj: Obj) -> None:
        self.resource_version += 1
        self.writes += 1
        obj["metadata"]["resourceVersion"] = str(self.resource_version)

    def _check_namespace(self, rt: ResourceType, namespace: str) -> None:
        if rt.namespaced and ("namespaces", "", namespace) not in self.objects:
            raise not_found(RESOURCE_TYPES["namespaces"], namespace)

    def _check_body(
        self, rt: ResourceType, namespace: str, name: str, body: Any
    ) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body must be an object")
        kind, version = body.get("kind"), body.get("apiVersion")
        if kind != rt.kind or version != rt.group_version:
            raise ApiError(
                400,
                "BadRequest",
                f"the API version in the data ({version}) and kind ({kind}) do not "
                f"match the endpoint {rt.group_version}, {rt.kind}",
            )
        meta = body.get("metadata") or {}
        if meta.get("name") != name:
            raise ApiError(
                400,
                "BadRequest",
                "the name of the object "
                f"({meta.get('name')}) does not match the name on the URL ({name})",
            )
        if rt.namespaced and meta.get("namespace", namespace) != namespace:
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace "
                "sent on the request",
            )
        pattern = _DNS_LABEL if rt.plural == "namespaces" else _DNS_SUBDOMAIN
        limit = 63 if rt.plural == "namespaces" else 253
        if not pattern.match(name) or len(name) > limit:
            raise ApiError(
                422,
                "Invalid",
                f'{rt.kind} "{name}" is invalid: metadata.name: Invalid value: '
                f'"{name}": must be a lowercase RFC 1123 '
                f"{'label' if limit == 63 else 'subdomain'} of at most {limit} "
                "characters",
                {
                    "name": name,
                    "kind": rt.kind,
                    "causes": [
                        {"reason": "FieldValueInvalid", "field": "metadata.name"}
                    ],
                },
            )

    def _new_object(
        self, rt: ResourceType, namespace: str, name: str, body: Obj
    ) -> Obj:
        obj = copy.deepcopy(body)
        obj.pop("status", None)
        meta = obj.setdefault("metadata", {})
        meta["name"] = name
        if rt.namespaced:
            meta["namespace"] = namespace
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self._now()
        meta["managedFields"] = []
        if rt.plural == "namespaces":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
        return obj

    def _entries(self, obj: Obj) -> list[Obj]:
        entries: list[Obj] = obj["metadata"].setdefault("managedFields", [])
        return entries

    def _set_entry(
        self, obj: Obj, manager: str, operation: str, paths: set[Path]
    ) -> None:
        entries = [
            e
            for e in self._entries(obj)
            if not (e["manager"] == manager and e["operation"] == operation)
        ]
        if paths:
            entries.append(
                {
                    "manager": manager,
                    "operation": operation,
                    "apiVersion": obj["apiVersion"],
                    "time": self._now(),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": to_fields_v1(paths),
                }
            )
        obj["metadata"]["managedFields"] = entries

    def _drop_from_others(
        self, obj: Obj, manager: str, operation: str, paths: set[Path]
    ) -> None:
        for entry in list(self._entries(obj)):
            if entry["manager"] == manager and entry["operation"] == operation:
                continue
            owned = from_fields_v1(entry.get("fieldsV1", {}))
            kept = {p for p in owned if not any(overlaps(p, q) for q in paths)}
            if kept != owned:
                self._set_entry(obj, entry["manager"], entry["operation"], kept)

    @staticmethod
    def _content(obj: Obj) -> Obj:
        body = copy.deepcopy(obj)
        for key in ("managedFields", "resourceVersion"):
            body["metadata"].pop(key, None)
        return body

    @staticmethod
    def _ownership(obj: Obj) -> list[tuple[str, str, Any]]:
        return sorted(
            (
                e["manager"],
                e["operation"],
                json.dumps(e.get("fieldsV1"), sort_keys=True),
            )
            for e in obj["metadata"].get("managedFields", [])
        )

    # reads

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        with self.lock:
            obj = self.objects.get((rt.plural, namespace, name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
    ) -> Obj:
        with self.lock:
            start: tuple[str, str] = ("", "")
            if continue_token:
                try:
                    decoded = json.loads(base64.urlsafe_b64decode(continue_token))
                    start = (decoded["ns"], decoded["name"])
                    serial = int(decoded["serial"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise ApiError(
                        400, "BadRequest", "continue key is not valid"
                    ) from exc
                if serial <= self.expired_tokens:
                    raise ApiError(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a "
                        "consistent list result. You can start a new list without "
                        "the continue parameter.",
                    )
            matches = sorted(
                (key[1], key[2])
                for key, obj in self.objects.items()
                if key[0] == rt.plural
                and (namespace is None or key[1] == namespace)
                and (not continue_token or (key[1], key[2]) > start)
                and selector_matches(
                    label_selector, obj["metadata"].get("labels") or {}
                )
            )
            page = matches[:limit] if limit > 0 else matches
            items = []
            for ns, name in page:
                item = copy.deepcopy(self.objects[(rt.plural, ns, name)])
                item.pop("apiVersion", None)
                item.pop("kind", None)
                items.append(item)
            meta: Obj = {"resourceVersion": str(self.resource_version)}
            if len(page) < len(matches):
                self.tokens_issued += 1
                last = page[-1]
                meta["continue"] = base64.urlsafe_b64encode(
                    json.dumps(
                        {"ns": last[0], "name": last[1], "serial": self.tokens_issued}
                    ).encode()
                ).decode()
                meta["remainingItemCount"] = len(matches) - len(page)
            return {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.group_version,
                "metadata": meta,
                "items": items,
            }

    # writes

    def create(self, rt: ResourceType, namespace: str, body: Any, manager: str) -> Obj:
        name = (
            (body.get("metadata") or {}).get("name", "")
            if isinstance(body, dict)
            else ""
        )
        with self.lock:
            self._check_body(rt, namespace, name, body)
            self._check_namespace(rt, namespace)
            key = (rt.plural, namespace, name)
            if key in self.objects:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{rt.plural} "{name}" already exists',
                    {"name": name, "kind": rt.plural},
                )
            obj = self._new_object(rt, namespace, name, body)
            self._set_entry(obj, manager, "Update", managed_paths(body))
            self._bump(obj)
            self.objects[key] = obj
            return copy.deepcopy(obj)

    def apply(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        manager: str,
        force: bool,
    ) -> Obj:
        """Server-side apply: ``body`` is the manager's whole intent."""
        if not manager:
            raise ApiError(
                400, "BadRequest", "PATCH /apply requires fieldManager to be set"
            )
        with self.lock:
            self._check_body(rt, namespace, name, body)
            self._check_namespace(rt, namespace)
            key = (rt.plural, namespace, name)
            applied = managed_paths(body)
            live = self.objects.get(key)
            if live is None:
                obj = self._new_object(rt, namespace, name, body)
                self._set_entry(obj, manager, "Apply", applied)
                self._bump(obj)
                self.objects[key] = obj
                return copy.deepcopy(obj)

            obj = copy.deepcopy(live)
            conflicts: list[tuple[str, Path]] = []
            others: set[Path] = set()
            for entry in self._entries(obj):
                owned = from_fields_v1(entry.get("fieldsV1", {}))
                if entry["manager"] == manager and entry["operation"] == "Apply":
                    continue
                others |= owned
                for path in applied:
                    for theirs in owned:
                        if overlaps(path, theirs) and get_path(obj, path) != get_path(
                            body, path
                        ):
                            conflicts.append((entry["manager"], path))
                            break
            if conflicts and not force:
                raise _conflict_error(rt, name, conflicts)
            if force:
                self._drop_from_others(obj, manager, "Apply", applied)
                others = set()
                for entry in self._entries(obj):
                    if not (
                        entry["manager"] == manager and entry["operation"] == "Apply"
                    ):
                        others |= from_fields_v1(entry.get("fieldsV1", {}))

            previous: set[Path] = set()
            for entry in self._entries(obj):
                if entry["manager"] == manager and entry["operation"] == "Apply":
                    previous = from_fields_v1(entry.get("fieldsV1", {}))
            for path in sorted(previous - applied, key=len, reverse=True):
                if not any(overlaps(path, o) for o in others | applied):
                    del_path(obj, path)
            for path in applied:
                value = get_path(body, path)
                set_path(obj, path, value)
            self._set_entry(obj, manager, "Apply", applied)
            return self._store_if_changed(key, live, obj)

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        patch: Any,
        manager: str,
    ) -> Obj:
        """A merge patch (an ``Update`` operation for field ownership)."""
        with self.lock:
            key = (rt.plural, namespace, name)
            live = self.objects.get(key)
            if live is None:
                raise not_found(rt, name)
            if not isinstance(patch, dict):
                raise ApiError(400, "BadRequest", "the patch must be an object")
            merged = merge_patch(live, patch)
            merged["metadata"]["name"] = name
            self._check_body(rt, namespace, name, merged)
            before = managed_paths(live)
            after = managed_paths(merged)
            changed = {p for p in after if get_path(live, p) != get_path(merged, p)} | (
                before - after
            )
            self._drop_from_others(merged, manager, "Update", changed)
            mine: set[Path] = set()
            for entry in self._entries(merged):
                if entry["manager"] == manager and entry["operation"] == "Update":
                    mine = from_fields_v1(entry.get("fieldsV1", {}))
            self._set_entry(merged, manager, "Update", (mine | changed) & after)
            return self._store_if_changed(key, live, merged)

    def delete(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        with self.lock:
            key = (rt.plural, namespace, name)
            obj = self.objects.pop(key, None)
            if obj is None:
                raise not_found(rt, name)
            self.resource_version += 1
            self.writes += 1
            if rt.plural == "namespaces":
                # The namespace controller removes what the namespace held.
                for other in [k for k in self.objects if k[1] == name]:
                    del self.objects[other]
                obj["status"] = {"phase": "Terminating"}
                obj["metadata"]["deletionTimestamp"] = self._now()
            return obj

    def _store_if_changed(self, key: tuple[str, str, str], live: Obj, obj: Obj) -> Obj:
        # Like the real server, a request that changes neither content nor
        # ownership is a no-op: resourceVersion and timestamps stay.
        if self._content(obj) == self._content(live) and self._ownership(
            obj
        ) == self._ownership(live):
            return copy.deepcopy(live)
        self._bump(obj)
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def iter_objects(self) -> Iterator[Obj]:
        with self.lock:
            for key in sorted(self.objects):
                yield copy.deepcopy(self.objects[key])


def _conflict_error(
    rt: ResourceType, name: str, conflicts: list[tuple[str, Path]]
) -> ApiError:
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{manager}"',
            "field": "." + ".".join(path),
        }
        for manager, path in conflicts
    ]
    listed = "\n".join(
        f'- conflict with "{manager}": .{".".join(path)}' for manager, path in conflicts
    )
    return ApiError(
        409,
        "Conflict",
        f"Apply failed with {len(conflicts)} conflict"
        f"{'s' if len(conflicts) > 1 else ''}: {listed}",
        {"name": name, "kind": rt.plural, "causes": causes},
    )
