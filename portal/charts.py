"""Charts for the operations and monitoring pages (Altair, one function each)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def host_use(frame: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """Horizontal bars of a 0..1 use ratio per host, red past 85 %."""
    chart: alt.Chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{value}:Q",
                title=None,
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("host:N", title=None, sort="ascending"),
            color=alt.condition(
                alt.datum[value] > 0.85, alt.value("#d62728"), alt.value("#1f77b4")
            ),
            tooltip=["host", alt.Tooltip(f"{value}:Q", format=".0%")],
        )
        .properties(height=max(120, 22 * len(frame)))
    )
    return chart


def series(frame: pd.DataFrame, by: str, title: str, unit: str = "") -> alt.Chart:
    """Lines over time, one per ``by`` value (a tenant or a host)."""
    chart: alt.Chart = (
        alt.Chart(frame, title=title)
        .mark_line()
        .encode(
            x=alt.X("time:T", title=None),
            y=alt.Y("value:Q", title=unit or None),
            color=alt.Color(f"{by}:N", title=None),
            tooltip=[by, alt.Tooltip("time:T", format="%H:%M"), "value:Q"],
        )
        .properties(height=260)
    )
    return chart
