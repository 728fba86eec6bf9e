"""Grafana 10's HTTP API as far as citycloud uses it: folders and their
permissions, teams, dashboards and search, with Grafana's status codes
(401, 404, 409 on a taken name, 412 on a version mismatch), its paging
parameters and its response shapes. Writes are counted so tests can assert
that a second apply makes none."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes.httpserver import FakeServer

Response = tuple[int, dict[str, str], bytes]
PERMISSION_NAMES = {1: "View", 2: "Edit", 4: "Admin"}


def _json(status: int, body: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@dataclass
class FakeGrafana:
    user: str = "admin"
    password: str = "admin"
    token: str | None = None
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: int = 0
    reads: int = 0
    down: bool = False
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return self.token is not None and auth[7:] == self.token
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return (user, password) == (self.user, self.password)
        return False

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if self.down:
            return _json(503, {"message": "Service unavailable"})
        if not self._authorised(headers):
            return _json(401, {"message": "Unauthorized"})
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        data = json.loads(body) if body else {}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] != ["api"]:
            return _json(404, {"message": "Not found"})
        with self._lock:
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1
            return self._route(method, parts[1:], params, data)

    def _route(
        self, method: str, parts: list[str], params: dict[str, str], data: Any
    ) -> Response:
        match (method, parts):
            case ("GET", ["folders"]):
                return _json(
                    200,
                    self._page(
                        sorted(self.folders.values(), key=lambda f: f["title"]),
                        params,
                        "limit",
                    ),
                )
            case ("POST", ["folders"]):
                return self._create_folder(data)
            case ("GET", ["folders", uid]):
                folder = self.folders.get(uid)
                return (
                    _json(200, folder)
                    if folder
                    else _json(404, {"message": "folder not found"})
                )
            case ("PUT", ["folders", uid]):
                return self._update_folder(uid, data)
            case ("DELETE", ["folders", uid]):
                return self._delete_folder(uid)
            case ("GET", ["folders", uid, "permissions"]):
                if uid not in self.folders:
                    return _json(404, {"message": "folder not found"})
                return _json(200, self.permissions.get(uid, []))
            case ("POST", ["folders", uid, "permissions"]):
                return self._set_permissions(uid, data)
            case ("GET", ["teams", "search"]):
                return self._search_teams(params)
            case ("POST", ["teams"]):
                return self._create_team(data)
            case ("PUT", ["teams", team_id]):
                team = self.teams.get(int(team_id))
                if team is None:
                    return _json(404, {"message": "Team not found"})
                team.update(
                    name=data.get("name", team["name"]), email=data.get("email", "")
                )
                return _json(200, {"message": "Team updated"})
            case ("DELETE", ["teams", team_id]):
                if self.teams.pop(int(team_id), None) is None:
                    return _json(404, {"message": "Team not found"})
                return _json(200, {"message": "Team deleted"})
            case ("GET", ["search"]):
                return self._search_dashboards(params)
            case ("POST", ["dashboards", "db"]):
                return self._save_dashboard(data)
            case ("GET", ["dashboards", "uid", uid]):
                stored = self.dashboards.get(uid)
                if stored is None:
                    return _json(404, {"message": "Dashboard not found"})
                folder = self.folders.get(stored["folderUid"] or "", {})
                return _json(
                    200,
                    {
                        "dashboard": stored["dashboard"],
                        "meta": {
                            "folderUid": stored["folderUid"],
                            "folderTitle": folder.get("title", "General"),
                            "version": stored["dashboard"]["version"],
                        },
                    },
                )
            case ("DELETE", ["dashboards", "uid", uid]):
                stored = self.dashboards.pop(uid, None)
                if stored is None:
                    return _json(404, {"message": "Dashboard not found"})
                return _json(
                    200,
                    {
                        "title": stored["dashboard"]["title"],
                        "message": "Dashboard deleted",
                    },
                )
        return _json(404, {"message": "Not found"})

    @staticmethod
    def _page(
        items: list[Any], params: dict[str, str], size_key: str, default: int = 1000
    ) -> list[Any]:
        size = int(params.get(size_key, default))
        page = max(int(params.get("page", 1)), 1)
        return items[(page - 1) * size : page * size]

    def _create_folder(self, data: dict[str, Any]) -> Response:
        uid, title = data.get("uid") or f"f{self._next_id}", data.get("title", "")
        if not title:
            return _json(400, {"message": "folder title cannot be empty"})
        if uid in self.folders:
            return _json(409, {"message": "a folder with the same uid already exists"})
        if any(f["title"] == title for f in self.folders.values()):
            return _json(
                409,
                {
                    "message": "a folder or dashboard in the general folder "
                    "with the same name already exists"
                },
            )
        folder = {
            "id": self._id(),
            "uid": uid,
            "title": title,
            "version": 1,
            "url": f"/dashboards/f/{uid}",
        }
        self.folders[uid] = folder
        # Grafana gives every new folder the default role permissions.
        self.permissions[uid] = [
            {
                "role": "Viewer",
                "permission": 1,
                "permissionName": "View",
                "teamId": 0,
                "team": "",
            },
            {
                "role": "Editor",
                "permission": 2,
                "permissionName": "Edit",
                "teamId": 0,
                "team": "",
            },
        ]
        return _json(200, folder)

    def _update_folder(self, uid: str, data: dict[str, Any]) -> Response:
        folder = self.folders.get(uid)
        if folder is None:
            return _json(404, {"message": "folder not found"})
        if not data.get("overwrite") and data.get("version") != folder["version"]:
            return _json(
                412, {"message": "the folder has been changed by someone else"}
            )
        if "title" in data:
            folder["title"] = data["title"]
        folder["version"] += 1
        return _json(200, folder)

    def _delete_folder(self, uid: str) -> Response:
        folder = self.folders.pop(uid, None)
        if folder is None:
            return _json(404, {"message": "folder not found"})
        self.permissions.pop(uid, None)
        for key in [k for k, d in self.dashboards.items() if d["folderUid"] == uid]:
            del self.dashboards[key]
        return _json(200, {"message": "Folder deleted", "id": folder["id"]})

    def _set_permissions(self, uid: str, data: dict[str, Any]) -> Response:
        if uid not in self.folders:
            return _json(404, {"message": "folder not found"})
        items = []
        for item in data.get("items", []):
            team_id = item.get("teamId")
            permission = item.get("permission")
            if permission not in PERMISSION_NAMES:
                return _json(400, {"message": "invalid permission"})
            if team_id is not None:
                team = self.teams.get(team_id)
                if team is None:
                    return _json(400, {"message": "Team not found"})
                items.append(
                    {
                        "teamId": team_id,
                        "team": team["name"],
                        "permission": permission,
                        "permissionName": PERMISSION_NAMES[permission],
                    }
                )
            elif item.get("role"):
                items.append(
                    {
                        "role": item["role"],
                        "teamId": 0,
                        "team": "",
                        "permission": permission,
                        "permissionName": PERMISSION_NAMES[permission],
                    }
                )
        self.permissions[uid] = items
        return _json(200, {"message": "Folder permissions updated"})

    def _search_teams(self, params: dict[str, str]) -> Response:
        teams = sorted(self.teams.values(), key=lambda t: t["name"])
        if "name" in params:
            teams = [t for t in teams if t["name"] == params["name"]]
        elif params.get("query"):
            teams = [t for t in teams if params["query"].lower() in t["name"].lower()]
        per_page = int(params.get("perpage", 1000))
        page = max(int(params.get("page", 1)), 1)
        return _json(
            200,
            {
                "totalCount": len(teams),
                "teams": teams[(page - 1) * per_page : page * per_page],
                "page": page,
                "perPage": per_page,
            },
        )

    def _create_team(self, data: dict[str, Any]) -> Response:
        name = data.get("name", "")
        if not name:
            return _json(400, {"message": "Team name is missing"})
        if any(t["name"] == name for t in self.teams.values()):
            return _json(409, {"message": "Team name taken"})
        team_id = self._id()
        self.teams[team_id] = {
            "id": team_id,
            "name": name,
            "email": data.get("email", ""),
            "memberCount": 0,
        }
        return _json(200, {"message": "Team created", "teamId": team_id})

    def _search_dashboards(self, params: dict[str, str]) -> Response:
        found = []
        for stored in sorted(
            self.dashboards.values(), key=lambda d: d["dashboard"]["title"]
        ):
            board = stored["dashboard"]
            if params.get("tag") and params["tag"] not in board.get("tags", []):
                continue
            folder = self.folders.get(stored["folderUid"] or "", {})
            found.append(
                {
                    "id": board["id"],
                    "uid": board["uid"],
                    "title": board["title"],
                    "type": "dash-db",
                    "tags": board.get("tags", []),
                    "folderUid": stored["folderUid"],
                    "folderTitle": folder.get("title"),
                }
            )
        return _json(200, self._page(found, params, "limit", 5000))

    def _save_dashboard(self, data: dict[str, Any]) -> Response:
        board = dict(data.get("dashboard") or {})
        folder_uid = data.get("folderUid") or None
        if folder_uid is not None and folder_uid not in self.folders:
            return _json(400, {"message": "folder not found"})
        uid = board.get("uid") or f"d{self._next_id}"
        current = self.dashboards.get(uid)
        if (
            current is not None
            and not data.get("overwrite")
            and board.get("version") != current["dashboard"]["version"]
        ):
            return _json(
                412,
                {
                    "status": "version-mismatch",
                    "message": "The dashboard has been changed by someone else",
                },
            )
        clash = any(
            other_uid != uid
            and other["folderUid"] == folder_uid
            and other["dashboard"]["title"] == board.get("title")
            for other_uid, other in self.dashboards.items()
        )
        if clash and not data.get("overwrite"):
            return _json(
                412,
                {
                    "status": "name-exists",
                    "message": "A dashboard with the same name in the folder already exists",
                },
            )
        version = (current["dashboard"]["version"] + 1) if current else 1
        board.update(
            uid=uid,
            version=version,
            id=current["dashboard"]["id"] if current else self._id(),
        )
        self.dashboards[uid] = {"dashboard": board, "folderUid": folder_uid}
        return _json(
            200,
            {
                "id": board["id"],
                "uid": uid,
                "url": f"/d/{uid}",
                "status": "success",
                "version": version,
            },
        )


def start_fake_grafana(**kwargs: Any) -> tuple[FakeServer, FakeGrafana]:
    app = FakeGrafana(**kwargs)
    return FakeServer(app, "fake-grafana").start(), app
