"""Onboarding steps behind the page: draft, plan preview, write and apply.

A request carries a tenant draft written exactly as a tenant in the spec. The
plan an approver sees is ``citycloud.plan`` over the spec plus that draft as a
YAML file, computed on a scratch copy of the spec folder so that looking at a
plan never changes the spec. Approval writes the file into the spec folder and
applies the tenant's part of the plan.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from citycloud.desired.artifacts import to_yaml
from citycloud.spec.naming import slug_for

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # done, total, step


def make_draft(
    *,
    name: str,
    app_name: str,
    slug: str,
    department: str,
    owner: str,
    kind: str,
    quotas: Mapping[str, int],
    cidr: str,
    tiers: Sequence[str],
    roles: Sequence[str],
    requester: str,
) -> dict[str, Any]:
    """The tenant as the spec would hold it; slugs derived from the Chinese names."""
    tenant_slug = slug.strip() or slug_for(name.strip()) or ""
    draft: dict[str, Any] = {
        "name": name.strip(),
        "department": department.strip(),
        "owner": owner,
        "kind": kind,
        "network": {"cidr": cidr.strip()},
        "quotas": {k: int(v) for k, v in quotas.items()},
        "apps": [
            {
                "name": app_name.strip() or name.strip(),
                "access": {
                    "tiers": list(tiers),
                    "roles": list(roles),
                    "scope": "owner",
                },
            }
        ],
        "admins": [requester],
    }
    if tenant_slug:
        draft["slug"] = tenant_slug
    return draft


def tenant_yaml(draft: Mapping[str, Any]) -> str:
    return to_yaml({"tenants": [dict(draft)]})


def tenant_file(spec_dir: Path, slug: str) -> Path:
    return spec_dir / "tenants" / f"{slug}.yaml"


def write_tenant(spec_dir: Path, draft: Mapping[str, Any]) -> Path:
    """Write the draft as its own YAML file in the spec folder."""
    path = tenant_file(spec_dir, str(draft["slug"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tenant_yaml(draft), encoding="utf-8")
    log.info("wrote tenant %s to %s", draft["slug"], path)
    return path


def plan_tenant(spec_dir: Path, draft: Mapping[str, Any], store: Any) -> Any:
    """The plan for this tenant, computed on a scratch copy of the spec folder."""
    from citycloud.apply import make_workspace, plan_workspace
    from citycloud.spec import load_spec

    with tempfile.TemporaryDirectory(prefix="citycloud-onboard-") as scratch:
        copy = Path(scratch) / "spec"
        shutil.copytree(spec_dir, copy)
        write_tenant(copy, draft)
        spec = load_spec(copy)
    plan = plan_workspace(make_workspace(spec, store))
    return tenant_only(plan, spec, str(draft["slug"]))


def tenant_only(plan: Any, spec: Any, slug: str) -> Any:
    """Only this tenant's changes, with the access note redone for just them
    (the workspace's note speaks of every app the whole plan touches)."""
    from dataclasses import replace

    from citycloud.plan.access import access_note

    part = plan.for_tenants([slug])
    names = {code: org.name for code, org in spec.orgs.items()}
    note = access_note(part.changes, names)
    return replace(part, notes=(note,) if note else ())


def apply_tenant(
    spec_dir: Path,
    draft: Mapping[str, Any],
    store: Any,
    *,
    actor: str,
    progress: Progress,
) -> dict[str, Any]:
    """Write the tenant into the spec folder, plan it and apply its changes.

    Outside systems configured in the portal's environment (CITYCLOUD_CLOUD,
    CITYCLOUD_KEYCLOAK_URL, ...) are applied live, as `citycloud apply` would;
    the other layers are on the embedded default (the state store records
    them). Returns what the audit record keeps.
    """
    import citycloud.cli  # noqa: F401  (registers every area's engine options)
    from citycloud.apply import apply_plan, make_workspace, plan_workspace
    from citycloud.cli_common import engines_from_environment
    from citycloud.errors import CityCloudError
    from citycloud.spec import load_spec

    slug = str(draft["slug"])
    path = write_tenant(spec_dir, draft)
    try:
        spec = load_spec(spec_dir)
    except CityCloudError:
        path.unlink()  # a draft that breaks the spec must not stay in it
        raise
    with make_workspace(spec, store, engines_from_environment(spec)) as workspace:
        plan = tenant_only(plan_workspace(workspace), spec, slug)
        result = apply_plan(
            workspace,
            plan,
            actor=actor,
            progress=lambda step, done, total: progress(done, total, step),
        )
    return {
        "tenant": slug,
        "layers": list(plan.by_layer()),
        "changes": len(plan),
        "apply_id": result.apply_id,
        "status": result.status,
    }
