"""The portal's entry: sign-in, then navigation built from the user's roles.

Every page is registered with ``st.navigation`` so that a deep link reaches
the page's own guard, which refuses and records it; the menu people see is
built here from the pages their roles open.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402

from citycloud.access import Page, PortalUser, visible_pages  # noqa: E402
from citycloud.i18n import t  # noqa: E402
from portal import auth, data, texts  # noqa: E402, F401

PAGE_ICONS = {
    Page.APP_CENTRE: ":material/apps:",
    Page.ONBOARDING: ":material/add_business:",
    Page.OPERATIONS: ":material/dns:",
    Page.MONITORING: ":material/monitoring:",
    Page.AUDIT: ":material/policy:",
}
HERE = Path(__file__).resolve().parent


def city_name() -> str:
    try:
        return str(data.spec().city.name)
    except Exception:  # the sign-in page must show even with a broken spec
        return ""


def language_picker() -> None:
    labels = {"zh": "简体中文", "en": "English"}
    current = auth.use_session_language()
    choice = st.sidebar.selectbox(
        t("portal.language"),
        list(labels),
        index=list(labels).index(current),
        format_func=labels.__getitem__,
        key="language_picker",
    )
    if choice != current:
        st.session_state[auth.LANG_KEY] = choice
        st.rerun()


def user_panel(user: PortalUser) -> None:
    tree = data.org_tree()
    with st.sidebar:
        st.markdown(f"**{t('portal.signed_in_as', name=user.display_name)}**")
        if user.demo:
            st.caption(f":material/warning: {t('portal.demo_marker')}")
        if user.org_code:
            tier = t(f"tier.{user.tier.value}") if user.tier else ""
            st.caption(t("portal.org_line", org=tree.name(user.org_code), tier=tier))
        roles = t("portal.list_sep").join(
            t(f"role.{r.value}") for r in sorted(user.roles)
        )
        st.caption(t("portal.roles_line", roles=roles))
        auth.sign_out_button(user)


def main() -> None:
    auth.use_session_language()
    st.set_page_config(page_title=t("portal.title", city=city_name()), layout="wide")
    language_picker()
    user = auth.current_user()
    if user is None:
        auth.sign_in_page()
        return
    pages = {
        page: st.Page(
            HERE / "pages" / f"{page.value}.py",
            title=t(f"page.{page.value}"),
            icon=PAGE_ICONS[page],
            url_path=page.value,
            default=page is Page.APP_CENTRE,
        )
        for page in Page
    }
    current = st.navigation(list(pages.values()), position="hidden")
    with st.sidebar:
        st.subheader(t("portal.title", city=city_name()))
        for page in visible_pages(user):
            st.page_link(pages[page])
    user_panel(user)
    current.run()


main()
