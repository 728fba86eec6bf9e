"""Grafana's JSON model for the dashboards the desired state describes.

The desired state says what a dashboard shows (panels with a title, a PromQL
expression, a unit and a kind); grafana-foundation-sdk builds the JSON that
Grafana stores. :func:`describe` is the inverse, so that a dashboard read
back from Grafana compares field by field with the desired one, and an edit
made in Grafana's UI shows up in the plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
PANEL_WIDTH = 12
PANEL_HEIGHT = 8


def build(board: Mapping[str, Any], timezone: str = "Asia/Shanghai") -> dict[str, Any]:
    """The Grafana dashboard JSON for a desired dashboard description."""
    builder = (
        dashboard.Dashboard(board["title"])
        .uid(board["uid"])
        .tags(list(board.get("tags", [])))
        .timezone(timezone)
        .refresh("1m")
        .time("now-6h", "now")
        .editable()
    )
    for index, panel in enumerate(board.get("panels", [])):
        kind = stat.Panel() if panel.get("kind") == "stat" else timeseries.Panel()
        builder = builder.with_panel(
            kind.title(panel["title"])
            .unit(panel.get("unit", "short"))
            .datasource(PROMETHEUS)
            .height(PANEL_HEIGHT)
            .span(PANEL_WIDTH)
            .with_target(
                prometheus.Dataquery()
                .expr(panel["expr"])
                .ref_id(chr(ord("A") + index % 26))
            )
        )
    encoded: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return encoded


def describe(model: Mapping[str, Any], folder: str | None) -> dict[str, Any]:
    """The desired-state description of a dashboard read back from Grafana."""
    panels = []
    for panel in model.get("panels") or []:
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or [{}]
        panels.append(
            {
                "title": panel.get("title", ""),
                "expr": targets[0].get("expr", ""),
                "unit": ((panel.get("fieldConfig") or {}).get("defaults") or {}).get(
                    "unit", "short"
                ),
                "kind": "stat" if panel.get("type") == "stat" else "timeseries",
            }
        )
    return {
        "uid": model.get("uid"),
        "title": model.get("title"),
        "folder": folder,
        "tags": list(model.get("tags") or []),
        "panels": panels,
    }


def render_dashboards(desired: Any, spec: Any) -> dict[str, str]:
    """Artifact renderer: every dashboard as Grafana JSON."""
    return {
        f"monitoring/dashboards/{r.id.key}.json": json.dumps(
            build(r.attrs, spec.city.timezone),
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )
        + "\n"
        for r in desired.layer("dashboards")
        if r.id.kind == "dashboard"
    }
