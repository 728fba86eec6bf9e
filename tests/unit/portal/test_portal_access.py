"""The pure access rules: pages, apps, requests and audit scope per user."""

from __future__ import annotations

import shutil

import pytest

from citycloud.access import (
    OrgTree,
    Page,
    Role,
    approval_route,
    audit_scope,
    may_approve,
    may_see_request,
    requestable_orgs,
    user_from_claims,
    visible_apps,
    visible_pages,
    visible_tenants,
)
from citycloud.spec import load_spec
from tests.unit.portal.portal_users import SYNTHETIC_VILLAGE, USERS


@pytest.fixture(scope="module")
def spec(example_spec_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spec") / "chifeng"
    shutil.copytree(example_spec_dir, folder)
    (folder / "zz-synthetic-village.yaml").write_text(
        SYNTHETIC_VILLAGE, encoding="utf-8"
    )
    return load_spec(folder)


@pytest.fixture(scope="module")
def tree(spec):
    return OrgTree.of(spec.orgs.values())


def user(name: str):
    return user_from_claims(USERS[name])


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        pytest.param(
            "city-cloud-admin",
            ["app_centre", "onboarding", "operations", "monitoring"],
            id="cloud-admin",
        ),
        pytest.param("city-ops", ["app_centre", "operations", "monitoring"], id="ops"),
        pytest.param("city-auditor", ["app_centre", "audit"], id="auditor"),
        pytest.param(
            "county-admin",
            ["app_centre", "onboarding", "monitoring"],
            id="tenant-admin",
        ),
        pytest.param("township-staff", ["app_centre"], id="staff"),
    ],
)
def test_navigation_follows_roles(name, pages):
    assert [p.value for p in visible_pages(user(name))] == pages


def test_keycloak_role_shapes_are_both_read():
    flat = user_from_claims({"preferred_username": "a", "roles": ["ops"]})
    nested = user_from_claims(
        {
            "preferred_username": "a",
            "realm_access": {
                "roles": ["ops", "offline_access", "default-roles-chifeng"]
            },
        }
    )
    assert flat.roles == nested.roles == frozenset({Role.OPS})


def test_unknown_tier_and_missing_org_see_no_apps(spec, tree):
    nobody = user_from_claims(
        {"preferred_username": "x", "roles": ["staff"], "tier": "galaxy"}
    )
    assert nobody.tier is None
    assert visible_apps(nobody, spec.tenants, tree) == []


@pytest.mark.parametrize(
    ("name", "sees", "hidden"),
    [
        pytest.param(
            "county-admin", "红山区网格员 App", "隐患排查", id="hongshan-county"
        ),
        pytest.param(
            "township-staff", "隐患排查", "红山区网格员 App", id="songshan-township"
        ),
        pytest.param(
            "village-staff", "红山区网格员 App", "隐患排查", id="hongshan-village"
        ),
    ],
)
def test_owner_scoped_apps_stay_in_their_county(spec, tree, name, sees, hidden):
    names = {app.name for _, app in visible_apps(user(name), spec.tenants, tree)}
    assert sees in names
    assert hidden not in names


def test_department_restricted_app_needs_that_department(spec, tree):
    # 数据共享交换 is for the city data bureau's own staff only.
    outsider = user("county-admin")
    names = {app.name for _, app in visible_apps(outsider, spec.tenants, tree)}
    restricted = [a for t in spec.tenants for a in t.apps if a.access.departments]
    assert restricted
    assert not names & {a.name for a in restricted}


def test_tenant_admin_sees_only_tenants_of_their_subtree(spec, tree):
    slugs = {t.slug for t in visible_tenants(user("county-admin"), spec.tenants, tree)}
    assert slugs == {"hongshan-grid"}
    everything = visible_tenants(user("city-ops"), spec.tenants, tree)
    assert len(everything) == len(spec.tenants)


def test_requests_route_upwards_and_nobody_approves_their_own(tree):
    assert approval_route("150402001", tree) == ["150402001", "150402", "1504"]
    county = user("county-admin")
    assert may_approve(county, "150402001", "someone.else", tree)
    assert not may_approve(county, "150402001", county.username, tree)
    assert not may_approve(county, "150404100", "someone.else", tree)  # other county
    assert not may_approve(user("township-staff"), "150404100", "someone.else", tree)
    assert may_approve(user("city-cloud-admin"), "150404100", "someone.else", tree)


def test_requests_are_seen_by_requester_and_the_owning_subtree(tree):
    assert may_see_request(user("county-admin"), "150402", "x", tree)
    assert not may_see_request(user("county-admin"), "150404", "x", tree)
    assert not may_see_request(user("township-staff"), "150404100", "x", tree)
    assert may_see_request(user("township-staff"), "150404100", "qian.mujia", tree)


def test_only_own_subtree_is_requestable(tree):
    orgs = requestable_orgs(user("county-admin"), tree)
    assert "150402" in orgs and "150402001" in orgs
    assert "150404" not in orgs
    assert requestable_orgs(user("township-staff"), tree) == []


def test_audit_scope_city_sees_all_county_sees_its_subtree(tree):
    assert audit_scope(user("city-auditor"), tree) is None
    county = audit_scope(user("county-auditor"), tree)
    assert county is not None and "150404100" in county and "150402" not in county
    assert audit_scope(user("city-cloud-admin"), tree) == []


def test_every_page_names_the_roles_that_open_it():
    from citycloud.access import PAGE_ROLES

    assert set(PAGE_ROLES) == set(Page)
    assert all(PAGE_ROLES[page] for page in Page)
