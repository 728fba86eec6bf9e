"""Monitoring: the city at a glance, use per tenant, host health.

Everything comes from Prometheus when CITYCLOUD_PROMETHEUS_URL is set; a
tenant admin sees only the tenants their organisation owns or oversees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from citycloud.access import Page, sees_whole_city, visible_tenants
from citycloud.i18n import t
from citycloud.spec.models import Tenant
from portal import auth, charts, data

# openstack-exporter's per-project usage, the series the tenant alert rules
# of the monitoring layer read; label ``tenant`` is the tenant's slug.
TENANT_CPU = "sum by (tenant) (openstack_nova_limits_vcpus_used)"
TENANT_RAM = "sum by (tenant) (openstack_nova_limits_memory_used) / 1024"
HOSTS_UP = 'up{job="node"}'
HOST_CPU = '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))'


def glance(tenants: Sequence[Tenant], up: list[dict[str, Any]]) -> None:
    st.subheader(t("mon.city_header"))
    first, second, third = st.columns(3)
    hosts_up = sum(1 for row in up if row["value"] == 1.0)
    # Only city-wide roles see hosts; others get a dash rather than "0/0".
    first.metric(t("mon.hosts_up"), f"{hosts_up}/{len(up)}" if up else "—")
    second.metric(t("mon.tenants"), len(tenants))
    third.metric(t("mon.apps"), sum(len(x.apps) for x in tenants))


def tenant_use(slugs: set[str]) -> None:
    st.subheader(t("mon.tenants_header"))
    rows = [r for r in data.prom_range(TENANT_CPU) if r.get("tenant") in slugs]
    if not rows:
        st.caption(t("mon.no_data"))
        return
    st.altair_chart(charts.series(pd.DataFrame(rows), "tenant", "vCPU"))
    ram = [r for r in data.prom_range(TENANT_RAM) if r.get("tenant") in slugs]
    if ram:
        st.altair_chart(charts.series(pd.DataFrame(ram), "tenant", "RAM", "GiB"))


def host_health() -> None:
    st.subheader(t("mon.hosts_header"))
    rows = data.prom_query(HOST_CPU)
    if not rows:
        st.caption(t("mon.no_data"))
        return
    frame = pd.DataFrame(
        [
            {"host": str(r["metric"].get("instance", "")), "cpu": r["value"]}
            for r in rows
        ]
    )
    st.altair_chart(charts.host_use(frame, "cpu", t("mon.cpu")))


def main() -> None:
    user = auth.guard(Page.MONITORING)
    spec = auth.spec_or_stop()
    st.title(t("page.monitoring"))
    if data.prometheus_url() is None:
        st.info(t("mon.not_configured"))
        return
    tenants = visible_tenants(user, spec.tenants, data.org_tree())
    try:
        up = data.prom_query(HOSTS_UP) if sees_whole_city(user) else []
        glance(tenants, up)
        tenant_use({str(x.slug) for x in tenants})
        if sees_whole_city(user):
            host_health()
    except Exception as error:  # Prometheus down must not take the page down
        st.warning(t("mon.unreachable", message=str(error)))


main()
