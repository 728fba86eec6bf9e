"""Map the kubernetes client's failures to citycloud's error types.

The API server answers failures with a ``Status`` object; its ``code`` and
``reason`` decide the type. Timeouts, throttling and 5xx are worth retrying;
anything else (invalid object, forbidden, an apply conflict with another field
manager) fails again until someone changes something. Connection problems
raised by urllib3 below the client are transient too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import urllib3.exceptions
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from citycloud.errors import AdapterError, PermanentError, TransientError
from citycloud.i18n import register, t

SYSTEM = "kubernetes"

register(
    {
        "kubernetes.conflict_hint": {
            "zh": "这些字段已被其他管理者修改；确认后用 --force-conflicts 收回",
            "en": "another field manager changed these fields; "
            "take them back with --force-conflicts",
        },
    }
)

# 410: a resourceVersion or continue token expired; listing again succeeds.
_TRANSIENT_STATUS = frozenset({0, 408, 410, 429, 500, 502, 503, 504})

# What the client and its transport raise; anything else is a bug of ours.
FAILURES = (ApiException, urllib3.exceptions.HTTPError, ConfigException, OSError)


class ApplyConflict(PermanentError):
    """Server-side apply refused: another field manager owns these fields.

    Re-running with force takes the fields over; the message lists them so an
    operator can decide whether the other manager's change should stay.
    """

    def __init__(self, action: str, fields: tuple[str, ...], detail: str) -> None:
        self.fields = fields
        super().__init__(
            SYSTEM, f"{action}: {detail} ({t('kubernetes.conflict_hint')})"
        )


@dataclass(frozen=True)
class StatusInfo:
    code: int
    reason: str
    message: str
    causes: tuple[dict[str, Any], ...]


def status_of(error: ApiException) -> StatusInfo:
    """The ``Status`` the server sent with ``error``, as far as it can be read."""
    body: Any = None
    raw = error.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str) and raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    if not isinstance(body, dict):
        body = {}
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    causes = details.get("causes") if isinstance(details, dict) else None
    return StatusInfo(
        code=int(error.status or 0),
        reason=str(body.get("reason") or error.reason or ""),
        message=str(body.get("message") or error.reason or "").strip(),
        causes=tuple(c for c in causes or () if isinstance(c, dict)),
    )


def is_not_found(error: ApiException) -> bool:
    return int(error.status or 0) == 404


def map_error(error: BaseException, action: str) -> AdapterError:
    """The citycloud error for ``error`` raised while doing ``action``."""
    if isinstance(error, AdapterError):
        return error
    if isinstance(error, ApiException):
        info = status_of(error)
        text = info.message.splitlines()[0] if info.message else info.reason
        if info.code == 409 and info.reason == "Conflict" and info.causes:
            fields = tuple(str(c.get("field", "")) for c in info.causes)
            return ApplyConflict(action, fields, info.message)
        detail = f"{action}: {text} (HTTP {info.code} {info.reason})".rstrip()
        if info.code in _TRANSIENT_STATUS:
            return TransientError(SYSTEM, detail)
        return PermanentError(SYSTEM, detail)
    if isinstance(error, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError):
        return TransientError(SYSTEM, f"{action}: {type(error).__name__}: {error}")
    if isinstance(error, ConfigException):
        return PermanentError(SYSTEM, f"{action}: kubeconfig: {error}")
    return PermanentError(SYSTEM, f"{action}: {type(error).__name__}: {error}")


@contextmanager
def mapped(action: str) -> Iterator[None]:
    """Run a block, turning client and transport errors into citycloud errors."""
    try:
        yield
    except FAILURES as error:
        raise map_error(error, action) from error
