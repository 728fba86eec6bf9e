"""Plan and apply across layers: observe, diff, check safety, run engines,
record. The CLI and the portal call these; nothing here prints."""

from __future__ import annotations

import getpass
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from citycloud import metrics as platform_metrics
from citycloud.apply.engine import Engine, Progress, no_progress
from citycloud.desired import LAYERS, DesiredState, build_desired
from citycloud.desired.artifacts import render_all
from citycloud.desired.model import Resource
from citycloud.errors import CityCloudError
from citycloud.plan import Plan, SafetyPolicy, check_safety, make_plan
from citycloud.plan.access import access_note
from citycloud.spec.tree import Spec
from citycloud.store.audit import open_ledger, record_apply
from citycloud.store.state import StateStore

__all__ = [
    "ApplyResult",
    "Engine",
    "Progress",
    "Workspace",
    "apply_plan",
    "make_workspace",
    "plan_workspace",
    "write_artifacts",
]

log = logging.getLogger(__name__)


def current_actor() -> str:
    return os.environ.get("CITYCLOUD_ACTOR") or getpass.getuser()


@dataclass
class Workspace:
    """Everything one plan or apply works on."""

    spec: Spec
    desired: DesiredState
    store: StateStore
    engines: Mapping[str, Engine] = field(default_factory=dict)
    layers: tuple[str, ...] = LAYERS

    def engine_list(self) -> list[Engine]:
        """Each engine once, in layer order."""
        seen: list[Engine] = []
        for layer in self.layers:
            engine = self.engines.get(layer)
            if engine is not None and all(engine is not e for e in seen):
                seen.append(engine)
        return seen

    def close(self) -> None:
        """Let the engines release what they hold open (HTTP connections),
        so that a long-running process (the portal) does not gather them."""
        for engine in self.engine_list():
            close = getattr(engine, "close", None)
            if close is None:
                continue
            try:
                close()
            except Exception:  # closing must never hide the real outcome
                log.warning("Could not close engine %s", engine.name, exc_info=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def make_workspace(
    spec: Spec,
    store: StateStore,
    engines: Iterable[Engine] = (),
    layers: Sequence[str] | None = None,
    progress: Progress = no_progress,
) -> Workspace:
    chosen = tuple(layers) if layers else LAYERS
    table: dict[str, Engine] = {}
    for engine in engines:
        for layer in engine.layers:
            table[layer] = engine
    desired = build_desired(
        spec,
        chosen,
        progress=lambda layer: progress(
            f"desired:{layer}", chosen.index(layer), len(chosen)
        ),
    )
    return Workspace(spec, desired, store, table, chosen)


def plan_workspace(ws: Workspace, progress: Progress = no_progress) -> Plan:
    """Compare desired with actual for every layer of the workspace.

    Layers with an engine are observed live; the others compare with the
    state the store recorded at the last apply. A layer never applied plans
    from its desired state alone.
    """
    actual: list[Resource] = []
    desired_only: list[str] = []
    engines = ws.engine_list()
    for index, engine in enumerate(engines):
        progress(f"observe:{engine.name}", index, len(engines))
        actual.extend(engine.observe(ws.desired, ws.spec))
    recorded = [layer for layer in ws.layers if layer not in ws.engines]
    if recorded:
        progress("observe:store", len(engines), len(engines) + 1)
        actual.extend(ws.store.applied(recorded))
        desired_only = [layer for layer in recorded if not ws.store.has_layer(layer)]
    progress("diff", 1, 1)
    plan = make_plan(ws.desired, actual, ws.layers, desired_only)
    names = {code: org.name for code, org in ws.spec.orgs.items()}
    note = access_note(plan.changes, names)
    return replace(plan, notes=(*plan.notes, note)) if note else plan


# Deletes refused, mass deletes refused: what applies when nobody says more.
DEFAULT_POLICY = SafetyPolicy()


@dataclass(frozen=True)
class ApplyResult:
    apply_id: str | None
    plan: Plan
    status: str


def apply_plan(
    ws: Workspace,
    plan: Plan,
    policy: SafetyPolicy = DEFAULT_POLICY,
    actor: str | None = None,
    progress: Progress = no_progress,
) -> ApplyResult:
    """Carry out ``plan``: engines for their layers, the store for the rest.

    An empty plan runs nothing. A failing engine leaves the store as it was
    for its layers (they are observed live next time) and marks the apply
    failed; layers already done stay recorded.
    """
    check_safety(plan, policy)
    if plan.is_empty:
        log.info("plan is empty: nothing to apply")
        return ApplyResult(None, plan, "unchanged")
    actor = actor or current_actor()
    apply_id = ws.store.start_apply(actor, ws.desired.digest(), plan)
    started = time.monotonic()
    try:
        engines = ws.engine_list()
        for engine in engines:
            part = plan.only(engine.layers)
            if part.is_empty:
                continue
            observed = engine.apply(part, ws.desired, ws.spec, progress)
            if observed is None:
                ws.store.record_changes(apply_id, part.changes)
            else:
                for layer in engine.layers:
                    ws.store.replace_layer(apply_id, layer, observed)
        recorded = plan.only([layer for layer in ws.layers if layer not in ws.engines])
        progress("record", 0, 1)
        ws.store.record_changes(apply_id, recorded.changes)
        progress("record", 1, 1)
    except CityCloudError as exc:
        ws.store.finish_apply(apply_id, "failed", str(exc))
        _audit(
            ws, apply_id, plan, actor, time.monotonic() - started, "failed", str(exc)
        )
        raise
    except Exception as exc:
        ws.store.finish_apply(apply_id, "failed", f"{type(exc).__name__}: {exc}")
        _audit(
            ws,
            apply_id,
            plan,
            actor,
            time.monotonic() - started,
            "failed",
            type(exc).__name__,
        )
        raise
    except KeyboardInterrupt:
        # Ctrl-C: what ran is recorded change by change; the record must not
        # stay "running" for ever.
        ws.store.finish_apply(apply_id, "interrupted", "interrupted by the user")
        _audit(
            ws,
            apply_id,
            plan,
            actor,
            time.monotonic() - started,
            "interrupted",
            "KeyboardInterrupt",
        )
        raise
    ws.store.finish_apply(apply_id, "succeeded")
    _audit(ws, apply_id, plan, actor, time.monotonic() - started, "succeeded")
    return ApplyResult(apply_id, plan, "succeeded")


def _audit(
    ws: Workspace,
    apply_id: str,
    plan: Plan,
    actor: str,
    duration_s: float,
    status: str,
    error: str | None = None,
) -> None:
    """Every change of the plan goes to the audit ledger, naming the plan; the
    platform's metrics count the apply and how long it took."""
    platform_metrics.observe_applied_plan(plan, status, duration_s)
    ledger = open_ledger(ws.store)
    record_apply(
        ledger, apply_id=apply_id, plan=plan, actor=actor, status=status, error=error
    )


ARTIFACT_MANIFEST = ".citycloud-artifacts.json"


def write_artifacts(ws: Workspace, out_dir: Path) -> list[Path]:
    """Render every artifact into ``out_dir`` (files replaced atomically).

    Files this function wrote last time and no longer renders (a removed
    tenant's rules, say) are deleted; anything else in the folder is left.
    """
    rendered = render_all(ws.desired, ws.spec)
    manifest = out_dir / ARTIFACT_MANIFEST
    try:
        previous = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        previous = set()
    written: list[Path] = []
    for relative, text in sorted(rendered.items()):
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    for relative in sorted(previous - set(rendered)):
        stale = out_dir / relative
        if stale.is_file() and out_dir.resolve() in stale.resolve().parents:
            stale.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(sorted(rendered), indent=1), encoding="utf-8")
    return written
