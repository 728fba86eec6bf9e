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
    error, say); the other files were still checked field by field.
    ``checks_skipped`` says that the checks across the whole spec were not
    run (always so with ``unread``; also when the schema refused fields), so
    more problems may show once these are fixed; whoever shows the problems
    must say so.
    """

    def __init__(
        self,
        problems: Iterable[Problem],
        unread: Iterable[str] = (),
        *,
        checks_skipped: bool = False,
    ) -> None:
        self.problems = tuple(problems)
        self.unread = tuple(unread)
        # The schema refused some fields, so the checks across the whole spec
        # (references, duplicates, overlaps, quotas) have not run yet either.
        self.checks_skipped = checks_skipped or bool(self.unread)
        lines = [str(p) for p in self.problems]
        if self.unread:
            lines.append(
                "checks that need the whole spec were not run: "
                f"{', '.join(self.unread)} could not be read in full"
            )
        elif self.checks_skipped:
            lines.append(
                "checks that need the whole spec were not run: fix these fields first"
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
