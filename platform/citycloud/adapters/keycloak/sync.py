"""Make the city realm match the desired identity layer, by difference.

One sync reads what the realm holds (every listing paged, subgroups
included), compares it with a :class:`RealmModel`, and makes only the calls
that close the gap: a second sync against an unchanged realm makes no writes.

Rules that keep people's work safe:

* Only objects marked ``citycloud.managed`` are renamed, moved or deleted, and
  deletions need ``allow_delete``. A managed group whose subtree holds an
  unmanaged group is kept. Users are never created, changed or deleted.
* A group already sitting where a desired group belongs (same parent, same
  name) is adopted: it gets the attributes and the marker.
* Two syncs at once: a 409 on create means the other one won; the object is
  re-read (groups by path, clients by clientId) and compared like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from citycloud.adapters.keycloak.client import (
    Conflict,
    KeycloakApi,
    NotFound,
    path_segment,
)
from citycloud.adapters.keycloak.model import (
    MANAGED,
    MANAGED_KEY,
    TOKEN_ATTRIBUTES,
    ClientSpec,
    GroupSpec,
    RealmModel,
)
from citycloud.errors import PermanentError

log = logging.getLogger(__name__)

DELETABLE = ("role", "group", "client", "permission")


@dataclass(frozen=True, slots=True)
class Change:
    action: str  # create | update | move | delete | keep
    kind: str  # realm | user-profile | role | group | client | mapper | permission
    key: str
    detail: str = ""


@dataclass
class SyncReport:
    realm: str
    changes: list[Change] = field(default_factory=list)
    reads: int = 0
    writes: int = 0

    def add(self, action: str, kind: str, key: str, detail: str = "") -> None:
        self.changes.append(Change(action, kind, key, detail))

    @property
    def changed(self) -> bool:
        return any(c.action != "keep" for c in self.changes)

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(
            1
            for c in self.changes
            if c.action == action and (kind is None or c.kind == kind)
        )


@dataclass
class ActualGroup:
    id: str
    name: str
    parent_id: str | None
    attributes: dict[str, list[str]]
    description: str = ""

    @property
    def managed(self) -> bool:
        return self.attributes.get(MANAGED_KEY) == [MANAGED]

    @property
    def code(self) -> str | None:
        values = self.attributes.get("org_code") or []
        return values[0] if values else None


def _pick(
    candidates: list[ActualGroup], parent_id: str | None, name: str
) -> ActualGroup | None:
    """Of the managed groups carrying one code, the one where it belongs."""
    for group in candidates:
        if group.parent_id == parent_id and group.name == name:
            return group
    for group in candidates:
        if group.parent_id == parent_id:
            return group
    return candidates[0] if candidates else None


def _actual_group(rep: Mapping[str, Any], parent_id: str | None) -> ActualGroup:
    return ActualGroup(
        id=str(rep["id"]),
        name=str(rep["name"]),
        parent_id=rep.get("parentId") or parent_id,
        attributes={k: list(v) for k, v in (rep.get("attributes") or {}).items()},
        description=str(rep.get("description") or ""),
    )


class RealmSync:
    """One sync run of one realm. Create it, call :meth:`run`, read the report."""

    def __init__(
        self,
        api: KeycloakApi,
        model: RealmModel,
        *,
        allow_delete: bool | Collection[str] = False,
        bulk_create: bool = True,
    ) -> None:
        model.validate()
        if api.realm != model.name:
            raise ValueError(f"api manages {api.realm!r}, model is {model.name!r}")
        self.api = api
        self.model = model
        # True: every kind; a collection: only those kinds (role, group, ...)
        if isinstance(allow_delete, bool):
            self.deletable = set(DELETABLE) if allow_delete else set()
        else:
            self.deletable = set(allow_delete)
        self.bulk_create = bulk_create
        self.report = SyncReport(model.name)
        self.groups: dict[str, ActualGroup] = {}
        self.group_ids: dict[str, str] = {}  # desired key -> actual group id
        self.role_ids: dict[str, str] = {}

    # -- driver --------------------------------------------------------------

    def run(self) -> SyncReport:
        start_reads, start_writes = self.api.calls.reads, self.api.calls.writes
        realm_rep = self._sync_realm()
        self._sync_user_profile()
        self._sync_roles()
        self._sync_groups()
        self._sync_clients()
        if self.model.delegations:
            self._sync_delegations(realm_rep)
        self.report.reads = self.api.calls.reads - start_reads
        self.report.writes = self.api.calls.writes - start_writes
        return self.report

    def _write_log(self, action: str, kind: str, key: str, detail: str = "") -> None:
        log.info("keycloak %s: %s %s %s %s", self.model.name, action, kind, key, detail)
        self.report.add(action, kind, key, detail)

    # -- realm ---------------------------------------------------------------

    def read_realm(self) -> dict[str, Any] | None:
        try:
            rep = self.api.get(f"admin/realms/{path_segment(self.model.name)}")
        except NotFound:
            return None
        return dict(rep)

    def _sync_realm(self) -> dict[str, Any]:
        wanted = self.model.wanted_settings()
        attributes = dict(self.model.attributes)
        rep = self.read_realm()
        if rep is None:
            body = {"realm": self.model.name, **wanted, "attributes": attributes}
            try:
                self.api.post("admin/realms", body)
                self._write_log("create", "realm", self.model.name)
            except Conflict:
                log.debug("realm %s appeared meanwhile", self.model.name)
            rep = self.read_realm()
            if rep is None:
                raise NotFound("keycloak", f"realm {self.model.name} vanished")
        diff = {k: v for k, v in wanted.items() if not same(rep.get(k), v)}
        held = rep.get("attributes") or {}
        if any(held.get(k) != v for k, v in attributes.items()):
            diff["attributes"] = attributes
        if diff:
            self.api.put(f"admin/realms/{path_segment(self.model.name)}", diff)
            self._write_log("update", "realm", self.model.name, ", ".join(sorted(diff)))
            if "adminPermissionsEnabled" in diff:
                rep = self.read_realm() or rep
            else:
                rep.update(diff)
        return rep

    def _sync_user_profile(self) -> None:
        """Declare the token attributes: Keycloak 24+ drops undeclared ones."""
        path = f"{self.api.base}/users/profile"
        config = self.api.get(path) or {}
        attributes = list(config.get("attributes") or [])
        have = {a.get("name") for a in attributes}
        missing = [name for name in TOKEN_ATTRIBUTES if name not in have]
        if not missing:
            return
        for name in missing:
            attributes.append(
                {
                    "name": name,
                    "displayName": name,
                    "multivalued": False,
                    "permissions": {"view": ["admin", "user"], "edit": ["admin"]},
                    "validations": {},
                    "annotations": {},
                }
            )
        self.api.put(path, {**config, "attributes": attributes})
        self._write_log("update", "user-profile", self.model.name, ", ".join(missing))

    # -- roles ---------------------------------------------------------------

    def _sync_roles(self) -> None:
        path = f"{self.api.base}/roles"
        actual = {r["name"]: r for r in self.api.paged(path, briefRepresentation=False)}
        for role in self.model.roles:
            held = actual.get(role.name)
            body = {
                "name": role.name,
                "description": role.description,
                "attributes": role.attributes(),
            }
            if held is None:
                try:
                    self.api.post(path, body)
                    self._write_log("create", "role", role.name)
                    continue
                except Conflict:
                    held = self.api.get(f"{path}/{path_segment(role.name)}")
            attrs = dict(held.get("attributes") or {})
            if (held.get("description") or "") == role.description and attrs.get(
                MANAGED_KEY
            ) == [MANAGED]:
                continue
            body["attributes"] = {**attrs, **role.attributes()}
            self.api.put(f"{path}/{path_segment(role.name)}", body)
            self._write_log("update", "role", role.name)
        wanted = {r.name for r in self.model.roles}
        for name, held in sorted(actual.items()):
            managed = (held.get("attributes") or {}).get(MANAGED_KEY) == [MANAGED]
            if managed and name not in wanted:
                self._delete(f"{path}/{path_segment(name)}", "role", name)

    # -- groups --------------------------------------------------------------

    def read_groups(self) -> dict[str, ActualGroup]:
        """The whole group tree, every level paged, full representations."""
        groups: dict[str, ActualGroup] = {}
        pending: list[str] = []
        for rep in self.api.paged(f"{self.api.base}/groups", briefRepresentation=False):
            group = _actual_group(rep, None)
            groups[group.id] = group
            if rep.get("subGroupCount", 1) != 0:
                pending.append(group.id)
        while pending:
            parent = pending.pop()
            path = f"{self.api.base}/groups/{parent}/children"
            for rep in self.api.paged(path, briefRepresentation=False):
                group = _actual_group(rep, parent)
                groups[group.id] = group
                if rep.get("subGroupCount", 1) != 0:
                    pending.append(group.id)
        return groups

    def path_of(self, group_id: str) -> str:
        names: list[str] = []
        current: str | None = group_id
        while current is not None:
            group = self.groups[current]
            names.append(group.name)
            current = group.parent_id
        return "/" + "/".join(reversed(names))

    def _import_missing_roots(self) -> bool:
        """Create whole missing top-level trees in one partial import.

        Keycloak creates groups one call each; on a first sync that is one
        call per organisation. A top-level tree that does not exist at all
        (no group with its code, nothing at its name) goes in with one
        ``partialImport`` instead (``ifResourceExists=SKIP``: a tree another
        sync just made is left as it is). Returns whether anything was sent.
        """
        taken = {g.code for g in self.groups.values() if g.managed and g.code}
        top_names = {g.name for g in self.groups.values() if g.parent_id is None}
        by_parent: dict[str | None, list[GroupSpec]] = {}
        for spec in self.model.ordered_groups():
            by_parent.setdefault(spec.parent, []).append(spec)
        roots = [
            spec
            for spec in by_parent.get(None, [])
            if spec.key not in taken and spec.name not in top_names
        ]
        if not roots:
            return False

        def tree(spec: GroupSpec) -> dict[str, Any]:
            if spec.key in taken:
                raise ValueError(spec.key)
            rep: dict[str, Any] = {
                "name": spec.name,
                "attributes": spec.attributes(),
                "subGroups": [tree(kid) for kid in by_parent.get(spec.key, [])],
            }
            if spec.description:
                rep["description"] = spec.description
            return rep

        try:
            groups = [tree(spec) for spec in roots]
        except ValueError:
            return False  # part of the tree exists elsewhere: go group by group
        try:
            response = self.api.post(
                f"{self.api.base}/partialImport",
                {"ifResourceExists": "SKIP", "groups": groups},
            )
        except PermanentError as exc:
            log.info("partial import of groups refused (%s); creating one by one", exc)
            return False
        # A tree another sync made meanwhile was skipped: only report what
        # this import added.
        try:
            results = response.json().get("results") or []
            added = {
                r.get("resourceName") for r in results if r.get("action") == "ADDED"
            }
        except (ValueError, AttributeError):
            added = {root.name for root in roots}
        for root in (r for r in roots if r.name in added):
            stack = [root]
            while stack:
                spec = stack.pop()
                self._write_log("create", "group", spec.key, "partial import")
                stack.extend(by_parent.get(spec.key, []))
        return True

    def _sync_groups(self) -> None:
        self.groups = self.read_groups()
        if self.bulk_create and self._import_missing_roots():
            self.groups = self.read_groups()
        by_code: dict[str, list[ActualGroup]] = {}
        for group in sorted(self.groups.values(), key=lambda g: self.path_of(g.id)):
            if group.managed and group.code:
                by_code.setdefault(group.code, []).append(group)
        slots = {(g.parent_id, g.name): g for g in self.groups.values()}
        for spec in self.model.ordered_groups():
            parent_id = self.group_ids.get(spec.parent) if spec.parent else None
            candidates = by_code.get(spec.key, [])
            held = _pick(candidates, parent_id, spec.name)
            held = held or slots.get((parent_id, spec.name))
            if held is None:
                held = self._create_group(spec, parent_id)
                if held is None:
                    continue
            self.group_ids[spec.key] = held.id
            if held.parent_id != parent_id:
                self._move_group(held, spec, parent_id)
            self._update_group(held, spec)
        # managed groups no organisation uses: gone from the spec, or twins
        # (one code twice) left by an old race or a copy
        used = set(self.group_ids.values())
        doomed = [
            g for g in self.groups.values() if g.managed and g.code and g.id not in used
        ]
        self._delete_groups(doomed)

    def _create_group(
        self, spec: GroupSpec, parent_id: str | None
    ) -> ActualGroup | None:
        body = {
            "name": spec.name,
            "attributes": spec.attributes(),
        }
        if spec.description:
            body["description"] = spec.description
        if parent_id is None:
            path = f"{self.api.base}/groups"
        else:
            path = f"{self.api.base}/groups/{parent_id}/children"
        try:
            response = self.api.post(path, body)
        except Conflict:
            # another sync created it a moment ago: find it where it must be
            parent_path = self.path_of(parent_id) if parent_id else ""
            full = f"{parent_path}/{spec.name}"
            rep = self.api.get(f"{self.api.base}/group-by-path/{quote_path(full)}")
            group = _actual_group(rep, parent_id)
            self.groups[group.id] = group
            log.debug("group %s was created concurrently; adopting %s", full, group.id)
            return group
        group_id = self.api.created_id(response)
        group = ActualGroup(
            group_id, spec.name, parent_id, spec.attributes(), spec.description
        )
        self.groups[group_id] = group
        self.group_ids[spec.key] = group_id
        self._write_log("create", "group", spec.key, self.path_of(group_id))
        return group

    def _move_group(
        self, held: ActualGroup, spec: GroupSpec, parent_id: str | None
    ) -> None:
        body = {"id": held.id, "name": held.name}
        if parent_id is None:
            self.api.post(f"{self.api.base}/groups", body)
        else:
            self.api.post(f"{self.api.base}/groups/{parent_id}/children", body)
        held.parent_id = parent_id
        self._write_log("move", "group", spec.key, self.path_of(held.id))

    def _update_group(self, held: ActualGroup, spec: GroupSpec) -> None:
        wanted = spec.attributes()
        same_attrs = all(held.attributes.get(k) == v for k, v in wanted.items())
        if (
            held.name == spec.name
            and same_attrs
            and held.description == (spec.description or held.description)
        ):
            return
        attributes = {**held.attributes, **wanted}
        body: dict[str, Any] = {"name": spec.name, "attributes": attributes}
        if spec.description:
            body["description"] = spec.description
        self.api.put(f"{self.api.base}/groups/{held.id}", body)
        renamed = held.name != spec.name
        held.name = spec.name
        held.attributes = attributes
        detail = "renamed" if renamed else "attributes"
        self._write_log(
            "update", "group", spec.key, f"{self.path_of(held.id)} {detail}"
        )

    def _subtree(self, group_id: str) -> list[ActualGroup]:
        kids: dict[str | None, list[ActualGroup]] = {}
        for group in self.groups.values():
            kids.setdefault(group.parent_id, []).append(group)
        out: list[ActualGroup] = []
        stack = [self.groups[group_id]]
        while stack:
            group = stack.pop()
            out.append(group)
            stack.extend(kids.get(group.id, []))
        return out

    def _delete_groups(self, doomed: list[ActualGroup]) -> None:
        doomed_ids = {g.id for g in doomed}
        for group in sorted(doomed, key=lambda g: self.path_of(g.id)):
            if group.parent_id in doomed_ids:
                continue  # goes with its parent
            subtree = self._subtree(group.id)
            foreign = [g for g in subtree if g.id not in doomed_ids]
            if foreign:
                names = ", ".join(self.path_of(g.id) for g in foreign[:3])
                log.warning(
                    "keeping group %s: its subtree holds groups not to delete (%s)",
                    self.path_of(group.id),
                    names,
                )
                self.report.add("keep", "group", group.code or group.id, names)
                continue
            self._delete(
                f"{self.api.base}/groups/{group.id}",
                "group",
                group.code or group.id,
                self.path_of(group.id),
            )

    def _delete(self, path: str, kind: str, key: str, detail: str = "") -> None:
        if kind not in self.deletable:
            self.report.add("keep", kind, key, "delete not allowed")
            log.info(
                "keycloak %s: would delete %s %s (not allowed)",
                self.model.name,
                kind,
                key,
            )
            return
        self.api.delete(path)
        self._write_log("delete", kind, key, detail)

    # -- clients and mappers -------------------------------------------------

    def _sync_clients(self) -> None:
        path = f"{self.api.base}/clients"
        actual = {c["clientId"]: c for c in self.api.paged(path)}
        for spec in self.model.clients:
            held = actual.get(spec.client_id)
            if held is None:
                body = {
                    **spec.representation(),
                    "protocolMappers": [m.representation() for m in spec.mappers],
                }
                try:
                    self.api.post(path, body)
                    self._write_log("create", "client", spec.client_id)
                    continue
                except Conflict:
                    found = self.api.get(path, clientId=spec.client_id)
                    if not found:
                        raise
                    held = found[0]
            self._update_client(held, spec)
            self._sync_mappers(held, spec)
        wanted = {c.client_id for c in self.model.clients}
        for client_id, held in sorted(actual.items()):
            managed = (held.get("attributes") or {}).get(MANAGED_KEY) == MANAGED
            if managed and client_id not in wanted:
                self._delete(f"{path}/{held['id']}", "client", client_id)

    def _update_client(self, held: dict[str, Any], spec: ClientSpec) -> None:
        wanted = spec.representation()
        diff: list[str] = []
        attributes = spec.attributes()
        have = dict(held.get("attributes") or {})
        for key, value in wanted.items():
            if key == "attributes":
                if any(have.get(k) != v for k, v in attributes.items()):
                    diff.append(key)
            elif not same(held.get(key), value):
                diff.append(key)
        if not diff:
            return
        body = {k: v for k, v in held.items() if k != "protocolMappers"}
        body.update(wanted)
        body["attributes"] = {**have, **attributes}
        self.api.put(f"{self.api.base}/clients/{held['id']}", body)
        self._write_log("update", "client", spec.client_id, ", ".join(diff))

    def _sync_mappers(self, held: dict[str, Any], spec: ClientSpec) -> None:
        mappers = {m.get("name"): m for m in held.get("protocolMappers") or []}
        path = f"{self.api.base}/clients/{held['id']}/protocol-mappers/models"
        for mapper in spec.mappers:
            rep = mapper.representation()
            current = mappers.get(mapper.name)
            if current is None:
                try:
                    self.api.post(path, rep)
                except Conflict:
                    continue  # the other sync added it with the same definition
                self._write_log("create", "mapper", f"{spec.client_id}/{mapper.name}")
                continue
            config = current.get("config") or {}
            if current.get("protocolMapper") == mapper.protocol_mapper and all(
                config.get(k) == v for k, v in mapper.config.items()
            ):
                continue
            body = {**current, **rep, "config": {**config, **dict(mapper.config)}}
            self.api.put(f"{path}/{current['id']}", body)
            self._write_log("update", "mapper", f"{spec.client_id}/{mapper.name}")

    # -- delegation (fine-grained admin permissions v2) ------------------------

    def admin_permissions_path(self, realm_rep: Mapping[str, Any]) -> str | None:
        client = realm_rep.get("adminPermissionsClient") or {}
        client_id = client.get("id")
        if not client_id:
            return None
        return f"{self.api.base}/clients/{client_id}/authz/resource-server"

    def _subtree_ids(self, key: str) -> list[str]:
        children: dict[str, list[str]] = {}
        for spec in self.model.groups:
            if spec.parent:
                children.setdefault(spec.parent, []).append(spec.key)
        stack = [key]
        ids: list[str] = []
        while stack:
            current = stack.pop()
            if current in self.group_ids:
                ids.append(self.group_ids[current])
            stack.extend(children.get(current, []))
        return sorted(ids)

    def _sync_delegations(self, realm_rep: Mapping[str, Any]) -> None:
        """Members of an organisation's group with the delegated role manage it.

        Keycloak's v2 group permissions do not cascade ``view``/``manage`` to
        child groups, so each permission lists every group of the subtree and
        is updated when groups are added. Two policies per delegation: the
        organisation's group (direct members) and the realm role; the
        permission requires both (UNANIMOUS).
        """
        authz = self.admin_permissions_path(realm_rep)
        if authz is None:
            log.warning(
                "realm %s has no admin-permissions client (Keycloak < 26.2?); "
                "organisation admin delegation skipped",
                self.model.name,
            )
            self.report.add("keep", "permission", "*", "not supported by server")
            return
        policies = {p["name"]: p for p in self.api.paged(f"{authz}/policy")}
        permissions = {p["name"]: p for p in self.api.paged(f"{authz}/permission")}
        role_ids: dict[str, str] = {}
        for delegation in self.model.delegations:
            group_id = self.group_ids.get(delegation.group)
            if group_id is None:
                raise NotFound(
                    "keycloak", f"delegation {delegation.key}: group not in the realm"
                )
            member_policy = f"citycloud-members-{delegation.group}"
            role_policy = f"citycloud-role-{delegation.role}"
            if role_policy not in policies and delegation.role not in role_ids:
                role = self.api.get(
                    f"{self.api.base}/roles/{path_segment(delegation.role)}"
                )
                role_ids[delegation.role] = str(role["id"])
            wanted_policies: dict[str, tuple[str, dict[str, Any]]] = {
                member_policy: (
                    "group",
                    {"groups": [{"id": group_id, "extendChildren": False}]},
                ),
                role_policy: (
                    "role",
                    {
                        "roles": [
                            {"id": role_ids.get(delegation.role), "required": True}
                        ]
                    },
                ),
            }
            for name, (kind, extra) in wanted_policies.items():
                if name in policies:
                    continue
                body = {
                    "name": name,
                    "type": kind,
                    "logic": "POSITIVE",
                    "decisionStrategy": "UNANIMOUS",
                    **extra,
                }
                try:
                    self.api.post(f"{authz}/policy/{kind}", body)
                    self._write_log("create", "policy", name)
                except Conflict:
                    log.debug("policy %s was created concurrently", name)
                policies[name] = body
            subtree = self._subtree_ids(delegation.group)
            body = {
                "name": delegation.permission_name,
                "description": delegation.description(subtree),
                "resourceType": "Groups",
                "resources": subtree,
                "scopes": list(delegation.scopes),
                "policies": [member_policy, role_policy],
                "decisionStrategy": "UNANIMOUS",
                "logic": "POSITIVE",
            }
            held = permissions.get(delegation.permission_name)
            if held is None:
                try:
                    self.api.post(f"{authz}/permission/scope", body)
                    self._write_log(
                        "create", "permission", delegation.key, f"{len(subtree)} groups"
                    )
                except Conflict:
                    log.debug("permission %s was created concurrently", delegation.key)
                continue
            if held.get("description") != body["description"]:
                self.api.put(f"{authz}/permission/scope/{held['id']}", body)
                self._write_log(
                    "update", "permission", delegation.key, f"{len(subtree)} groups"
                )
        wanted = {d.permission_name for d in self.model.delegations}
        for name, held in sorted(permissions.items()):
            if name.startswith("citycloud-manage-") and name not in wanted:
                self._delete(
                    f"{authz}/permission/{held['id']}",
                    "permission",
                    name.removeprefix("citycloud-"),
                )


def same(held: Any, wanted: Any) -> bool:
    """Equal for the sync's purpose: lists as sets, absent as empty."""
    if isinstance(wanted, list):
        return sorted(map(str, held or [])) == sorted(map(str, wanted))
    if isinstance(wanted, str) and held is None:
        return wanted == ""
    return bool(held == wanted)


def quote_path(path: str) -> str:
    """A group path for ``group-by-path``: each segment percent-encoded as UTF-8."""
    return "/".join(path_segment(part) for part in path.strip("/").split("/"))


def sync_realm(
    api: KeycloakApi,
    model: RealmModel,
    *,
    allow_delete: bool | Collection[str] = False,
    bulk_create: bool = True,
) -> SyncReport:
    """Bring ``api.realm`` to ``model``; see :class:`RealmSync`."""
    return RealmSync(
        api, model, allow_delete=allow_delete, bulk_create=bulk_create
    ).run()
