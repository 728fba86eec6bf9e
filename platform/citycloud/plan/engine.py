"""What an engine is: something that can observe and change some layers.

The protocol lives with the plan (it is a type, no code), so that adapters can
implement it without depending on the orchestration above them.

An outside system's adapter (OpenStack through Ansible or Pulumi, Keycloak,
Kubernetes, ...) becomes an engine for its layers. Layers without an engine
are on the embedded default: their actual state is what the store recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from citycloud.desired.model import DesiredState, Resource
from citycloud.plan.model import Plan
from citycloud.spec.tree import Spec

Progress = Callable[[str, int, int], None]


def no_progress(_step: str, _done: int, _total: int) -> None:
    """Default progress callback: report nothing."""


class Engine(Protocol):
    """Observes and changes the outside system behind ``layers``."""

    name: str
    layers: Sequence[str]

    def observe(self, desired: DesiredState, spec: Spec) -> list[Resource]:
        """The live state of ``layers``, in the desired state's shapes.

        It may raise PlanError when the spec conflicts with what is live (a
        CIDR taken, a name owned by someone else), before any write.
        """
        ...

    def apply(
        self, plan: Plan, desired: DesiredState, spec: Spec, progress: Progress
    ) -> list[Resource] | None:
        """Carry out ``plan`` (only this engine's layers).

        Return the state observed afterwards to record, or None to record the
        plan's changes as they are.
        """
        ...
