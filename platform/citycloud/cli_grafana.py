"""CLI options for Grafana: ``--grafana URL`` makes ``plan`` and ``apply``
observe and apply the ``dashboards`` layer live. Credentials come from
CITYCLOUD_GRAFANA_TOKEN, or CITYCLOUD_GRAFANA_USER and _PASSWORD."""

from __future__ import annotations

import os
from typing import Any

from citycloud.cli_common import engine_option
from citycloud.desired.artifacts import RENDERERS
from citycloud.spec.tree import Spec


def _render_dashboards(desired: Any, spec: Spec) -> dict[str, str]:
    """Dashboards as Grafana JSON, where grafana-foundation-sdk is installed;
    on the core install the plan still works and this artifact is skipped."""
    try:
        from citycloud.adapters.grafana.dashboards import render_dashboards
    except ImportError:
        return {}
    return render_dashboards(desired, spec)


RENDERERS["dashboards"] = _render_dashboards


@engine_option(
    "--grafana",
    "grafana_url",
    envvar="CITYCLOUD_GRAFANA_URL",
    default=None,
    help="Grafana URL: observe and apply dashboards, folders and teams live.",
)
def _grafana_engine(value: Any, spec: Spec, params: dict[str, Any]) -> Any:
    from citycloud.adapters.grafana.engine import GrafanaEngine

    return GrafanaEngine(
        str(value),
        token=os.environ.get("CITYCLOUD_GRAFANA_TOKEN"),
        user=os.environ.get("CITYCLOUD_GRAFANA_USER"),
        password=os.environ.get("CITYCLOUD_GRAFANA_PASSWORD"),
        timezone=spec.city.timezone,
    )
