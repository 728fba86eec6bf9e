"""Namespace names on the real Chifeng tree: valid, short enough, unique, stable."""

from __future__ import annotations

import re

import pytest

from citycloud.desired import build_desired
from citycloud.desired.kubernetes import namespace_name
from tests.unit.kubernetes.k8s_helpers import SpecFactory, tenant

RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LONG_SLUG = "a" * 12 + "-very-long-tenant-slug-x" + "y" * 3  # 40 characters


def _one_tenant_per_org(  # type: ignore[no-untyped-def]
    make_spec: SpecFactory, slug_of=lambda i: f"app{i}"
):
    base = make_spec()
    codes = sorted(base.orgs)
    return make_spec([tenant(slug_of(i), code, i) for i, code in enumerate(codes)])


def test_every_chifeng_org_gives_a_valid_unique_namespace(
    make_spec: SpecFactory,
) -> None:
    spec = _one_tenant_per_org(make_spec)
    names = [namespace_name(spec, t) for t in spec.tenants]

    assert len(spec.tenants) == 210
    bad = [n for n in names if len(n) > 63 or not RFC1123_LABEL.match(n)]
    assert bad == []
    assert len(set(names)) == len(names)


def test_long_tenant_slugs_on_the_deepest_paths_still_fit(
    make_spec: SpecFactory,
) -> None:
    spec = _one_tenant_per_org(make_spec, slug_of=lambda i: f"{LONG_SLUG[:36]}{i:04d}")
    names = [namespace_name(spec, t) for t in spec.tenants]

    assert all(len(n) <= 63 and RFC1123_LABEL.match(n) for n in names)
    assert len(set(names)) == 210
    # Names that had to be cut end in a hash of the full name.
    cut = [n for n in names if not n.endswith(tuple(t.owner for t in spec.tenants))]
    assert cut, "the long slugs should force some names to be cut"
    assert all(re.search(r"-[0-9a-f]{8}$", n) for n in cut)


def test_names_read_as_path_tenant_and_code(make_spec: SpecFactory) -> None:
    spec = make_spec(
        [tenant("grid", "150402001", 1), tenant("portal", "1504", 2)],
    )
    by_slug = {t.slug: namespace_name(spec, t) for t in spec.tenants}

    # 红山区 / 西屯街道 in pinyin, then the tenant, then the owner's code.
    assert by_slug["grid"] == "hongshanqu-xitunjiedao-grid-150402001"
    assert by_slug["portal"] == "portal-1504"


def test_adding_tenants_renames_no_existing_namespace(make_spec: SpecFactory) -> None:
    first = make_spec([tenant("grid", "150402001", 1)])
    later = make_spec(
        [
            tenant("grid", "150402001", 1),
            *(tenant(f"t{i}", "150402", i + 2) for i in range(20)),
        ]
    )

    assert namespace_name(later, later.tenant("grid")) == namespace_name(
        first, first.tenant("grid")
    )


def test_same_slug_patterns_in_neighbouring_orgs_do_not_collide(
    make_spec: SpecFactory,
) -> None:
    # "a-1" owned by 150402 and "a" owned by 1504... would read alike without
    # the owner's code at the end; with it, the names cannot coincide.
    spec = make_spec(
        [
            tenant("hongshanqu-x", "1504", 1),
            tenant("x", "150402", 2),
        ]
    )
    names = {namespace_name(spec, t) for t in spec.tenants}
    assert names == {"hongshanqu-x-1504", "hongshanqu-x-150402"}


SYNTHETIC_PARENT = (
    "150423"  # 巴林右旗, whose development-zone township is the longest path
)


@pytest.mark.parametrize(
    "suffixes",
    [("甲", "乙"), ("第一村民委员会", "第二村民委员会")],
    ids=["one-character-apart", "long-tails-apart"],
)
def test_synthetic_long_village_paths_get_distinct_cut_names(
    make_spec: SpecFactory, suffixes: tuple[str, str]
) -> None:
    base = make_spec()
    township = max(
        (c for c in base.orgs if base.orgs[c].parent == SYNTHETIC_PARENT),
        key=lambda c: len(base.orgs[c].name),
    )
    stem = "内蒙古自治区赤峰市巴林右旗冶金化工开发区管理委员会产业园示范嘎查"
    villages = [
        {
            "code": f"{township}{200 + i}",
            "name": f"{stem}{suffix}",
            "level": "village",
            "parent": township,
            "synthetic": True,  # synthetic: the reference data stops at townships
        }
        for i, suffix in enumerate(suffixes)
    ]
    spec = make_spec(
        [
            tenant("grid", villages[0]["code"], 1),
            tenant("grid2", villages[1]["code"], 2),
        ],
        organisations=villages,
    )
    names = [namespace_name(spec, t) for t in spec.tenants]

    assert all(len(n) <= 63 and RFC1123_LABEL.match(n) for n in names)
    assert names[0] != names[1]
    assert all(re.search(r"-[0-9a-f]{8}$", n) for n in names)
    # Stable: the same spec gives the same names every time.
    assert names == [namespace_name(spec, t) for t in spec.tenants]


def test_namespaces_are_unique_identities_in_the_desired_state(
    make_spec: SpecFactory,
) -> None:
    spec = _one_tenant_per_org(make_spec)
    desired = build_desired(spec, ["kubernetes"])

    assert len(desired.kind("kubernetes", "namespace")) == 210
