"""Plan and apply the kubernetes layer against one cluster.

The engine observes the live objects, lets :func:`citycloud.plan.make_plan`
compute the difference with the desired state, and applies exactly the
changes of a plan: creates and updates by server-side apply of the full
desired manifest, deletes by DELETE. Before it writes anything, the plan must
pass the safety rules (deleting a namespace needs ``allow_delete``, deleting
many tenants ``allow_mass_delete``) and every manifest must validate against
the target version's schemas. An empty plan writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from citycloud.adapters.kubernetes.client import KubeClient
from citycloud.adapters.kubernetes.observe import observe
from citycloud.adapters.kubernetes.schema import DEFAULT_VERSION, validate_manifests
from citycloud.desired.kubernetes import KINDS, LAYER, split_key
from citycloud.desired.model import DesiredState, Resource, ResourceId
from citycloud.errors import PlanError
from citycloud.i18n import register, t
from citycloud.plan import Action, Plan, SafetyPolicy, check_safety, make_plan
from citycloud.spec.tree import Spec

log = logging.getLogger(__name__)

register(
    {
        "kubernetes.foreign_namespace": {
            "zh": "命名空间已存在但不由 citycloud 管理：{names}；请先确认归属"
            "（加上标签 app.kubernetes.io/managed-by=citycloud 即表示移交）",
            "en": "namespace(s) already exist but citycloud does not manage them: "
            "{names}; check who owns them (the label "
            "app.kubernetes.io/managed-by=citycloud hands them over)",
        },
    }
)

# Same shape as citycloud.apply.engine.Progress (apply sits above adapters).
Progress = Callable[[str, int, int], None]


def no_progress(_step: str, _done: int, _total: int) -> None:
    """Report nothing."""


@dataclass
class ApplyReport:
    """What an apply did, in order."""

    applied: list[ResourceId] = field(default_factory=list)
    deleted: list[ResourceId] = field(default_factory=list)
    # Children whose namespace was deleted in the same run (gone with it).
    skipped: list[ResourceId] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.applied) + len(self.deleted)


class KubernetesEngine:
    """The kubernetes layer of one cluster, as an apply engine.

    ``policy`` is checked right before the first write, so the engine used
    on its own (tests, scripts) keeps the plan's safety rules; it defaults to
    the strict policy. ``None`` is for a caller that has checked the same
    plan already (:func:`citycloud.apply.apply_plan` does, with the flags the
    person gave). ``force`` takes over fields another field manager owns;
    without it such a conflict stops the run with
    :class:`~citycloud.adapters.kubernetes.errors.ApplyConflict`.
    """

    name = "kubernetes"
    layers: Sequence[str] = (LAYER,)

    def __init__(
        self,
        client: KubeClient,
        version: str | None = None,
        *,
        policy: SafetyPolicy | None = SafetyPolicy(),  # noqa: B008 (frozen)
        force: bool = False,
    ) -> None:
        self.client = client
        self.version = version
        self.policy = policy
        self.force = force
        self.last_report = ApplyReport()

    def _version(self, spec: Spec | None) -> str:
        if self.version:
            return self.version
        return spec.city.kubernetes.version if spec is not None else DEFAULT_VERSION

    def observe(
        self, desired: Iterable[Resource] | None = None, spec: Spec | None = None
    ) -> list[Resource]:
        """Live citycloud objects; with ``desired``, also refuse to plan over a
        namespace of the same name that citycloud does not manage."""
        observed = observe(self.client)
        if desired is not None:
            self._refuse_foreign_namespaces(desired, observed)
        return observed

    def _refuse_foreign_namespaces(
        self, desired: Iterable[Resource], observed: Iterable[Resource]
    ) -> None:
        # Server-side apply would silently adopt such a namespace, and with it
        # whatever runs there; a person has to decide that.
        have = {r.id for r in observed}
        taken = [
            r.id.key
            for r in desired
            if r.id.layer == LAYER
            and r.id.kind == "namespace"
            and r.id not in have
            and self.client.read("namespace", r.id.key) is not None
        ]
        if taken:
            raise PlanError(t("kubernetes.foreign_namespace", names=", ".join(taken)))

    def plan(self, desired: Iterable[Resource]) -> Plan:
        """The changes that bring the cluster to ``desired`` (kubernetes only)."""
        wanted = [r for r in desired if r.id.layer == LAYER]
        return make_plan(wanted, self.observe(wanted), layers=(LAYER,))

    def validate(self, plan: Plan, spec: Spec | None = None) -> int:
        """Validate every manifest the plan would send; returns how many."""
        return validate_manifests(
            (
                dict(c.after)
                for c in plan
                if c.id.layer == LAYER and c.action is not Action.DELETE and c.after
            ),
            self._version(spec),
        )

    def apply(
        self,
        plan: Plan,
        desired: DesiredState | None = None,
        spec: Spec | None = None,
        progress: Progress = no_progress,
    ) -> list[Resource]:
        """Carry out the kubernetes changes of ``plan`` in its order.

        Returns the objects observed afterwards, for the state store.
        """
        plan = plan.only((LAYER,))
        if self.policy is not None:
            check_safety(plan, self.policy)
        self.validate(plan, spec)
        report = ApplyReport()
        gone_namespaces = {
            c.id.key
            for c in plan
            if c.action is Action.DELETE and c.id.kind == "namespace"
        }
        total = len(plan)
        for index, change in enumerate(plan):
            progress(f"kubernetes:{change.action.value}", index, total)
            kind = KINDS[change.id.kind]
            namespace, name = split_key(kind, change.id.key)
            if change.action is Action.DELETE:
                if namespace is not None and namespace in gone_namespaces:
                    report.skipped.append(change.id)
                    continue
                self.client.delete(kind.name, name, namespace)
                report.deleted.append(change.id)
                continue
            assert change.after is not None
            self.client.apply(dict(change.after), force=self.force)
            report.applied.append(change.id)
        progress("kubernetes:done", total, total)
        self.last_report = report
        log.debug(
            "kubernetes apply: %s applied, %s deleted, %s skipped",
            len(report.applied),
            len(report.deleted),
            len(report.skipped),
        )
        return self.observe()
