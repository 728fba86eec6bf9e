"""Grafana through its HTTP API (grafana-client): folders per tenant with
team permissions, teams, and the dashboards the desired state describes.

What citycloud manages is recognisable in Grafana itself: folder uids start
with ``cc-``, team names with ``citycloud-``, dashboards carry the
``citycloud`` tag. Nothing else is read as ours, so nothing else is deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, TypeVar

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
)

from citycloud.adapters.grafana.dashboards import build, describe
from citycloud.desired.model import DesiredState, Resource, ResourceId
from citycloud.errors import PermanentError, TransientError
from citycloud.plan.engine import Progress
from citycloud.plan.model import Action, Change, Plan
from citycloud.spec.tree import Spec

log = logging.getLogger(__name__)

FOLDER_PREFIX = "cc-"
TEAM_PREFIX = "citycloud-"
TAG = "citycloud"
PAGE = 100
PERMISSIONS = {"View": 1, "Edit": 2, "Admin": 4}
PERMISSION_NAMES = {v: k for k, v in PERMISSIONS.items()}

T = TypeVar("T")


def _call(what: str, func: Callable[[], T]) -> T:
    """Run one API call, mapping grafana-client's errors to ours."""
    try:
        return func()
    except (GrafanaServerError, GrafanaTimeoutError, niquests.ConnectionError) as exc:
        raise TransientError("grafana", f"{what}: {exc}") from exc
    except GrafanaClientError as exc:
        raise PermanentError(
            "grafana", f"{what}: {exc.status_code} {exc.message}"
        ) from exc
    except GrafanaException as exc:
        raise PermanentError("grafana", f"{what}: {exc}") from exc
    except niquests.RequestException as exc:
        raise TransientError("grafana", f"{what}: {exc}") from exc


class GrafanaEngine:
    """Observes and applies the ``dashboards`` layer."""

    name = "grafana"
    layers = ("dashboards",)

    def __init__(
        self,
        url: str,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        auth: Any = token if token else (user or "admin", password or "admin")
        self.api = GrafanaApi.from_url(url, credential=auth, timeout=10.0)
        self.timezone = timezone
        self._team_ids: dict[str, int] = {}

    # -- observe -----------------------------------------------------------------

    def _paged(
        self, path: str, size_key: str, **params: Any
    ) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            query = {**params, size_key: PAGE, "page": page}
            batch = _call(
                f"GET {path}", partial(self.api.client.GET, path, params=query)
            )
            yield from batch
            if len(batch) < PAGE:
                return
            page += 1

    def _teams(self) -> list[dict[str, Any]]:
        teams = _call("search teams", lambda: self.api.teams.search_teams(perpage=PAGE))
        self._team_ids = {t["name"]: t["id"] for t in teams}
        return [t for t in teams if t["name"].startswith(TEAM_PREFIX)]

    def observe(self, desired: DesiredState, spec: Spec) -> list[Resource]:
        keys = {  # uid or name in Grafana -> key in the desired state
            (r.id.kind, r.attrs.get("uid") or r.attrs.get("name")): r.id
            for r in desired.layer("dashboards")
        }

        def rid(kind: str, name: str) -> ResourceId:
            return keys.get((kind, name), ResourceId("dashboards", kind, name))

        found: list[Resource] = []
        for team in self._teams():
            found.append(
                Resource(
                    rid("team", team["name"]),
                    {"name": team["name"], "email": team.get("email", "")},
                )
            )
        folders = [
            f
            for f in self._paged("/folders", "limit")
            if f["uid"].startswith(FOLDER_PREFIX)
        ]
        for folder in folders:
            folder_id = rid("folder", folder["uid"])
            found.append(
                Resource(folder_id, {"uid": folder["uid"], "title": folder["title"]})
            )
            items = _call(
                "folder permissions",
                partial(self.api.folder.get_folder_permissions, folder["uid"]),
            )
            teams = {
                item["team"]: PERMISSION_NAMES.get(
                    item["permission"], str(item["permission"])
                )
                for item in items
                if item.get("teamId")
            }
            perm_id = ResourceId("dashboards", "folder_permission", folder_id.key)
            found.append(
                Resource(
                    perm_id, {"folder": folder["uid"], "teams": teams}, parent=folder_id
                )
            )
        for hit in self._paged("/search", "limit", type="dash-db", tag=TAG):
            stored = _call(
                "get dashboard", partial(self.api.dashboard.get_dashboard, hit["uid"])
            )
            model = describe(stored["dashboard"], stored["meta"].get("folderUid"))
            found.append(Resource(rid("dashboard", hit["uid"]), model))
        # Tenants and parents come from the desired side, where they match.
        want = {r.id: r for r in desired.layer("dashboards")}
        return [
            Resource(r.id, r.attrs, want[r.id].tenant, want[r.id].parent)
            if r.id in want
            else r
            for r in found
        ]

    # -- apply -------------------------------------------------------------------

    def apply(
        self, plan: Plan, desired: DesiredState, spec: Spec, progress: Progress
    ) -> list[Resource] | None:
        changes = plan.only(self.layers).changes
        self._teams()
        for done, change in enumerate(changes):
            progress(f"grafana:{change.id.kind}", done, len(changes))
            self._apply_one(change)
            log.info(
                "grafana %s %s %s", change.action.value, change.id.kind, change.id.key
            )
        progress("grafana", len(changes), len(changes))
        return None

    def _apply_one(self, change: Change) -> None:
        kind, action = change.id.kind, change.action
        after: Mapping[str, Any] = change.after or {}
        before: Mapping[str, Any] = change.before or {}
        if kind == "team":
            if action is Action.CREATE:
                result = _call(
                    "create team", lambda: self.api.teams.add_team(dict(after))
                )
                self._team_ids[after["name"]] = result["teamId"]
            elif action is Action.UPDATE:
                team_id = self._team_ids[before["name"]]
                _call(
                    "update team",
                    lambda: self.api.teams.update_team(team_id, dict(after)),
                )
            else:
                team_id = self._team_ids[before["name"]]
                _call("delete team", lambda: self.api.teams.delete_team(team_id))
        elif kind == "folder":
            if action is Action.CREATE:
                _call(
                    "create folder",
                    lambda: self.api.folder.create_folder(
                        after["title"], uid=after["uid"]
                    ),
                )
            elif action is Action.UPDATE:
                _call(
                    "update folder",
                    lambda: self.api.folder.update_folder(
                        after["uid"], title=after["title"], overwrite=True
                    ),
                )
            else:
                _call(
                    "delete folder",
                    lambda: self.api.folder.delete_folder(before["uid"]),
                )
        elif kind == "folder_permission":
            if action is Action.DELETE:
                return  # the folder goes with it, or keeps Grafana's defaults
            items = [
                {"teamId": self._team_ids[team], "permission": PERMISSIONS[level]}
                for team, level in sorted(after["teams"].items())
            ]
            _call(
                "set folder permissions",
                lambda: self.api.folder.update_folder_permissions(
                    after["folder"], {"items": items}
                ),
            )
        elif kind == "dashboard":
            if action is Action.DELETE:
                _call(
                    "delete dashboard",
                    lambda: self.api.dashboard.delete_dashboard(before["uid"]),
                )
                return
            model = build(after, self.timezone)
            _call(
                "save dashboard",
                lambda: self.api.dashboard.update_dashboard(
                    {
                        "dashboard": model,
                        "folderUid": after["folder"],
                        "overwrite": True,
                        "message": "citycloud apply",
                    }
                ),
            )
        else:
            raise PermanentError("grafana", f"cannot apply a {kind}")
