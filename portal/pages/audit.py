"""Audit, for auditors: sign-ins, page and app opens, requests and applies.

An auditor reads the records of their own organisation's subtree (the whole
city for a city-level auditor) and can export them as CSV for Excel.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from citycloud.access import Page, PortalUser, audit_scope
from citycloud.i18n import t
from portal import auth, data

KINDS = [
    "auth.login",
    "auth.logout",
    "portal.page",
    "portal.denied",
    "portal.app_open",
    "onboarding.request",
    "onboarding.approve",
    "onboarding.reject",
    "apply.change",
    "audit.export",
]


def filters() -> dict[str, object]:
    tz = data.city_tz()
    today = datetime.now(tz).date()
    with st.expander(t("aud.filters"), expanded=True):
        left, right = st.columns(2)
        since = left.date_input(t("aud.since"), today - timedelta(days=7), key="since")
        until = right.date_input(t("aud.until"), today, key="until")
        actor = left.text_input(t("aud.actor"), key="actor")
        tenant = right.text_input(t("aud.tenant"), key="tenant")
        kinds = st.multiselect(
            t("aud.kinds"),
            KINDS,
            format_func=lambda k: t(f"aud.kind.{k}"),
            placeholder=t("aud.all_kinds"),
            key="kinds",
        )
    return {
        "since": datetime.combine(since, time.min, tz),
        "until": datetime.combine(until, time.max, tz),
        "actor": actor.strip() or None,
        "tenant": tenant.strip() or None,
        "kinds": kinds or None,
    }


def record_export(user: PortalUser, count: int, chosen: dict[str, object]) -> None:
    data.record(
        "audit.export",
        actor=user.username,
        org_code=user.org_code,
        action="export",
        detail={
            "format": "csv",
            "count": count,
            **{k: None if v is None else str(v) for k, v in chosen.items()},
        },
    )


def main() -> None:
    user = auth.guard(Page.AUDIT)
    auth.spec_or_stop()
    scope = audit_scope(user, data.org_tree())

    st.title(t("page.audit"))
    chosen = filters()
    rows = data.audit_rows(org_codes=scope, **chosen)  # type: ignore[arg-type]
    st.caption(t("aud.count", count=len(rows)))
    if not rows:
        st.info(t("aud.none"))
        return

    headers = [t(f"aud.col.{c}") for c in data.AUDIT_COLUMNS]
    frame = pd.DataFrame(
        [
            [
                data.local_time(r.time),
                t(f"aud.kind.{r.kind}"),
                r.actor,
                r.org_code,
                r.tenant,
                r.target,
                r.action,
                r.outcome,
                r.detail,
            ]
            for r in rows
        ],
        columns=headers,
    )
    st.dataframe(frame, hide_index=True)
    st.download_button(
        t("aud.export"),
        data.audit_csv(rows, headers),
        file_name=f"audit-{datetime.now(data.city_tz()):%Y%m%d-%H%M}.csv",
        mime="text/csv",
        key="export",
        on_click=record_export,
        args=(user, len(rows), chosen),
    )


main()
