"""The project's one exception hierarchy.

Callers never need to know which SDK failed, only what kind of failure it is:
a problem in the spec, an unsafe plan, or an outside system that failed either
for now (retry) or for good (fix something first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class CityCloudError(Exception):
    """Base of every error citycloud raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in the spec, located as precisely as the input allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


class SpecError(CityCloudError):
    """The spec is invalid; carries every problem found, not just the first.

    ``unread`` names the files that could not be read in full (a YAML syntax
    error, say). The other files were still checked field by field, but the
    checks that need the whole spec were not run, so more problems may show
    once these files are fixed; whoever shows the problems must say so.
    """

    def __init__(self, problems: Iterable[Problem], unread: Iterable[str] = ()) -> None:
        self.problems = tuple(problems)
        self.unread = tuple(unread)
        lines = [str(p) for p in self.problems]
        if self.unread:
            lines.append(
                "checks that need the whole spec were not run: "
                f"{', '.join(self.unread)} could not be read in full"
            )
        super().__init__("\n".join(lines))


class PlanError(CityCloudError):
    """The plan cannot be made, e.g. the spec conflicts with live state."""


class SafetyError(PlanError):
    """The plan is valid but a safety rule refuses to run it without a flag."""


class StoreError(CityCloudError):
    """The state store could not be read or written."""


class AdapterError(CityCloudError):
    """An outside system failed. ``system`` names it (openstack, keycloak, ...)."""

    def __init__(self, system: str, message: str) -> None:
        self.system = system
        super().__init__(f"{system}: {message}")


class TransientError(AdapterError):
    """Worth retrying: timeouts, connection refused, 5xx, rate limits."""


class PermanentError(AdapterError):
    """Retrying will not help: bad request, forbidden, quota exceeded, conflict."""
