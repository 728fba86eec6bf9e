"""CLI options for OpenStack: ``--cloud NAME`` makes ``plan`` and ``apply``
observe the ``cloud`` and ``openstack`` layers live and apply them through an
engine (``--engine ansible``, the default); ``--force-quota`` lets an apply
lower a quota below current usage."""

from __future__ import annotations

from typing import Any

import click

from citycloud.cli_common import engine_option, plain_option
from citycloud.spec.tree import Spec

plain_option(
    "--engine",
    "os_engine",
    type=click.Choice(["ansible", "pulumi"]),
    default="ansible",
    show_default=True,
    help="How changes reach OpenStack (with --cloud).",
)
plain_option(
    "--force-quota",
    is_flag=True,
    help="Apply quotas even when lower than what a tenant already uses.",
)


@engine_option(
    "--cloud",
    envvar="CITYCLOUD_CLOUD",
    default=None,
    help="Cloud name in clouds.yaml: observe and apply OpenStack live.",
)
def _openstack_engine(value: Any, spec: Spec, params: dict[str, Any]) -> Any:
    from citycloud.adapters.openstack.engine import OpenStackEngine

    return OpenStackEngine(
        str(value),
        engine=str(params.get("os_engine") or "ansible"),
        force_quota=bool(params.get("force_quota")),
    )
