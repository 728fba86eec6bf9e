"""HTTP behaviour of the fake Keycloak: routes, status codes, bodies, paging.

`FakeKeycloakApp.handle` turns one request into (status, headers, body); the
server module puts it behind a threaded HTTP listener on loopback. Each request
runs under one lock, the way the database's unique keys serialise conflicting
writes on the real server. Calls are counted per route so tests and the bench
can assert how many reads and writes a sync made.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from .state import Client, FakeState, Group, Realm, User, new_id

Response = tuple[int, dict[str, str], bytes]
Params = dict[str, list[str]]


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def not_found(message: str) -> HttpError:
    return HttpError(404, {"error": message})


def conflict(message: str) -> HttpError:
    return HttpError(409, {"errorMessage": message})


def flag(params: Params, name: str, default: bool) -> bool:
    values = params.get(name)
    if not values:
        return default
    return values[0].lower() == "true"


def number(params: Params, name: str, default: int | None) -> int | None:
    values = params.get(name)
    if not values or values[0] == "":
        return default
    try:
        return int(values[0])
    except ValueError as exc:
        raise HttpError(400, {"error": f"invalid {name}"}) from exc


def text(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def page(items: list[Any], params: Params, default_max: int | None) -> list[Any]:
    first = number(params, "first", 0) or 0
    size = number(params, "max", default_max)
    if first < 0:
        first = 0
    if size is None or size < 0:
        return items[first:]
    return items[first : first + size]


ACCESS = {
    "view": True,
    "viewMembers": True,
    "manageMembers": True,
    "manage": True,
    "manageMembership": True,
}


class FakeKeycloakApp:
    def __init__(self, state: FakeState | None = None) -> None:
        self.state = state or FakeState()
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.reads = 0
        self.writes = 0
        self.token_requests = 0
        self.base_url = "http://127.0.0.1"
        # called (under the lock) before each admin request: tests use it to
        # move the clock or fail a call at a chosen moment
        self.before_request: Callable[[str, str], None] | None = None
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Any], str]] = []
        self._install_routes()

    # -- bookkeeping ---------------------------------------------------------

    def reset_counts(self) -> None:
        with self.lock:
            self.calls.clear()
            self.reads = 0
            self.writes = 0
            self.token_requests = 0

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {
                "reads": self.reads,
                "writes": self.writes,
                "tokens": self.token_requests,
            }

    # -- entry point ---------------------------------------------------------

    def handle(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        with self.lock:
            try:
                return self._dispatch(method, raw_path, query, headers, body)
            except HttpError as err:
                return self._json(err.status, err.body)

    def _dispatch(
        self,
        method: str,
        raw_path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        params = parse_qs(query, keep_blank_values=True)
        token_match = re.fullmatch(
            r"/realms/([^/]+)/protocol/openid-connect/token", raw_path
        )
        if token_match and method == "POST":
            self.token_requests += 1
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            return self._token(unquote(token_match.group(1)), form)
        for route_method, pattern, handler, label in self._routes:
            if route_method != method:
                continue
            match = pattern.fullmatch(raw_path)
            if match is None:
                continue
            if self.before_request is not None:
                self.before_request(method, raw_path)
            auth = self._authenticate(headers)
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1
            self.calls[f"{method} {label}"] += 1
            args = [unquote(g) for g in match.groups()]
            payload: Any = None
            if body:
                try:
                    payload = json.loads(body.decode("utf-8"))
                except ValueError as exc:
                    raise HttpError(400, {"error": "unknown_error"}) from exc
            result = handler(*args, params=params, body=payload, auth=auth)
            return result  # type: ignore[no-any-return]
        raise HttpError(
            404, {"error": "Unable to find matching target resource method"}
        )

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _json(
        status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> Response:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **(extra or {})}
        return status, headers, data

    def _created(self, location: str, payload: Any = None) -> Response:
        headers = {"Location": f"{self.base_url}{location}"}
        if payload is None:
            return 201, headers, b""
        return self._json(201, payload, headers)

    @staticmethod
    def _no_content() -> Response:
        return 204, {}, b""

    def _realm(self, name: str) -> Realm:
        realm = self.state.realms.get(name)
        if realm is None:
            raise not_found("Realm not found.")
        return realm

    def _authenticate(self, headers: dict[str, str]) -> tuple[str, str]:
        value = headers.get("authorization", "")
        if not value.lower().startswith("bearer "):
            raise HttpError(401, {"error": "HTTP 401 Unauthorized"})
        token = value.split(" ", 1)[1].strip()
        entry = self.state.access_tokens.get(token)
        if entry is None or entry[2] <= self.state.now() or entry[0] != "master":
            raise HttpError(401, {"error": "HTTP 401 Unauthorized"})
        return entry[0], entry[1]

    def _admin_event(
        self,
        realm: Realm,
        op: str,
        rtype: str,
        path: str,
        rep: Any,
        auth: tuple[str, str],
    ) -> None:
        self.state.record_admin_event(realm, op, rtype, path, rep, auth)

    # -- token endpoint ------------------------------------------------------

    def _token(self, realm_name: str, form: Params) -> Response:
        realm = self.state.realms.get(realm_name)
        if realm is None:
            raise not_found("Realm does not exist")
        grant = text(form, "grant_type")
        client_id = text(form, "client_id") or ""
        if not any(c.rep.get("clientId") == client_id for c in realm.clients.values()):
            raise HttpError(
                401,
                {"error": "invalid_client", "error_description": "Invalid client"},
            )
        client = next(
            c for c in realm.clients.values() if c.rep["clientId"] == client_id
        )
        if grant == "password":
            if client.rep.get("directAccessGrantsEnabled") is False:
                raise HttpError(
                    400,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Client not allowed for direct access "
                        "grants",
                    },
                )
            username = (text(form, "username") or "").lower()
            password = text(form, "password")
            user = next(
                (u for u in realm.users.values() if u.username == username), None
            )
            if user is None or user.password is None or user.password != password:
                self.state.record_event(
                    realm,
                    "LOGIN_ERROR",
                    clientId=client_id,
                    error="invalid_user_credentials",
                    details={"username": username},
                )
                raise HttpError(
                    401,
                    {
                        "error": "invalid_grant",
                        "error_description": "Invalid user credentials",
                    },
                )
            self.state.record_event(
                realm,
                "LOGIN",
                clientId=client_id,
                userId=user.id,
                sessionId=new_id(),
                details={"username": username},
            )
            scopes = (text(form, "scope") or "").split()
            id_token = None
            if "openid" in scopes and realm.name != "master":
                id_token = self._id_token(realm, client, user)
            return self._issue(realm, user.username, id_token)
        if grant == "refresh_token":
            token = text(form, "refresh_token") or ""
            entry = self.state.refresh_tokens.get(token)
            if entry is None or entry[2] <= self.state.now():
                raise HttpError(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token is not active",
                    },
                )
            return self._issue(realm, entry[1])
        raise HttpError(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "Unsupported grant_type",
            },
        )

    def _id_token(self, realm: Realm, client: Client, user: User) -> str:
        """An unsigned JWT whose claims follow the client's protocol mappers.

        Only what the project's mappers use is evaluated: group membership
        (direct groups, full paths or names), user attributes (first value
        unless multivalued) and realm roles (effective: the realm's default
        roles are added), each only when ``id.token.claim`` is exactly "true".
        """
        now = int(self.state.now())
        claims: dict[str, Any] = {
            "iss": f"{self.base_url}/realms/{realm.name}",
            "aud": client.rep["clientId"],
            "azp": client.rep["clientId"],
            "sub": user.id,
            "typ": "ID",
            "iat": now,
            "exp": now + int(realm.rep.get("accessTokenLifespan") or 300),
            "preferred_username": user.username,
        }
        if user.rep.get("email"):
            claims["email"] = user.rep["email"]
        for mapper in client.mappers.values():
            config = mapper.get("config") or {}
            if config.get("id.token.claim") != "true":
                continue
            name = config.get("claim.name") or mapper.get("name")
            kind = mapper.get("protocolMapper")
            if kind == "oidc-group-membership-mapper":
                groups = [realm.groups[g] for g in sorted(user.groups)]
                full = config.get("full.path") == "true"
                claims[name] = sorted(
                    self.state.group_path(realm, g) if full else g.name for g in groups
                )
            elif kind == "oidc-usermodel-attribute-mapper":
                values = (user.rep.get("attributes") or {}).get(
                    config.get("user.attribute"), []
                )
                if values:
                    multi = config.get("multivalued") == "true"
                    claims[name] = list(values) if multi else values[0]
            elif kind == "oidc-usermodel-realm-role-mapper":
                default = f"default-roles-{realm.name}"
                roles = set(user.realm_roles) | {
                    default,
                    "offline_access",
                    "uma_authorization",
                }
                claims[name] = sorted(roles)
        header = {"alg": "none", "typ": "JWT"}
        parts = [
            base64.urlsafe_b64encode(json.dumps(p, ensure_ascii=False).encode())
            .rstrip(b"=")
            .decode()
            for p in (header, claims)
        ]
        return ".".join([*parts, ""])

    def _issue(
        self, realm: Realm, username: str, id_token: str | None = None
    ) -> Response:
        access = secrets.token_urlsafe(24)
        refresh = secrets.token_urlsafe(24)
        now = self.state.now()
        lifespan = int(realm.rep.get("accessTokenLifespan") or 300)
        refresh_lifespan = self.state.refresh_lifespan
        self.state.access_tokens[access] = (realm.name, username, now + lifespan)
        self.state.refresh_tokens[refresh] = (
            realm.name,
            username,
            now + refresh_lifespan,
        )
        return self._json(
            200,
            {
                "access_token": access,
                "expires_in": lifespan,
                "refresh_expires_in": refresh_lifespan,
                "refresh_token": refresh,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "session_state": new_id(),
                "scope": "openid profile email",
                **({"id_token": id_token} if id_token else {}),
            },
        )

    # -- routes --------------------------------------------------------------

    def _install_routes(self) -> None:
        r = "/admin/realms/([^/]+)"
        g = r + "/groups/([^/]+)"
        c = r + "/clients/([^/]+)"
        u = r + "/users/([^/]+)"
        authz = c + "/authz/resource-server"
        table: list[tuple[str, str, Callable[..., Any], str]] = [
            ("GET", "/admin/realms", self.list_realms, "realms"),
            ("POST", "/admin/realms", self.post_realm, "realms"),
            ("GET", r, self.get_realm, "realm"),
            ("PUT", r, self.put_realm, "realm"),
            ("DELETE", r, self.delete_realm, "realm"),
            ("POST", r + "/partialImport", self.partial_import, "partialImport"),
            ("GET", r + "/groups", self.list_groups, "groups"),
            ("POST", r + "/groups", self.post_group, "groups"),
            ("GET", r + "/groups/count", self.count_groups, "groups/count"),
            ("GET", g, self.get_group, "group"),
            ("PUT", g, self.put_group, "group"),
            ("DELETE", g, self.delete_group, "group"),
            ("GET", g + "/children", self.list_children, "group/children"),
            ("POST", g + "/children", self.post_child, "group/children"),
            ("GET", g + "/members", self.group_members, "group/members"),
            ("GET", r + "/group-by-path/(.*)", self.group_by_path, "group-by-path"),
            ("GET", r + "/roles", self.list_roles, "roles"),
            ("POST", r + "/roles", self.post_role, "roles"),
            ("GET", r + "/roles/([^/]+)", self.get_role, "role"),
            ("PUT", r + "/roles/([^/]+)", self.put_role, "role"),
            ("DELETE", r + "/roles/([^/]+)", self.delete_role, "role"),
            ("GET", r + "/clients", self.list_clients, "clients"),
            ("POST", r + "/clients", self.post_client, "clients"),
            ("GET", c, self.get_client, "client"),
            ("PUT", c, self.put_client, "client"),
            ("DELETE", c, self.delete_client, "client"),
            ("GET", c + "/protocol-mappers/models", self.list_mappers, "mappers"),
            ("POST", c + "/protocol-mappers/models", self.post_mapper, "mappers"),
            ("PUT", c + "/protocol-mappers/models/([^/]+)", self.put_mapper, "mapper"),
            (
                "DELETE",
                c + "/protocol-mappers/models/([^/]+)",
                self.delete_mapper,
                "mapper",
            ),
            ("GET", authz + "/policy", self.list_policies, "authz/policy"),
            ("POST", authz + "/policy/([a-z]+)", self.post_policy, "authz/policy"),
            (
                "PUT",
                authz + "/policy/([a-z]+)/([^/]+)",
                self.put_policy,
                "authz/policy",
            ),
            ("GET", authz + "/permission", self.list_permissions, "authz/permission"),
            (
                "POST",
                authz + "/permission/scope",
                self.post_permission,
                "authz/permission",
            ),
            (
                "PUT",
                authz + "/permission/scope/([^/]+)",
                self.put_permission,
                "authz/permission",
            ),
            (
                "DELETE",
                authz + "/permission/([^/]+)",
                self.delete_permission,
                "authz/permission",
            ),
            ("GET", r + "/users", self.list_users, "users"),
            ("POST", r + "/users", self.post_user, "users"),
            ("GET", r + "/users/count", self.count_users, "users/count"),
            ("GET", r + "/users/profile", self.get_profile, "users/profile"),
            ("PUT", r + "/users/profile", self.put_profile, "users/profile"),
            ("GET", u, self.get_user, "user"),
            ("PUT", u, self.put_user, "user"),
            ("DELETE", u, self.delete_user, "user"),
            ("GET", u + "/groups", self.user_groups, "user/groups"),
            (
                "GET",
                u + "/role-mappings/realm",
                self.user_roles,
                "user/role-mappings",
            ),
            (
                "POST",
                u + "/role-mappings/realm",
                self.add_user_roles,
                "user/role-mappings",
            ),
            ("PUT", u + "/groups/([^/]+)", self.join_group, "user/groups"),
            ("DELETE", u + "/groups/([^/]+)", self.leave_group, "user/groups"),
            ("GET", r + "/events", self.list_events, "events"),
            ("GET", r + "/admin-events", self.list_admin_events, "admin-events"),
            ("GET", r + "/events/config", self.get_events_config, "events/config"),
            ("PUT", r + "/events/config", self.put_events_config, "events/config"),
        ]
        for method, pattern, handler, label in table:
            self._routes.append((method, re.compile(pattern), handler, label))

    # -- realms --------------------------------------------------------------

    def list_realms(self, **_: Any) -> Response:
        return self._json(200, [dict(r.rep) for r in self.state.realms.values()])

    def post_realm(self, *, body: Any, **_: Any) -> Response:
        if not body or not body.get("realm"):
            raise HttpError(400, {"errorMessage": "Realm name cannot be empty"})
        if body["realm"] in self.state.realms:
            raise conflict("Conflict detected. See logs for details")
        realm = self.state.create_realm(body)
        if body.get("adminPermissionsEnabled"):
            self.state.enable_admin_permissions(realm)
        return self._created(f"/admin/realms/{realm.name}")

    def get_realm(self, name: str, **_: Any) -> Response:
        return self._json(200, dict(self._realm(name).rep))

    def put_realm(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        for key, value in (body or {}).items():
            if key in ("groups", "roles", "clients", "users", "id", "realm"):
                continue
            realm.rep[key] = value
        if realm.rep.get("adminPermissionsEnabled"):
            self.state.enable_admin_permissions(realm)
        self._admin_event(realm, "UPDATE", "REALM", "", body, auth)
        return self._no_content()

    def delete_realm(self, name: str, **_: Any) -> Response:
        self._realm(name)
        del self.state.realms[name]
        return self._no_content()

    def partial_import(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        """Groups only: top-level trees, existing ones per ifResourceExists."""
        realm = self._realm(name)
        policy = (body or {}).get("ifResourceExists", "FAIL")
        unsupported = [
            k for k in (body or {}) if k not in ("ifResourceExists", "groups")
        ]
        if unsupported:
            raise HttpError(400, {"errorMessage": f"fake: cannot import {unsupported}"})
        results: list[dict[str, Any]] = []
        added = skipped = 0
        for group_rep in body.get("groups") or []:
            self._check_name(group_rep)
            existing = realm.children.get(None, {}).get(group_rep["name"])
            if existing is not None:
                if policy == "FAIL":
                    raise conflict(f"Group '{group_rep['name']}' already exists")
                if policy == "SKIP":
                    skipped += 1
                    results.append(
                        {
                            "action": "SKIPPED",
                            "resourceType": "GROUP",
                            "resourceName": group_rep["name"],
                            "id": existing,
                        }
                    )
                    continue
                self.state.remove_group(realm, realm.groups[existing])

            def add(parent: str | None, rep: dict[str, Any]) -> str:
                self._check_name(rep)
                group = self.state.add_group(realm, parent, rep)
                for kid in rep.get("subGroups") or []:
                    add(group.id, kid)
                return group.id

            group_id = add(None, group_rep)
            added += 1
            results.append(
                {
                    "action": "ADDED",
                    "resourceType": "GROUP",
                    "resourceName": group_rep["name"],
                    "id": group_id,
                }
            )
        self._admin_event(realm, "CREATE", "REALM", "partialImport", None, auth)
        return self._json(
            200,
            {"overwritten": 0, "added": added, "skipped": skipped, "results": results},
        )

    # -- groups --------------------------------------------------------------

    def _group(self, realm: Realm, group_id: str) -> Group:
        group = realm.groups.get(group_id)
        if group is None:
            raise not_found("Could not find group by id")
        return group

    def _group_rep(
        self,
        realm: Realm,
        group: Group,
        *,
        brief: bool,
        listing: bool,
    ) -> dict[str, Any]:
        rep: dict[str, Any] = {
            "id": group.id,
            "name": group.name,
            "path": self.state.group_path(realm, group),
        }
        if group.description is not None:
            rep["description"] = group.description
        if group.parent_id is not None:
            rep["parentId"] = group.parent_id
        rep["subGroupCount"] = len(realm.children.get(group.id, {}))
        rep["subGroups"] = []
        if not brief:
            rep["attributes"] = {k: list(v) for k, v in group.attributes.items()}
            rep["realmRoles"] = list(group.realm_roles)
            rep["clientRoles"] = {}
        if listing:
            rep["access"] = dict(ACCESS)
        return rep

    @staticmethod
    def _matches(group: Group, params: Params) -> bool:
        search = text(params, "search")
        if search is not None:
            if flag(params, "exact", False):
                if group.name != search:
                    return False
            elif search.lower() not in group.name.lower():
                return False
        q = text(params, "q")
        if q:
            for pair in q.split(" "):
                if ":" not in pair:
                    continue
                key, value = pair.split(":", 1)
                if value not in group.attributes.get(key, []):
                    return False
        return True

    def list_groups(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        brief = flag(params, "briefRepresentation", True)
        if text(params, "search") is None and not text(params, "q"):
            tops = self.state.sorted_children(realm, None)
            return self._json(
                200,
                [
                    self._group_rep(realm, grp, brief=brief, listing=True)
                    for grp in page(tops, params, None)
                ],
            )
        # search: matches at any depth, paged, shown under their ancestors
        matches = sorted(
            (grp for grp in realm.groups.values() if self._matches(grp, params)),
            key=lambda grp: self.state.group_path(realm, grp),
        )
        roots: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for grp in page(matches, params, None):
            chain: list[Group] = []
            current: Group | None = grp
            while current is not None:
                chain.append(current)
                current = realm.groups.get(current.parent_id or "")
            chain.reverse()
            level = roots
            container: list[dict[str, Any]] | None = None
            for node in chain:
                existing = level.get(node.id)
                if existing is None:
                    existing = self._group_rep(realm, node, brief=brief, listing=True)
                    existing["_kids"] = {}
                    level[node.id] = existing
                    if container is not None:
                        container.append(existing)
                    elif node.id not in order:
                        order.append(node.id)
                container = existing["subGroups"]
                level = existing["_kids"]

        def strip(rep: dict[str, Any]) -> dict[str, Any]:
            rep.pop("_kids", None)
            for child in rep["subGroups"]:
                strip(child)
            return rep

        return self._json(200, [strip(roots[gid]) for gid in order])

    def count_groups(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        if flag(params, "top", False):
            groups = self.state.sorted_children(realm, None)
        else:
            groups = list(realm.groups.values())
        count = sum(1 for grp in groups if self._matches(grp, params))
        return self._json(200, {"count": count})

    def get_group(self, name: str, group_id: str, **_: Any) -> Response:
        realm = self._realm(name)
        grp = self._group(realm, group_id)
        return self._json(200, self._group_rep(realm, grp, brief=False, listing=True))

    def _check_name(self, body: Any) -> str:
        group_name = (body or {}).get("name")
        if not group_name or not str(group_name).strip():
            raise HttpError(400, {"errorMessage": "Group name is missing"})
        return str(group_name)

    def post_group(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        if body and body.get("id"):
            grp = self._group(realm, body["id"])
            if grp.name in realm.children.get(None, {}):
                raise conflict(f"Top level group named '{grp.name}' already exists.")
            realm.children[grp.parent_id].pop(grp.name)
            grp.parent_id = None
            realm.children.setdefault(None, {})[grp.name] = grp.id
            return self._no_content()
        group_name = self._check_name(body)
        if group_name in realm.children.get(None, {}):
            raise conflict(f"Top level group named '{group_name}' already exists.")
        grp = self.state.add_group(realm, None, body)
        self._admin_event(realm, "CREATE", "GROUP", f"groups/{grp.id}", body, auth)
        return self._created(f"/admin/realms/{name}/groups/{grp.id}")

    def post_child(
        self, name: str, parent_id: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        parent = self._group(realm, parent_id)
        if body and body.get("id"):
            # an existing group is moved under this parent
            grp = self._group(realm, body["id"])
            if grp.name in realm.children.get(parent.id, {}):
                raise conflict(f"Sibling group named '{grp.name}' already exists.")
            realm.children[grp.parent_id].pop(grp.name)
            grp.parent_id = parent.id
            realm.children.setdefault(parent.id, {})[grp.name] = grp.id
            self._admin_event(realm, "UPDATE", "GROUP", f"groups/{grp.id}", body, auth)
            return self._no_content()
        group_name = self._check_name(body)
        if group_name in realm.children.get(parent.id, {}):
            raise conflict(f"Sibling group named '{group_name}' already exists.")
        grp = self.state.add_group(realm, parent.id, body)
        self._admin_event(
            realm, "CREATE", "GROUP", f"groups/{parent.id}/children", body, auth
        )
        rep = self._group_rep(realm, grp, brief=True, listing=False)
        return self._created(f"/admin/realms/{name}/groups/{grp.id}", rep)

    def put_group(
        self, name: str, group_id: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        grp = self._group(realm, group_id)
        body = body or {}
        new_name = body.get("name")
        if new_name and new_name != grp.name:
            if new_name in realm.children.get(grp.parent_id, {}):
                raise conflict(f"Sibling group named '{new_name}' already exists.")
            self.state.rename_group(realm, grp, new_name)
        if body.get("attributes") is not None:
            grp.attributes = {k: list(v) for k, v in body["attributes"].items()}
        if "description" in body:
            grp.description = body["description"]
        self._admin_event(realm, "UPDATE", "GROUP", f"groups/{grp.id}", body, auth)
        return self._no_content()

    def delete_group(
        self, name: str, group_id: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        grp = self._group(realm, group_id)
        self.state.remove_group(realm, grp)
        self._admin_event(realm, "DELETE", "GROUP", f"groups/{group_id}", None, auth)
        return self._no_content()

    def list_children(
        self, name: str, group_id: str, *, params: Params, **_: Any
    ) -> Response:
        realm = self._realm(name)
        grp = self._group(realm, group_id)
        brief = flag(params, "briefRepresentation", False)
        kids = [
            kid
            for kid in self.state.sorted_children(realm, grp.id)
            if self._matches(kid, params)
        ]
        return self._json(
            200,
            [
                self._group_rep(realm, kid, brief=brief, listing=True)
                for kid in page(kids, params, 10)
            ],
        )

    def group_members(
        self, name: str, group_id: str, *, params: Params, **_: Any
    ) -> Response:
        realm = self._realm(name)
        grp = self._group(realm, group_id)
        members = sorted(
            (u for u in realm.users.values() if grp.id in u.groups),
            key=lambda u: u.username,
        )
        return self._json(200, [self._user_rep(u) for u in page(members, params, 100)])

    def group_by_path(self, name: str, path: str, **_: Any) -> Response:
        realm = self._realm(name)
        if "//" in path or "/../" in f"/{path}/":
            raise HttpError(400, {"error": "missingNormalization"})
        grp = self.state.find_by_path(realm, path)
        if grp is None:
            raise not_found("Group path does not exist")
        return self._json(200, self._group_rep(realm, grp, brief=False, listing=True))

    # -- roles ---------------------------------------------------------------

    def list_roles(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        search = (text(params, "search") or "").lower()
        brief = flag(params, "briefRepresentation", True)
        roles = [
            dict(realm.roles[key])
            for key in sorted(realm.roles)
            if search in key.lower()
        ]
        if brief:
            for role in roles:
                role.pop("attributes", None)
        return self._json(200, page(roles, params, None))

    def post_role(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        role_name = (body or {}).get("name")
        if not role_name:
            raise HttpError(400, {"errorMessage": "Role name is missing"})
        if role_name in realm.roles:
            raise conflict(f"Role with name {role_name} already exists")
        realm.roles[role_name] = {
            "id": new_id(),
            "name": role_name,
            "description": body.get("description"),
            "composite": False,
            "clientRole": False,
            "containerId": realm.id,
            "attributes": dict(body.get("attributes") or {}),
        }
        self._admin_event(
            realm, "CREATE", "REALM_ROLE", f"roles/{role_name}", body, auth
        )
        return self._created(f"/admin/realms/{name}/roles/{role_name}")

    def _role(self, realm: Realm, role_name: str) -> dict[str, Any]:
        role = realm.roles.get(role_name)
        if role is None:
            raise not_found("Could not find role")
        return role

    def get_role(self, name: str, role_name: str, **_: Any) -> Response:
        return self._json(200, dict(self._role(self._realm(name), role_name)))

    def put_role(
        self, name: str, role_name: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        role = self._role(realm, role_name)
        for key in ("description", "attributes"):
            if key in (body or {}):
                role[key] = body[key]
        self._admin_event(
            realm, "UPDATE", "REALM_ROLE", f"roles/{role_name}", body, auth
        )
        return self._no_content()

    def delete_role(
        self, name: str, role_name: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        self._role(realm, role_name)
        del realm.roles[role_name]
        self._admin_event(
            realm, "DELETE", "REALM_ROLE", f"roles/{role_name}", None, auth
        )
        return self._no_content()

    # -- clients and mappers -------------------------------------------------

    def _client(self, realm: Realm, client_uuid: str) -> Client:
        client = realm.clients.get(client_uuid)
        if client is None:
            raise not_found("Could not find client")
        return client

    def _client_rep(self, client: Client) -> dict[str, Any]:
        rep = dict(client.rep)
        if client.mappers:
            rep["protocolMappers"] = [dict(m) for m in client.mappers.values()]
        return rep

    def list_clients(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        wanted = text(params, "clientId")
        search = flag(params, "search", False)
        clients = sorted(realm.clients.values(), key=lambda c: str(c.rep["clientId"]))
        if wanted is not None:
            if search:
                clients = [
                    c for c in clients if wanted.lower() in c.rep["clientId"].lower()
                ]
            else:
                clients = [c for c in clients if c.rep["clientId"] == wanted]
        return self._json(
            200, [self._client_rep(c) for c in page(clients, params, None)]
        )

    def post_client(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        client_id = (body or {}).get("clientId")
        if not client_id:
            raise HttpError(400, {"errorMessage": "Client id is missing"})
        if any(c.rep["clientId"] == client_id for c in realm.clients.values()):
            raise conflict(f"Client {client_id} already exists")
        client = self.state.add_client(realm, body)
        self._admin_event(realm, "CREATE", "CLIENT", f"clients/{client.id}", body, auth)
        return self._created(f"/admin/realms/{name}/clients/{client.id}")

    def get_client(self, name: str, client_uuid: str, **_: Any) -> Response:
        realm = self._realm(name)
        return self._json(200, self._client_rep(self._client(realm, client_uuid)))

    def put_client(
        self, name: str, client_uuid: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        client = self._client(realm, client_uuid)
        for key, value in (body or {}).items():
            if key not in ("id", "protocolMappers"):
                client.rep[key] = value
        self._admin_event(realm, "UPDATE", "CLIENT", f"clients/{client.id}", body, auth)
        return self._no_content()

    def delete_client(
        self, name: str, client_uuid: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        self._client(realm, client_uuid)
        del realm.clients[client_uuid]
        self._admin_event(
            realm, "DELETE", "CLIENT", f"clients/{client_uuid}", None, auth
        )
        return self._no_content()

    def list_mappers(self, name: str, client_uuid: str, **_: Any) -> Response:
        client = self._client(self._realm(name), client_uuid)
        return self._json(200, [dict(m) for m in client.mappers.values()])

    def post_mapper(
        self, name: str, client_uuid: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        client = self._client(realm, client_uuid)
        mapper_name = (body or {}).get("name")
        if any(m.get("name") == mapper_name for m in client.mappers.values()):
            raise conflict("Protocol mapper exists with same name")
        mapper_id = new_id()
        client.mappers[mapper_id] = {
            "protocol": "openid-connect",
            "config": {},
            **body,
            "id": mapper_id,
        }
        self._admin_event(
            realm,
            "CREATE",
            "PROTOCOL_MAPPER",
            f"clients/{client.id}/protocol-mappers/models/{mapper_id}",
            body,
            auth,
        )
        # Keycloak answers 201 with an EMPTY body here (python-keycloak relies on it)
        return self._created(
            f"/admin/realms/{name}/clients/{client.id}/protocol-mappers/models/{mapper_id}"
        )

    def put_mapper(
        self,
        name: str,
        client_uuid: str,
        mapper_id: str,
        *,
        body: Any,
        auth: Any,
        **_: Any,
    ) -> Response:
        realm = self._realm(name)
        client = self._client(realm, client_uuid)
        if mapper_id not in client.mappers:
            raise not_found("Model not found")
        client.mappers[mapper_id] = {
            **client.mappers[mapper_id],
            **body,
            "id": mapper_id,
        }
        self._admin_event(
            realm,
            "UPDATE",
            "PROTOCOL_MAPPER",
            f"clients/{client.id}/protocol-mappers/models/{mapper_id}",
            body,
            auth,
        )
        return self._no_content()

    def delete_mapper(
        self, name: str, client_uuid: str, mapper_id: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        client = self._client(realm, client_uuid)
        if client.mappers.pop(mapper_id, None) is None:
            raise not_found("Model not found")
        self._admin_event(
            realm,
            "DELETE",
            "PROTOCOL_MAPPER",
            f"clients/{client.id}/protocol-mappers/models/{mapper_id}",
            None,
            auth,
        )
        return self._no_content()

    # -- authorization services (fine-grained admin permissions v2) ----------

    def _authz_client(self, realm: Realm, client_uuid: str) -> Client:
        client = self._client(realm, client_uuid)
        if client.rep.get("clientId") != "admin-permissions":
            # only the admin-permissions client has a resource server here
            raise not_found("Resource server not found")
        return client

    def list_policies(
        self, name: str, client_uuid: str, *, params: Params, **_: Any
    ) -> Response:
        client = self._authz_client(self._realm(name), client_uuid)
        wanted = text(params, "name")
        items = sorted(client.policies.values(), key=lambda p: str(p["name"]))
        if wanted:
            items = [p for p in items if wanted.lower() in str(p["name"]).lower()]
        return self._json(200, page(items, params, None))

    def post_policy(
        self,
        name: str,
        client_uuid: str,
        kind: str,
        *,
        body: Any,
        auth: Any,
        **_: Any,
    ) -> Response:
        realm = self._realm(name)
        client = self._authz_client(realm, client_uuid)
        if any(p["name"] == body.get("name") for p in client.policies.values()):
            raise conflict(f"Policy with name [{body.get('name')}] already exists")
        policy = {**body, "id": new_id(), "type": kind}
        client.policies[policy["id"]] = policy
        self._admin_event(realm, "CREATE", "AUTHORIZATION_POLICY", "", body, auth)
        return self._json(201, policy)

    def put_policy(
        self,
        name: str,
        client_uuid: str,
        kind: str,
        policy_id: str,
        *,
        body: Any,
        auth: Any,
        **_: Any,
    ) -> Response:
        realm = self._realm(name)
        client = self._authz_client(realm, client_uuid)
        if policy_id not in client.policies:
            raise not_found("Policy not found")
        client.policies[policy_id] = {**body, "id": policy_id, "type": kind}
        self._admin_event(realm, "UPDATE", "AUTHORIZATION_POLICY", "", body, auth)
        return self._no_content()

    def list_permissions(
        self, name: str, client_uuid: str, *, params: Params, **_: Any
    ) -> Response:
        client = self._authz_client(self._realm(name), client_uuid)
        wanted = text(params, "name")
        items = sorted(client.permissions.values(), key=lambda p: str(p["name"]))
        if wanted:
            items = [p for p in items if wanted.lower() in str(p["name"]).lower()]
        return self._json(200, page(items, params, None))

    def post_permission(
        self, name: str, client_uuid: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        client = self._authz_client(realm, client_uuid)
        if any(p["name"] == body.get("name") for p in client.permissions.values()):
            raise conflict(f"Policy with name [{body.get('name')}] already exists")
        unknown = [gid for gid in body.get("resources", []) if gid not in realm.groups]
        if unknown and body.get("resourceType") == "Groups":
            raise HttpError(400, {"errorMessage": "Resource not found"})
        perm = {**body, "id": new_id(), "type": "scope"}
        client.permissions[perm["id"]] = perm
        self._admin_event(
            realm, "CREATE", "AUTHORIZATION_SCOPE_PERMISSION", "", body, auth
        )
        return self._json(201, perm)

    def put_permission(
        self,
        name: str,
        client_uuid: str,
        perm_id: str,
        *,
        body: Any,
        auth: Any,
        **_: Any,
    ) -> Response:
        realm = self._realm(name)
        client = self._authz_client(realm, client_uuid)
        if perm_id not in client.permissions:
            raise not_found("Policy not found")
        client.permissions[perm_id] = {**body, "id": perm_id, "type": "scope"}
        self._admin_event(
            realm, "UPDATE", "AUTHORIZATION_SCOPE_PERMISSION", "", body, auth
        )
        return self._no_content()

    def delete_permission(
        self, name: str, client_uuid: str, perm_id: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        client = self._authz_client(realm, client_uuid)
        if client.permissions.pop(perm_id, None) is None:
            raise not_found("Policy not found")
        self._admin_event(
            realm, "DELETE", "AUTHORIZATION_SCOPE_PERMISSION", "", None, auth
        )
        return self._no_content()

    # -- users ---------------------------------------------------------------

    def _user(self, realm: Realm, user_id: str) -> User:
        user = realm.users.get(user_id)
        if user is None:
            raise not_found("User not found")
        return user

    @staticmethod
    def _user_rep(user: User) -> dict[str, Any]:
        return {**user.rep, "id": user.id}

    def list_users(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        users = sorted(realm.users.values(), key=lambda u: u.username)
        wanted = text(params, "username")
        if wanted is not None:
            if flag(params, "exact", False):
                users = [u for u in users if u.username == wanted.lower()]
            else:
                users = [u for u in users if wanted.lower() in u.username]
        search = text(params, "search")
        if search:
            users = [u for u in users if search.lower() in u.username]
        return self._json(200, [self._user_rep(u) for u in page(users, params, 100)])

    def count_users(self, name: str, **_: Any) -> Response:
        return self._json(200, len(self._realm(name).users))

    def post_user(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        username = str((body or {}).get("username") or "").lower()
        if not username:
            raise HttpError(400, {"errorMessage": "error-user-attribute-required"})
        if any(u.username == username for u in realm.users.values()):
            raise conflict("User exists with same username")
        password = None
        for cred in body.get("credentials") or []:
            if cred.get("type") == "password":
                password = cred.get("value")
        user = self.state.add_user(realm, username, password)
        for key in ("enabled", "email", "firstName", "lastName"):
            if key in body:
                user.rep[key] = body[key]
        user.rep["attributes"] = self._kept_attributes(realm, body.get("attributes"))
        for path in body.get("groups") or []:
            grp = self.state.find_by_path(realm, path)
            if grp is not None:
                user.groups.add(grp.id)
        # like Keycloak, "realmRoles" in a created user is ignored (import only)
        self._admin_event(realm, "CREATE", "USER", f"users/{user.id}", body, auth)
        return self._created(f"/admin/realms/{name}/users/{user.id}")

    def get_profile(self, name: str, **_: Any) -> Response:
        return self._json(200, self._realm(name).profile)

    def put_profile(self, name: str, *, body: Any, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        names = [a.get("name") for a in (body or {}).get("attributes", [])]
        if len(names) != len(set(names)):
            raise HttpError(400, {"errorMessage": "Duplicated attribute"})
        realm.profile = body
        self._admin_event(realm, "UPDATE", "USER_PROFILE", "users/profile", body, auth)
        return self._json(200, body)

    @staticmethod
    def _kept_attributes(realm: Realm, attributes: Any) -> dict[str, list[str]]:
        """Keycloak 24+ silently drops attributes the user profile does not declare."""
        declared = {str(a.get("name")) for a in realm.profile.get("attributes", [])}
        unmanaged = realm.profile.get("unmanagedAttributePolicy")
        kept: dict[str, list[str]] = {}
        for key, value in (attributes or {}).items():
            if key in declared or unmanaged in ("ENABLED", "ADMIN_EDIT"):
                kept[key] = value if isinstance(value, list) else [value]
        return kept

    def get_user(self, name: str, user_id: str, **_: Any) -> Response:
        return self._json(200, self._user_rep(self._user(self._realm(name), user_id)))

    def put_user(
        self, name: str, user_id: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        user = self._user(realm, user_id)
        for key, value in (body or {}).items():
            if key == "attributes":
                user.rep[key] = self._kept_attributes(realm, value)
            elif key not in ("id", "username", "credentials"):
                user.rep[key] = value
        self._admin_event(realm, "UPDATE", "USER", f"users/{user.id}", body, auth)
        return self._no_content()

    def delete_user(self, name: str, user_id: str, *, auth: Any, **_: Any) -> Response:
        realm = self._realm(name)
        self._user(realm, user_id)
        del realm.users[user_id]
        self._admin_event(realm, "DELETE", "USER", f"users/{user_id}", None, auth)
        return self._no_content()

    def user_groups(
        self, name: str, user_id: str, *, params: Params, **_: Any
    ) -> Response:
        realm = self._realm(name)
        user = self._user(realm, user_id)
        groups = sorted(
            (realm.groups[gid] for gid in user.groups),
            key=lambda grp: self.state.group_path(realm, grp),
        )
        return self._json(
            200,
            [
                self._group_rep(realm, grp, brief=True, listing=False)
                for grp in page(groups, params, 100)
            ],
        )

    def user_roles(self, name: str, user_id: str, **_: Any) -> Response:
        realm = self._realm(name)
        user = self._user(realm, user_id)
        return self._json(200, [dict(realm.roles[r]) for r in sorted(user.realm_roles)])

    def add_user_roles(
        self, name: str, user_id: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        user = self._user(realm, user_id)
        for role in body or []:
            if role.get("name") not in realm.roles:
                raise not_found("Role not found")
            user.realm_roles.add(role["name"])
        self._admin_event(
            realm,
            "CREATE",
            "REALM_ROLE_MAPPING",
            f"users/{user_id}/role-mappings/realm",
            body,
            auth,
        )
        return self._no_content()

    def join_group(
        self, name: str, user_id: str, group_id: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        user = self._user(realm, user_id)
        self._group(realm, group_id)
        user.groups.add(group_id)
        self._admin_event(
            realm,
            "CREATE",
            "GROUP_MEMBERSHIP",
            f"users/{user_id}/groups/{group_id}",
            None,
            auth,
        )
        return self._no_content()

    def leave_group(
        self, name: str, user_id: str, group_id: str, *, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        user = self._user(realm, user_id)
        user.groups.discard(group_id)
        self._admin_event(
            realm,
            "DELETE",
            "GROUP_MEMBERSHIP",
            f"users/{user_id}/groups/{group_id}",
            None,
            auth,
        )
        return self._no_content()

    # -- events --------------------------------------------------------------

    @staticmethod
    def _in_dates(event: dict[str, Any], params: Params) -> bool:
        for key, inclusive_end in (("dateFrom", False), ("dateTo", True)):
            value = text(params, key)
            if not value:
                continue
            if value.isdigit():
                bound = int(value)
            else:
                import datetime as dt

                day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
                bound = int(day.timestamp() * 1000)
                if inclusive_end:
                    bound += 86_400_000 - 1
            if key == "dateFrom" and event["time"] < bound:
                return False
            if key == "dateTo" and event["time"] > bound:
                return False
        return True

    def _event_page(self, events: list[dict[str, Any]], params: Params) -> list[Any]:
        direction = text(params, "direction")
        if direction not in (None, "", "asc", "desc"):
            raise HttpError(400, {"error": "Invalid value for direction"})
        chosen = [e for e in events if self._in_dates(e, params)]
        # stored oldest first: newest first is the reverse (ties keep arrival order)
        if direction != "asc":
            chosen = list(reversed(chosen))
        return page(chosen, params, 100)

    def list_events(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        types = params.get("type") or []
        events = [e for e in realm.events if not types or e["type"] in types]
        for key, field in (("client", "clientId"), ("user", "userId")):
            value = text(params, key)
            if value:
                events = [e for e in events if e.get(field) == value]
        return self._json(200, self._event_page(events, params))

    def list_admin_events(self, name: str, *, params: Params, **_: Any) -> Response:
        realm = self._realm(name)
        ops = params.get("operationTypes") or []
        kinds = params.get("resourceTypes") or []
        events = [
            e
            for e in realm.admin_events
            if (not ops or e["operationType"] in ops)
            and (not kinds or e["resourceType"] in kinds)
        ]
        return self._json(200, self._event_page(events, params))

    def get_events_config(self, name: str, **_: Any) -> Response:
        rep = self._realm(name).rep
        keys = (
            "eventsEnabled",
            "eventsExpiration",
            "eventsListeners",
            "enabledEventTypes",
            "adminEventsEnabled",
            "adminEventsDetailsEnabled",
        )
        return self._json(200, {k: rep.get(k) for k in keys})

    def put_events_config(
        self, name: str, *, body: Any, auth: Any, **_: Any
    ) -> Response:
        realm = self._realm(name)
        for key, value in (body or {}).items():
            realm.rep[key] = value
        self._admin_event(realm, "UPDATE", "REALM", "events/config", body, auth)
        return self._no_content()
