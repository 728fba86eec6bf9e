"""Map openstacksdk and keystoneauth failures to citycloud's error types.

Callers decide whether to retry from the type alone: a refused connection, a
timeout or a 5xx is transient; a 4xx (bad request, forbidden, quota exceeded,
conflict) will fail again until someone changes something.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from citycloud.errors import AdapterError, PermanentError, TransientError

log = logging.getLogger(__name__)

SYSTEM = "openstack"
T = TypeVar("T")

_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


def _status_of(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None) or getattr(error, "http_status", None)
    return int(status) if isinstance(status, int) else None


def _detail(error: BaseException) -> str:
    details = getattr(error, "details", None)
    text = str(details or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def map_error(error: BaseException, action: str) -> AdapterError:
    """The citycloud error for ``error`` raised while doing ``action``."""
    message = f"{action}: {_detail(error)}"
    if isinstance(error, AdapterError):
        return error
    if isinstance(
        error,
        ksa_exc.ConnectFailure
        | ksa_exc.ConnectTimeout
        | ksa_exc.RetriableConnectionFailure
        | ksa_exc.ServiceUnavailable
        | ksa_exc.EndpointNotFound
        | sdk_exc.ResourceTimeout
        | ConnectionError
        | TimeoutError,
    ):
        return TransientError(SYSTEM, message)
    status = _status_of(error)
    if status is not None:
        if status in _TRANSIENT_STATUS:
            return TransientError(SYSTEM, f"{message} (HTTP {status})")
        return PermanentError(SYSTEM, f"{message} (HTTP {status})")
    if isinstance(error, ksa_exc.Unauthorized | ksa_exc.Forbidden):
        return PermanentError(SYSTEM, message)
    if isinstance(error, ksa_exc.ClientException | sdk_exc.SDKException):
        return PermanentError(SYSTEM, message)
    return PermanentError(SYSTEM, message)


@contextmanager
def mapped(action: str) -> Iterator[None]:
    """Run a block, turning SDK and transport errors into citycloud errors."""
    try:
        yield
    except (sdk_exc.SDKException, ksa_exc.ClientException, OSError) as error:
        raise map_error(error, action) from error


def call(action: str, fn: Callable[[], T]) -> T:
    """Call ``fn`` with errors mapped; ``action`` says what was being done."""
    with mapped(action):
        return fn()
