"""Drive the Pulumi program (``infra/``, ``Pulumi.yaml`` at the project root)
through Pulumi's Automation API, for sites that run Pulumi.

The program reads the same desired state as the Ansible engine, so `citycloud
plan` stays the one place that says what changes; Pulumi only carries it out.
The Automation API needs the Pulumi CLI; without it the runner stops with a
clear error before touching anything.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from citycloud.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class PulumiSummary:
    result: str
    changes: dict[str, int]


def pulumi_cli() -> str:
    path = shutil.which("pulumi")
    if path is None:
        raise PermanentError(
            "pulumi",
            "the Pulumi CLI is not installed (the Automation API needs it); "
            "install it or use --engine ansible",
        )
    return path


def up(
    stack: str,
    spec: Path,
    divisions: Sequence[Path] = (),
    cloud: str | None = None,
    work_dir: Path = PROJECT_ROOT,
    on_output: Callable[[str], None] | None = None,
) -> PulumiSummary:
    """``pulumi up`` on ``stack`` with the spec in its config; returns counts."""
    pulumi_cli()
    from pulumi import automation as auto

    try:
        selected = auto.create_or_select_stack(stack_name=stack, work_dir=str(work_dir))
        selected.set_config("citycloud:spec", auto.ConfigValue(str(spec)))
        if divisions:
            selected.set_all_config(
                {
                    "citycloud:divisions": auto.ConfigValue(
                        str([str(d) for d in divisions])
                    )
                }
            )
        if cloud:
            selected.set_config("openstack:cloud", auto.ConfigValue(cloud))
        result = selected.up(on_output=on_output or (lambda line: log.info("%s", line)))
    except auto.ConcurrentUpdateError as exc:
        raise TransientError(
            "pulumi", f"stack {stack} is being updated: {exc}"
        ) from exc
    except auto.CommandError as exc:
        raise PermanentError("pulumi", f"pulumi up failed on {stack}: {exc}") from exc
    counts = {str(k): v for k, v in (result.summary.resource_changes or {}).items()}
    log.info("pulumi up on %s: %s %s", stack, result.summary.result, counts)
    return PulumiSummary(str(result.summary.result), counts)
