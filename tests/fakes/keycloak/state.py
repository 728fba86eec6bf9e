"""In-memory state of the fake Keycloak: realms, groups, roles, clients, users.

The behaviour follows Keycloak 26 as described in the project's notes on the
admin API: the unique key (realm, parent, name) on groups, name ordering,
paths built from unescaped names, effective defaults of a new realm, and the
events a realm records. Everything here is plain data guarded by the lock the
HTTP layer takes around each request, so concurrent requests behave like the
database's unique keys.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CLIENTS = (
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
)


def default_profile() -> dict[str, Any]:
    """The declarative user profile of a new realm (Keycloak 24+)."""
    everyone = {"view": ["admin", "user"], "edit": ["admin", "user"]}
    return {
        "attributes": [
            {
                "name": name,
                "displayName": name,
                "permissions": dict(everyone),
                "multivalued": False,
                "validations": {},
                "annotations": {},
            }
            for name in ("username", "email", "firstName", "lastName")
        ],
        "groups": [{"name": "user-metadata", "displayHeader": "User metadata"}],
    }


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Group:
    id: str
    name: str
    parent_id: str | None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    description: str | None = None
    realm_roles: list[str] = field(default_factory=list)


@dataclass
class User:
    id: str
    username: str
    rep: dict[str, Any]
    password: str | None = None
    groups: set[str] = field(default_factory=set)
    realm_roles: set[str] = field(default_factory=set)


@dataclass
class Client:
    id: str
    rep: dict[str, Any]
    mappers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # authorization services (only the admin-permissions client uses them)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Realm:
    id: str
    rep: dict[str, Any]
    groups: dict[str, Group] = field(default_factory=dict)
    # (parent id or None) -> {name: group id}: the unique key of the table
    children: dict[str | None, dict[str, str]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=lambda: default_profile())
    admin_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.rep["realm"])


class FakeState:
    """The whole server: realms by name plus token bookkeeping."""

    def __init__(
        self,
        *,
        admin_user: str = "admin",
        admin_password: str = "admin",
        access_lifespan: int = 60,
        refresh_lifespan: int = 1800,
        escape_slashes: bool = False,
    ) -> None:
        self.offset = 0.0
        self.access_lifespan = access_lifespan
        self.refresh_lifespan = refresh_lifespan
        self.escape_slashes = escape_slashes
        self.realms: dict[str, Realm] = {}
        # token -> (realm name, username, expiry epoch seconds)
        self.access_tokens: dict[str, tuple[str, str, float]] = {}
        self.refresh_tokens: dict[str, tuple[str, str, float]] = {}
        master = self.create_realm({"realm": "master", "enabled": True})
        master.rep["accessTokenLifespan"] = access_lifespan
        self.add_user(master, admin_user, admin_password)

    # -- clock ---------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    # -- realms --------------------------------------------------------------

    def create_realm(self, rep: dict[str, Any]) -> Realm:
        name = rep["realm"]
        realm_rep: dict[str, Any] = {
            "id": rep.get("id") or name,
            "realm": name,
            "enabled": False,
            "accessTokenLifespan": 300,
            "ssoSessionIdleTimeout": 1800,
            "ssoSessionMaxLifespan": 36000,
            "eventsEnabled": False,
            "eventsExpiration": None,
            "eventsListeners": ["jboss-logging"],
            "enabledEventTypes": [],
            "adminEventsEnabled": False,
            "adminEventsDetailsEnabled": False,
            "adminPermissionsEnabled": False,
            "attributes": {},
        }
        for key, value in rep.items():
            if key not in ("groups", "roles", "clients", "users"):
                realm_rep[key] = value
        realm = Realm(id=realm_rep["id"], rep=realm_rep)
        self.realms[name] = realm
        for role in ("offline_access", "uma_authorization", f"default-roles-{name}"):
            realm.roles[role] = {
                "id": new_id(),
                "name": role,
                "composite": role.startswith("default-roles-"),
                "clientRole": False,
                "containerId": realm.id,
                "attributes": {},
            }
        for client_id in DEFAULT_CLIENTS:
            self.add_client(realm, {"clientId": client_id})
        self._import(realm, rep)
        return realm

    def _import(self, realm: Realm, rep: dict[str, Any]) -> None:
        """Roles, groups and clients given with a new realm (a realm import)."""
        for role in (rep.get("roles") or {}).get("realm", []):
            realm.roles[role["name"]] = {
                "id": new_id(),
                "composite": False,
                "clientRole": False,
                "containerId": realm.id,
                "description": role.get("description"),
                "attributes": dict(role.get("attributes") or {}),
                "name": role["name"],
            }

        def add_groups(parent: str | None, groups: list[dict[str, Any]]) -> None:
            for group_rep in groups:
                group = self.add_group(realm, parent, group_rep)
                add_groups(group.id, group_rep.get("subGroups") or [])

        add_groups(None, rep.get("groups") or [])
        for client_rep in rep.get("clients") or []:
            self.add_client(realm, dict(client_rep))

    def enable_admin_permissions(self, realm: Realm) -> None:
        if realm.rep.get("adminPermissionsClient"):
            return
        client = self.add_client(realm, {"clientId": "admin-permissions"})
        realm.rep["adminPermissionsClient"] = {
            "id": client.id,
            "clientId": "admin-permissions",
        }

    # -- groups --------------------------------------------------------------

    def group_path(self, realm: Realm, group: Group) -> str:
        parts: list[str] = []
        current: Group | None = group
        while current is not None:
            name = current.name
            if self.escape_slashes:
                name = name.replace("/", "~/")
            parts.append(name)
            current = realm.groups.get(current.parent_id) if current.parent_id else None
        return "/" + "/".join(reversed(parts))

    def sorted_children(self, realm: Realm, parent_id: str | None) -> list[Group]:
        names = realm.children.get(parent_id, {})
        return [realm.groups[names[name]] for name in sorted(names)]

    def add_group(
        self, realm: Realm, parent_id: str | None, rep: dict[str, Any]
    ) -> Group:
        group = Group(
            id=new_id(),
            name=rep["name"],
            parent_id=parent_id,
            attributes={k: list(v) for k, v in (rep.get("attributes") or {}).items()},
            description=rep.get("description"),
        )
        realm.groups[group.id] = group
        realm.children.setdefault(parent_id, {})[group.name] = group.id
        return group

    def rename_group(self, realm: Realm, group: Group, name: str) -> None:
        siblings = realm.children.setdefault(group.parent_id, {})
        del siblings[group.name]
        group.name = name
        siblings[name] = group.id

    def remove_group(self, realm: Realm, group: Group) -> None:
        for child in self.sorted_children(realm, group.id):
            self.remove_group(realm, child)
        realm.children.get(group.parent_id, {}).pop(group.name, None)
        realm.children.pop(group.id, None)
        del realm.groups[group.id]
        for user in realm.users.values():
            user.groups.discard(group.id)

    def find_by_path(self, realm: Realm, path: str) -> Group | None:
        """Walk the path segment by segment like KeycloakModelUtils.

        With unescaped slashes a segment that is not found is joined with the
        next one ("a" then "a/b"); there is no backtracking.
        """
        segments = path.strip("/").split("/") if path.strip("/") else []
        parent: str | None = None
        found: Group | None = None
        i = 0
        while i < len(segments):
            name = segments[i]
            j = i
            while True:
                gid = realm.children.get(parent, {}).get(name)
                if gid is not None:
                    break
                j += 1
                if j >= len(segments):
                    return None
                name = name + "/" + segments[j]
            found = realm.groups[gid]
            parent = gid
            i = j + 1
        return found

    # -- clients and users ---------------------------------------------------

    def add_client(self, realm: Realm, rep: dict[str, Any]) -> Client:
        client_rep = {
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": False,
            "redirectUris": [],
            "webOrigins": [],
            "attributes": {},
            **rep,
        }
        client_rep.pop("protocolMappers", None)
        client = Client(id=rep.get("id") or new_id(), rep=client_rep)
        client.rep["id"] = client.id
        for mapper in rep.get("protocolMappers") or []:
            mapper_id = mapper.get("id") or new_id()
            client.mappers[mapper_id] = {**mapper, "id": mapper_id}
        realm.clients[client.id] = client
        return client

    def add_user(
        self, realm: Realm, username: str, password: str | None = None
    ) -> User:
        user = User(
            id=new_id(),
            username=username.lower(),
            rep={
                "username": username.lower(),
                "enabled": True,
                "emailVerified": False,
                "createdTimestamp": int(self.now() * 1000),
                "attributes": {},
            },
            password=password,
        )
        realm.users[user.id] = user
        return user

    # -- events --------------------------------------------------------------

    def record_event(self, realm: Realm, event_type: str, **fields: Any) -> None:
        if not realm.rep.get("eventsEnabled"):
            return
        types = realm.rep.get("enabledEventTypes") or []
        if types and event_type not in types:
            return
        realm.events.append(
            {
                "id": new_id(),
                "time": self.now_ms(),
                "type": event_type,
                "realmId": realm.id,
                "ipAddress": "127.0.0.1",
                "details": {},
                **fields,
            }
        )

    def record_admin_event(
        self,
        realm: Realm,
        operation: str,
        resource_type: str,
        resource_path: str,
        representation: Any,
        auth: tuple[str, str] | None,
    ) -> None:
        if not realm.rep.get("adminEventsEnabled"):
            return
        auth_user = ""
        if auth:  # Keycloak records the admin's user id, not the username
            master = self.realms.get(auth[0])
            users = master.users.values() if master else []
            auth_user = next((u.id for u in users if u.username == auth[1]), auth[1])
        event: dict[str, Any] = {
            "id": new_id(),
            "time": self.now_ms(),
            "realmId": realm.id,
            "authDetails": {
                "realmId": "master",
                "clientId": "admin-cli",
                "userId": auth_user,
                "ipAddress": "127.0.0.1",
            },
            "operationType": operation,
            "resourceType": resource_type,
            "resourcePath": resource_path,
        }
        if realm.rep.get("adminEventsDetailsEnabled") and representation is not None:
            event["representation"] = json.dumps(representation, ensure_ascii=False)
        realm.admin_events.append(event)
