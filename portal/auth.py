"""Who is signed in, how they sign in and out, and the guard every page calls.

Production sign-in is Streamlit's native OpenID Connect login (``st.login``)
against the city's Keycloak realm, configured by the ``[auth]`` section of the
secrets file that ``citycloud portal`` writes. Without it the portal offers a
clearly marked demo user picker, and only when it listens on loopback: it
never serves anyone unauthenticated on a reachable address.

Tests inject a user by putting ID-token claims in the session state under
``TEST_CLAIMS_KEY``; that hook is honoured only when ``CITYCLOUD_PORTAL_TEST``
is ``1`` in the environment of the process running the app.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import streamlit as st

from citycloud import i18n
from citycloud.access import OrgTree, Page, PortalUser, may_open_page, user_from_claims
from citycloud.cli_portal import is_loopback
from citycloud.i18n import t
from citycloud.spec.models import Tier
from portal import data, texts  # noqa: F401  (registers the messages)

log = logging.getLogger(__name__)

TEST_FLAG = "CITYCLOUD_PORTAL_TEST"
TEST_CLAIMS_KEY = "citycloud_test_claims"
DEMO_CLAIMS_KEY = "citycloud_demo_claims"
LANG_KEY = "citycloud_lang"
_SIGNED_IN_KEY = "citycloud_sign_in_recorded"
_LAST_PAGE_KEY = "citycloud_last_page"


def use_session_language() -> str:
    """Apply the language chosen in this session; until someone picks one, the
    server's CITYCLOUD_LANG, else Simplified Chinese."""
    lang = i18n.normalise(
        st.session_state.get(LANG_KEY) or os.environ.get("CITYCLOUD_LANG")
    )
    i18n.use(lang)
    return lang


def auth_configured() -> bool:
    """True when the secrets file has an ``[auth]`` section (an OIDC provider)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def serving_address() -> str:
    return str(st.get_option("server.address") or "")


def demo_allowed() -> bool:
    return not auth_configured() and is_loopback(serving_address())


def _claims() -> tuple[Mapping[str, Any] | None, bool]:
    if os.environ.get(TEST_FLAG) == "1" and TEST_CLAIMS_KEY in st.session_state:
        return st.session_state[TEST_CLAIMS_KEY], False
    if auth_configured():
        if st.user.is_logged_in:
            return st.user.to_dict(), False
        return None, False
    if demo_allowed() and DEMO_CLAIMS_KEY in st.session_state:
        return st.session_state[DEMO_CLAIMS_KEY], True
    return None, False


def current_user() -> PortalUser | None:
    """The signed-in user, or None; records the first sight as a sign-in."""
    claims, demo = _claims()
    if claims is None:
        return None
    user = user_from_claims(claims, demo=demo)
    if st.session_state.get(_SIGNED_IN_KEY) != user.username:
        st.session_state[_SIGNED_IN_KEY] = user.username
        data.record(
            "auth.login",
            actor=user.username,
            org_code=user.org_code,
            action="auth.login",
            detail={"demo": demo, "roles": sorted(user.roles)},
        )
        log.info("user %s signed in (demo=%s)", user.username, demo)
    return user


def _group_path(tree: OrgTree, code: str) -> str:
    names = [tree.name(c) for c in reversed([code, *tree.ancestors(code)])]
    return "/" + "/".join(names)


def demo_personas(tree: OrgTree) -> list[dict[str, Any]]:
    """A handful of users across tiers and roles, taken from the spec's tree."""
    by_tier: dict[Tier, list[str]] = {tier: [] for tier in Tier}
    for code, org in tree.orgs.items():
        by_tier[org.level].append(code)
    personas: list[dict[str, Any]] = []

    def add(username: str, code: str, roles: list[str], department: str) -> None:
        org = tree.orgs[code]
        personas.append(
            {
                "preferred_username": username,
                "name": f"{org.name}·{t('role.' + roles[0])}",
                "org_code": code,
                "tier": org.level.value,
                "department": department,
                "roles": roles,
                "groups": [_group_path(tree, code)],
            }
        )

    if by_tier[Tier.CITY]:
        city = by_tier[Tier.CITY][0]
        add("demo-cloud-admin", city, ["cloud-admin"], "大数据中心")
        add("demo-ops", city, ["ops"], "大数据中心")
        add("demo-auditor", city, ["auditor"], "审计局")
    counties = by_tier[Tier.COUNTY]
    if counties:
        add("demo-county-admin", counties[0], ["tenant-admin", "staff"], "政务服务局")
        towns = [
            c for c in by_tier[Tier.TOWNSHIP] if tree.orgs[c].parent == counties[0]
        ]
        if towns:
            add("demo-township-staff", towns[0], ["staff"], "党政综合办")
    return personas


def sign_in_page() -> None:
    """What a visitor sees before signing in; ends the script run."""
    st.title(t("portal.sign_in_title"))
    if auth_configured():
        st.write(t("portal.sign_in_help"))
        if st.button(t("portal.sign_in"), type="primary", key="sign_in"):
            st.login()
        st.stop()
    if not demo_allowed():
        st.error(t("portal.refuse_remote"))
        st.stop()
    st.warning(t("portal.demo_banner"), icon=":material/warning:")
    personas = demo_personas(data.org_tree())
    choice = st.selectbox(
        t("portal.demo_pick"),
        range(len(personas)),
        format_func=lambda i: (
            f"{personas[i]['name']} ({personas[i]['preferred_username']})"
        ),
    )
    if st.button(t("portal.demo_enter"), type="primary", key="demo_enter"):
        st.session_state[DEMO_CLAIMS_KEY] = personas[choice]
        st.rerun()
    st.stop()


def forget_user(user: PortalUser) -> None:
    """Button callback: record the sign-out and drop the session's user."""
    data.record(
        "auth.logout", actor=user.username, org_code=user.org_code, action="sign_out"
    )
    keys = [DEMO_CLAIMS_KEY, _LAST_PAGE_KEY, TEST_CLAIMS_KEY]
    if user.demo or not auth_configured():
        keys.append(_SIGNED_IN_KEY)
    # An OIDC user stays known until st.logout() below ends the session, so
    # the rest of this run does not count as a new sign-in.
    for key in keys:
        if key in st.session_state:
            del st.session_state[key]


def sign_out_button(user: PortalUser) -> None:
    """Sign out: a demo user is simply forgotten; an OIDC user is also signed
    out at the provider, so the next sign-in asks for credentials again."""
    clicked = st.button(
        t("portal.sign_out"), key="sign_out", on_click=forget_user, args=(user,)
    )
    if clicked and auth_configured() and not user.demo:
        st.logout()


def guard(page: Page) -> PortalUser:
    """Let the user in only if their roles open ``page``; otherwise refuse and stop.

    Every page calls this first, so a deep link to a page missing from the
    user's navigation is refused and recorded, not merely hidden.
    """
    use_session_language()
    user = current_user()
    if user is None:
        sign_in_page()
        st.stop()
    assert user is not None
    if not may_open_page(user, page):
        data.record(
            "portal.denied",
            actor=user.username,
            org_code=user.org_code,
            target=f"page:{page.value}",
            action="open",
            outcome="denied",
        )
        log.info("refused %s access to page %s", user.username, page.value)
        st.error(
            t("portal.denied", page=t(f"page.{page.value}")), icon=":material/block:"
        )
        st.stop()
    if st.session_state.get(_LAST_PAGE_KEY) != page.value:
        st.session_state[_LAST_PAGE_KEY] = page.value
        data.record(
            "portal.page",
            actor=user.username,
            org_code=user.org_code,
            target=f"page:{page.value}",
            action="open",
        )
    return user


def spec_or_stop() -> Any:
    """The spec, or an error message and the end of this run."""
    from citycloud.errors import CityCloudError

    try:
        return data.spec()
    except (CityCloudError, OSError) as error:
        st.error(t("portal.spec_error", message=str(error)))
        st.stop()
