"""Operations, for cloud admins and ops: hosts and their use, recent applies,
pending onboarding requests."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from citycloud.access import Page
from citycloud.i18n import t
from portal import auth, charts, data

CPU_USE = '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))'
RAM_USE = "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"


def _by_host(rows: list[dict[str, object]], hosts: list[object]) -> dict[str, float]:
    """Match Prometheus series to spec hosts by name or address."""
    found: dict[str, float] = {}
    for row in rows:
        labels = row["metric"]
        assert isinstance(labels, dict)
        instance = str(labels.get("instance", "")).rsplit(":", 1)[0]
        for host in hosts:
            name, address = host.name, str(host.address)  # type: ignore[attr-defined]
            if labels.get("host") == name or instance in (name, address):
                found[name] = float(row["value"])  # type: ignore[arg-type]
    return found


def hosts_section(spec: object) -> None:
    st.subheader(t("ops.hosts_header"))
    hosts = list(spec.datacenter.hosts)  # type: ignore[attr-defined]
    if not hosts:
        st.info(t("ops.no_hosts"))
        return
    cores = sum(h.cpu for h in hosts)
    ram = sum(h.ram_gb for h in hosts)
    st.caption(t("ops.capacity", hosts=len(hosts), cores=cores, ram=ram))

    cpu_use: dict[str, float] = {}
    ram_use: dict[str, float] = {}
    if data.prometheus_url() is None:
        st.caption(t("ops.no_metrics"))
    else:
        try:
            cpu_use = _by_host(data.prom_query(CPU_USE), hosts)
            ram_use = _by_host(data.prom_query(RAM_USE), hosts)
        except Exception as error:  # Prometheus down must not take the page down
            st.warning(t("mon.unreachable", message=str(error)))

    frame = pd.DataFrame(
        [
            {
                t("ops.col.host"): h.name,
                t("ops.col.role"): h.role.value,
                t("ops.col.rack"): h.rack,
                t("ops.col.cpu"): h.cpu,
                t("ops.col.ram"): h.ram_gb,
                t("ops.col.disk"): h.disk_gb,
                t("ops.col.cpu_use"): cpu_use.get(h.name),
                t("ops.col.ram_use"): ram_use.get(h.name),
                t("ops.col.state"): t("ops.maintenance")
                if h.maintenance
                else t("ops.in_service"),
            }
            for h in hosts
        ]
    )
    use_columns = [t("ops.col.cpu_use"), t("ops.col.ram_use")]
    if not cpu_use and not ram_use:
        frame = frame.drop(columns=use_columns)  # no metrics: no empty columns
    percent = st.column_config.ProgressColumn(
        format="percent", min_value=0, max_value=1
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="hosts",
        column_config=dict.fromkeys(use_columns, percent),
    )
    if cpu_use:
        use = pd.DataFrame({"host": list(cpu_use), "cpu": list(cpu_use.values())})
        st.altair_chart(charts.host_use(use, "cpu", t("ops.col.cpu_use")))


def applies_section() -> None:
    st.subheader(t("ops.applies_header"))
    applies = data.recent_applies()
    if not applies:
        st.info(t("ops.no_applies"))
        return
    frame = pd.DataFrame(
        [
            {
                t("ops.col.time"): data.local_time(a["time"]),
                t("ops.col.actor"): a["actor"],
                t("ops.col.layer"): a["layer"],
                t("ops.col.changes"): a["changes"],
                t("ops.col.outcome"): a["outcome"],
            }
            for a in applies
        ]
    )
    st.dataframe(frame, hide_index=True, key="applies")


def requests_section() -> None:
    st.subheader(t("ops.requests_header"))
    tree = data.org_tree()
    pending = data.find_requests(["pending"])
    if not pending:
        st.info(t("onb.none_pending"))
        return
    frame = pd.DataFrame(
        [
            {
                t("onb.col.id"): r.id[:8],
                t("onb.col.tenant"): r.draft.get("name", r.tenant_slug),
                t("onb.col.owner"): tree.name(r.owner_org_code),
                t("onb.col.requested_by"): r.requested_by,
                t("onb.col.created"): data.local_time(r.created_at),
            }
            for r in pending
        ]
    )
    st.dataframe(frame, hide_index=True, key="pending")


def main() -> None:
    auth.guard(Page.OPERATIONS)
    spec = auth.spec_or_stop()
    st.title(t("page.operations"))
    hosts_section(spec)
    applies_section()
    requests_section()


main()
