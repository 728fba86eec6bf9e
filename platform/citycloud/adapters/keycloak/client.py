"""The one door to a Keycloak server: python-keycloak's session, our errors.

python-keycloak owns the admin session (password grant on the master realm,
refresh at 90 % of the token's life, one retry after a 401). This module adds
what the sync needs on top: listings paged with explicit ``first``/``max``
(the library's own paging has known gaps for subgroups), call counting, and
the mapping of every failure to citycloud's error types so callers only decide
whether to retry.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from keycloak import KeycloakAdmin
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakConnectionError,
    KeycloakError,
)

from citycloud.errors import AdapterError, PermanentError, TransientError

log = logging.getLogger(__name__)

SYSTEM = "keycloak"
DEFAULT_PAGE_SIZE = 100
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class Conflict(PermanentError):
    """409: the object exists already (another sync or a person made it)."""


class NotFound(PermanentError):
    """404: the object (or realm) does not exist."""


@dataclass
class CallCount:
    reads: int = 0
    writes: int = 0

    @property
    def total(self) -> int:
        return self.reads + self.writes


def _detail(body: bytes) -> str:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace")
    if isinstance(payload, dict):
        for key in ("errorMessage", "error_description", "error", "message"):
            if payload.get(key):
                return str(payload[key])
    return str(payload)[:200]


def path_segment(text: str) -> str:
    """Percent-encode one URL segment as UTF-8 (Chinese names, spaces)."""
    return quote(text, safe="")


class KeycloakApi:
    """Admin REST calls on one realm through python-keycloak's session."""

    def __init__(
        self,
        admin: KeycloakAdmin,
        realm: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.admin = admin
        self.realm = realm
        self.page_size = page_size
        self.calls = CallCount()

    @classmethod
    def connect(
        cls,
        url: str,
        realm: str,
        *,
        username: str | None = None,
        password: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        verify: bool = True,
    ) -> KeycloakApi:
        """Open an admin session on ``url``'s master realm to manage ``realm``.

        Credentials default to CITYCLOUD_KEYCLOAK_USER / _PASSWORD.
        """
        user = username or os.environ.get("CITYCLOUD_KEYCLOAK_USER")
        secret = password or os.environ.get("CITYCLOUD_KEYCLOAK_PASSWORD")
        if not user or not secret:
            raise PermanentError(
                SYSTEM,
                "admin credentials missing: set CITYCLOUD_KEYCLOAK_USER and "
                "CITYCLOUD_KEYCLOAK_PASSWORD",
            )
        server = url if url.endswith("/") else url + "/"
        admin = KeycloakAdmin(
            server_url=server,
            username=user,
            password=secret,
            realm_name=realm,
            user_realm_name="master",
            client_id="admin-cli",
            verify=verify,
            timeout=30,
        )
        return cls(admin, realm, page_size=page_size)

    # -- paths ---------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"admin/realms/{path_segment(self.realm)}"

    # -- raw calls -----------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        conn = self.admin.connection
        clean = {k: _param(v) for k, v in params.items() if v is not None}
        if method == "GET":
            self.calls.reads += 1
        else:
            self.calls.writes += 1
        data = json.dumps(body, ensure_ascii=False) if body is not None else None
        try:
            if method == "GET":
                response = conn.raw_get(path, **clean)
            elif method == "POST":
                response = conn.raw_post(path, data=data or "", **clean)
            elif method == "PUT":
                response = conn.raw_put(path, data=data or "", **clean)
            else:
                response = conn.raw_delete(path, data=body, **clean)
        except KeycloakConnectionError as exc:
            raise TransientError(SYSTEM, f"{method} {path}: cannot connect") from exc
        except KeycloakAuthenticationError as exc:
            raise PermanentError(
                SYSTEM, f"{method} {path}: admin login refused"
            ) from exc
        except KeycloakError as exc:
            status = exc.response_code or 0
            raise _mapped(status, f"{method} {path}", exc.response_body or b"") from exc
        status = response.status_code
        if status >= 400:
            raise _mapped(status, f"{method} {path}", response.content)
        if method != "GET":
            return response
        if not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, **params)

    def post(self, path: str, body: Any, **params: Any) -> Any:
        return self._call("POST", path, body, **params)

    def put(self, path: str, body: Any) -> Any:
        return self._call("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    def created_id(self, response: Any) -> str:
        """The new object's id from a 201's Location header."""
        location = str(response.headers.get("Location", ""))
        if not location:
            raise PermanentError(SYSTEM, "201 without a Location header")
        return location.rstrip("/").rsplit("/", 1)[-1]

    def paged(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a listing, fetched with explicit first/max.

        The server's own default (none for top-level groups, 10 for children,
        100 for events) is never relied on.
        """
        first = 0
        while True:
            batch = self.get(path, first=first, max=self.page_size, **params)
            if not isinstance(batch, list):
                raise PermanentError(SYSTEM, f"GET {path}: expected a list")
            yield from batch
            if len(batch) < self.page_size:
                return
            first += self.page_size


def _param(value: Any) -> Any:
    # python-keycloak would send booleans as True/False; Keycloak wants true/false
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _mapped(status: int, action: str, body: bytes) -> AdapterError:
    message = f"{action}: HTTP {status}: {_detail(body)}"
    if status == 409:
        return Conflict(SYSTEM, message)
    if status == 404:
        return NotFound(SYSTEM, message)
    if status in _TRANSIENT_STATUS or status == 0:
        return TransientError(SYSTEM, message)
    return PermanentError(SYSTEM, message)
