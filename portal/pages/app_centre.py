"""App centre: the tenant apps this user may open, by tier, role and department."""

from __future__ import annotations

import streamlit as st

from citycloud.access import Page, visible_apps
from citycloud.i18n import t
from portal import auth, data


def main() -> None:
    user = auth.guard(Page.APP_CENTRE)
    spec = auth.spec_or_stop()
    tree = data.org_tree()

    st.title(t("page.app_centre"))
    st.caption(t("apps.intro"))
    apps = visible_apps(user, spec.tenants, tree)
    if not apps:
        st.info(t("apps.none"))
        return

    columns = st.columns(3)
    for index, (tenant, app) in enumerate(apps):
        with columns[index % 3].container(border=True):
            st.subheader(app.name)
            owner = t(
                "apps.owner", department=tenant.department, org=tree.name(tenant.owner)
            )
            st.caption(owner)
            if app.description:
                st.write(app.description)
            key = f"{tenant.slug or tenant.name}/{app.slug or app.name}"
            if not app.url:
                st.caption(t("apps.no_url"))
            elif st.button(t("apps.open"), key=f"open:{key}"):
                data.record(
                    "portal.app_open",
                    actor=user.username,
                    org_code=user.org_code,
                    tenant=tenant.slug,
                    target=f"app:{key}",
                    action="open",
                )
                st.link_button(f"{app.name} ↗", app.url, type="primary")


main()
