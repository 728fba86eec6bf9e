"""Pull login and admin events from the city realm since a cursor.

Keycloak keeps events for the realm's retention only, so the audit ledger
copies them out regularly. The cursor is the ``time`` (epoch milliseconds) of
the newest event already stored: a pull asks for ``dateFrom=cursor``, pages
through the newest-first listing with explicit ``first``/``max`` (the server
would stop at 100), drops what was seen, and returns the rest oldest first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from citycloud.adapters.keycloak.client import KeycloakApi
from citycloud.errors import PermanentError

log = logging.getLogger(__name__)


def _normalised(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    out = dict(event)
    out["source"] = "keycloak"
    out["kind"] = kind
    out["time"] = int(event.get("time") or 0)
    if kind == "admin":
        out.setdefault(
            "type", f"{event.get('operationType')} {event.get('resourceType')}"
        )
        auth = event.get("authDetails") or {}
        out.setdefault("userId", auth.get("userId"))
    return out


class KeycloakEvents:
    """Event reader for one realm; ``pull_events(since)`` is all callers need."""

    def __init__(self, api: KeycloakApi) -> None:
        self.api = api

    @classmethod
    def connect(cls, realm: str, url: str | None = None) -> KeycloakEvents:
        """Reader for ``realm`` on ``url`` (default CITYCLOUD_KEYCLOAK_URL).

        The admin login comes from CITYCLOUD_KEYCLOAK_USER / _PASSWORD.
        """
        server = url or os.environ.get("CITYCLOUD_KEYCLOAK_URL")
        if not server:
            raise PermanentError(
                "keycloak", "no Keycloak URL: set CITYCLOUD_KEYCLOAK_URL"
            )
        return cls(KeycloakApi.connect(server, realm))

    def _listing(self, path: str, since: int | None) -> Iterable[dict[str, Any]]:
        params: dict[str, Any] = {}
        if since is not None:
            params["dateFrom"] = str(since)
        return self.api.paged(f"{self.api.base}/{path}", **params)

    def pull_events(
        self, since: int | None = None, *, seen: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """Events newer than ``since`` (epoch ms), oldest first.

        Events stamped exactly ``since`` are returned unless their id is in
        ``seen``: several events can share a millisecond, and the last pull
        may have stopped between them.
        """
        skip = set(seen)
        events: list[dict[str, Any]] = []
        for kind, path in (("login", "events"), ("admin", "admin-events")):
            # the listing is newest first: reverse it so ties keep arrival order
            for raw in reversed(list(self._listing(path, since))):
                event = _normalised(kind, raw)
                if since is not None and event["time"] < since:
                    continue
                if event.get("id") in skip:
                    continue
                if since is not None and event["time"] == since and not event.get("id"):
                    continue  # pre-26.2 events have no id: cannot tell, assume seen
                events.append(event)
        events.sort(key=lambda e: int(e["time"]))
        log.debug("pulled %s keycloak events since %s", len(events), since)
        return events


def pull_events(
    api: KeycloakApi, since: int | None = None, *, seen: Iterable[str] = ()
) -> list[dict[str, Any]]:
    return KeycloakEvents(api).pull_events(since, seen=seen)
