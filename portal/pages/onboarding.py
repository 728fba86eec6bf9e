"""Onboarding: a department admin requests an app as a tenant; an approver at
or above the owning organisation looks at the plan, then approves and applies
it (or rejects it with a reason). Every step lands in the audit ledger."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from citycloud.access import (
    OrgTree,
    Page,
    PortalUser,
    Role,
    may_approve,
    may_see_request,
    requestable_orgs,
)
from citycloud.errors import CityCloudError
from citycloud.i18n import t
from citycloud.plan import render_text
from citycloud.spec.models import Tier
from portal import auth, data, onboard

PLAN_KEY = "citycloud_plan:{id}"


def request_form(user: PortalUser, tree: OrgTree) -> None:
    st.subheader(t("onb.request_header"))
    orgs = requestable_orgs(user, tree)
    if not orgs:
        st.info(t("onb.no_orgs"))
        return
    with st.form("request", clear_on_submit=False):
        left, right = st.columns(2)
        name = left.text_input(t("onb.tenant_name"), key="tenant_name")
        app_name = right.text_input(t("onb.app_name"), key="app_name")
        slug = left.text_input(t("onb.slug"), key="slug")
        department = right.text_input(
            t("onb.department"), value=user.department, key="department"
        )
        owner = left.selectbox(t("onb.owner"), orgs, format_func=tree.name, key="owner")
        kind = right.selectbox(t("onb.kind"), ["vm", "container"], key="kind")
        cores = left.number_input(t("onb.cores"), 1, 512, 8, key="cores")
        ram = right.number_input(
            t("onb.ram"), 512, 2_097_152, 16384, step=1024, key="ram"
        )
        instances = left.number_input(t("onb.instances"), 1, 200, 4, key="instances")
        gigabytes = right.number_input(t("onb.gigabytes"), 0, 100_000, 200, key="gb")
        volumes = left.number_input(t("onb.volumes"), 0, 500, 4, key="volumes")
        floating = right.number_input(t("onb.floating_ips"), 0, 64, 0, key="floating")
        cidr = left.text_input(t("onb.cidr"), "10.240.0.0/24", key="cidr")
        tiers = right.multiselect(
            t("onb.tiers"),
            [x.value for x in Tier],
            default=["county", "township"],
            format_func=lambda x: t(f"tier.{x}"),
            placeholder=t("onb.choose"),
            key="tiers",
        )
        roles = st.multiselect(
            t("onb.roles"),
            [r.value for r in Role],
            default=["staff"],
            format_func=lambda r: t(f"role.{r}"),
            placeholder=t("onb.choose"),
            key="roles",
        )
        submitted = st.form_submit_button(t("onb.submit"), type="primary")
    if not submitted:
        return

    draft = onboard.make_draft(
        name=name,
        app_name=app_name,
        slug=slug,
        department=department,
        owner=owner,
        kind=kind,
        cidr=cidr,
        tiers=tiers,
        roles=roles,
        requester=user.username,
        quotas={
            "cores": cores,
            "ram_mb": ram,
            "instances": instances,
            "gigabytes": gigabytes,
            "volumes": volumes,
            "floating_ips": floating,
        },
    )
    try:
        data.requests_store().create(
            department=department.strip(),
            owner_org_code=owner,
            draft=draft,
            requested_by=user.username,
            requested_by_org=user.org_code,
        )
    except CityCloudError as error:
        st.error(t("onb.invalid", message=str(error)))
        return
    # Admins of the owning organisation itself (other than the requester) may
    # already decide; so may everyone above it.
    st.success(t("onb.submitted", approver=tree.name(owner)))


def requests_table(rows: list[Any], tree: OrgTree) -> None:
    frame = pd.DataFrame(
        [
            {
                t("onb.col.id"): r.id[:8],
                t("onb.col.tenant"): r.draft.get("name", r.tenant_slug),
                t("onb.col.owner"): tree.name(r.owner_org_code),
                t("onb.col.requested_by"): r.requested_by,
                t("onb.col.state"): t(f"onb.state.{r.state.value}"),
                t("onb.col.created"): data.local_time(r.created_at),
            }
            for r in rows
        ]
    )
    # A plain table: a handful of rows, readable (and searchable) as text.
    st.table(frame.set_index(t("onb.col.id")))


def approver_org(user: PortalUser, route: tuple[str, ...]) -> str:
    """The organisation on the route the user decides for."""
    if user.org_code in route:
        return str(user.org_code)
    return route[0]  # a cloud admin decides for the city, the route's root


def show_plan(request: Any) -> Any:
    key = PLAN_KEY.format(id=request.id)
    if key not in st.session_state:
        st.session_state[key] = onboard.plan_tenant(
            data.spec_path(), request.draft, data.state_store()
        )
    plan = st.session_state[key]
    st.markdown(
        f"**{t('onb.plan_header', tenant=request.tenant_slug, count=len(plan))}**"
    )
    st.code(render_text(plan), language=None)
    return plan


def apply_request(user: PortalUser, request: Any) -> None:
    store = data.requests_store()
    decided = store.approve(
        request.id,
        approver=user.username,
        approver_org_code=approver_org(user, request.route),
    )
    with st.status(t("onb.applying"), expanded=True) as status:
        try:
            result = onboard.apply_tenant(
                data.spec_path(),
                decided.draft,
                data.state_store(),
                actor=user.username,
                progress=lambda n, total, what: status.write(
                    t("onb.step", n=n + 1, total=max(total, n + 1), what=what)
                ),
            )
        except CityCloudError as error:
            data.record(
                "apply.change",
                actor=user.username,
                org_code=user.org_code,
                tenant=request.tenant_slug,
                target=f"request:{request.id}",
                action="apply",
                outcome="failed",
                detail={"error": str(error)},
            )
            status.update(state="error")
            st.error(t("onb.apply_failed", message=str(error)))
            return
        data.record(
            "apply.change",
            actor=user.username,
            org_code=user.org_code,
            tenant=request.tenant_slug,
            target=f"request:{request.id}",
            action="apply",
            detail=result,
        )
        status.update(
            label=t("onb.applied", tenant=request.tenant_slug, count=result["changes"]),
            state="complete",
        )
    st.success(t("onb.applied", tenant=request.tenant_slug, count=result["changes"]))


def approvals(user: PortalUser, tree: OrgTree, pending: list[Any]) -> None:
    st.subheader(t("onb.pending_header"))
    mine = [
        r for r in pending if may_approve(user, r.owner_org_code, r.requested_by, tree)
    ]
    if not mine:
        st.info(t("onb.none_pending"))
        return
    for request in mine:
        title = (
            f"{request.draft.get('name', request.tenant_slug)} · "
            f"{tree.name(request.owner_org_code)} · {request.requested_by}"
        )
        with st.expander(title, expanded=True):
            st.code(onboard.tenant_yaml(request.draft), language="yaml")
            if st.button(t("onb.show_plan"), key=f"plan:{request.id}"):
                st.session_state[f"show:{request.id}"] = True
            if st.session_state.get(f"show:{request.id}"):
                try:
                    show_plan(request)
                except CityCloudError as error:
                    st.error(t("onb.plan_unavailable", message=str(error)))
                    continue
                if st.button(t("onb.approve"), type="primary", key=f"ok:{request.id}"):
                    apply_request(user, request)
            reason = st.text_input(t("onb.reason"), key=f"why:{request.id}")
            if st.button(t("onb.reject"), key=f"no:{request.id}") and reason.strip():
                data.requests_store().reject(
                    request.id,
                    approver=user.username,
                    approver_org_code=approver_org(user, request.route),
                    reason=reason,
                )
                st.success(t("onb.rejected"))


def main() -> None:
    user = auth.guard(Page.ONBOARDING)
    auth.spec_or_stop()
    tree = data.org_tree()
    st.title(t("page.onboarding"))
    request_form(user, tree)

    every = data.find_requests()
    st.subheader(t("onb.mine_header"))
    mine = [r for r in every if r.requested_by == user.username]
    if mine:
        requests_table(mine, tree)
    else:
        st.info(t("onb.none"))
    pending = [
        r
        for r in every
        if r.state.value == "pending"
        and may_see_request(user, r.owner_org_code, r.requested_by, tree)
    ]
    approvals(user, tree, pending)


main()
