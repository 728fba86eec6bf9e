"""Cross-object checks: each bad input gets an error a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.errors import SpecError
from citycloud.spec import load_spec
from tests.support.specs import CITY, tenant, write

ORGS = """\
organisations:
  - {code: "1504", name: 赤峰市, level: city,
     envelope: {instances: 10, cores: 40}}
  - {code: "150402", name: 红山区, level: county, parent: "1504",
     envelope: {instances: 4, cores: 16}}
  - {code: "150402001", name: 西屯街道, level: township, parent: "150402"}
"""

Q = "    quotas: {{instances: {i}, cores: {c}}}\n"


def problems(files: dict[str, str], tmp_path: Path) -> list[str]:
    root = write(tmp_path, {"city.yaml": CITY + ORGS, **files})
    with pytest.raises(SpecError) as caught:
        load_spec(root)
    return [str(p) for p in caught.value.problems]


def ok(files: dict[str, str], tmp_path: Path) -> int:
    """Load the spec (it must pass every check); the number of tenants."""
    return len(load_spec(write(tmp_path, {"city.yaml": CITY + ORGS, **files})).tenants)


def test_overlapping_tenant_cidrs(tmp_path: Path) -> None:
    found = problems(
        {
            "t.yaml": "tenants:\n"
            + tenant("a", "10.20.0.0/16", extra=Q.format(i=1, c=1))
            + tenant("b", "10.20.5.0/24", extra=Q.format(i=1, c=1))
        },
        tmp_path,
    )
    assert len(found) == 1
    assert (
        "tenants[1].network.cidr: 10.20.5.0/24 of 租户b overlaps 10.20.0.0/16 of 租户a"
        in found[0]
    )
    assert "t.yaml:" in found[0]


def test_tenant_cidr_overlapping_a_provider_network(tmp_path: Path) -> None:
    dc = CITY.replace(
        "  images:",
        "  provider_networks: [{name: ext, physical_network: p, cidr: 10.30.0.0/24}]\n  images:",
    )
    root = write(
        tmp_path,
        {
            "city.yaml": dc + ORGS,
            "t.yaml": "tenants:\n"
            + tenant("a", "10.30.0.0/25", extra=Q.format(i=1, c=1)),
        },
    )
    with pytest.raises(
        SpecError, match=r"overlaps 10\.30\.0\.0/24 of provider network ext"
    ):
        load_spec(root)


def test_duplicate_tenant_slugs_point_at_both(tmp_path: Path) -> None:
    found = problems(
        {
            "a.yaml": "tenants:\n" + tenant("gis", extra=Q.format(i=1, c=1)),
            "b.yaml": "tenants:\n"
            + tenant("gis", "10.20.2.0/24", extra=Q.format(i=1, c=1)),
        },
        tmp_path,
    )
    assert any(
        "tenants[1].slug: duplicate tenant slug 'gis' (first at" in p and "a.yaml" in p
        for p in found
    )


def test_duplicate_host_address_and_unknown_rack(tmp_path: Path) -> None:
    hosts = (
        "  hosts:\n"
        "    - {name: cn-01, rack: r01, role: compute, address: 10.0.0.1,\n"
        "       cpu: 8, ram_gb: 8, disk_gb: 8}\n"
        "    - {name: cn-02, rack: r09, role: compute, address: 10.0.0.1,\n"
        "       cpu: 8, ram_gb: 8, disk_gb: 8}\n"
    )
    root = write(tmp_path, {"city.yaml": CITY + hosts + ORGS})
    with pytest.raises(SpecError) as caught:
        load_spec(root)
    text = str(caught.value)
    assert "datacenter.hosts[1].address: duplicate host address '10.0.0.1'" in text
    assert "datacenter.hosts[1].rack: unknown rack 'r09'" in text


def test_tenant_owned_by_missing_organisation(tmp_path: Path) -> None:
    (found,) = problems(
        {"t.yaml": "tenants:\n" + tenant("a", owner="150499")}, tmp_path
    )
    assert "tenants[0].owner: organisation '150499' does not exist" in found


def test_quota_sum_over_a_county_envelope(tmp_path: Path) -> None:
    found = problems(
        {
            "t.yaml": "tenants:\n"
            + tenant("a", "10.20.1.0/24", owner="150402", extra=Q.format(i=3, c=8))
            + tenant("b", "10.20.2.0/24", owner="150402001", extra=Q.format(i=2, c=8))
        },
        tmp_path,
    )
    assert len(found) == 1
    assert "envelope.instances of 红山区 is 4 but its subtree claims 5" in found[0]
    assert "organisations[1]" in found[0] and "city.yaml:" in found[0]


def test_child_envelopes_count_against_the_parent(tmp_path: Path) -> None:
    found = problems(
        {
            "t.yaml": "tenants:\n"
            + tenant("a", "10.20.1.0/24", extra=Q.format(i=7, c=10))
        },
        tmp_path,
    )
    # 7 at the city itself + 4 reserved by 红山区's envelope > 10.
    assert any(
        "envelope.instances of 赤峰市 is 10 but its subtree claims 11" in p
        for p in found
    )


def test_a_limited_quota_must_be_set(tmp_path: Path) -> None:
    found = problems({"t.yaml": "tenants:\n" + tenant("a")}, tmp_path)
    assert any(
        "tenants[0].quotas.instances: must be set: 赤峰市 limits instances" in p
        for p in found
    )


def test_unlimited_under_an_envelope(tmp_path: Path) -> None:
    found = problems(
        {
            "t.yaml": "tenants:\n"
            + tenant("a", owner="150402", extra=Q.format(i=-1, c=1))
        },
        tmp_path,
    )
    assert any("is unlimited (-1)" in p for p in found)


def test_quotas_within_envelopes_pass(tmp_path: Path) -> None:
    assert (
        ok(
            {
                "t.yaml": "tenants:\n"
                + tenant("a", "10.20.1.0/24", owner="150402", extra=Q.format(i=2, c=8))
                + tenant(
                    "b", "10.20.2.0/24", owner="150402001", extra=Q.format(i=2, c=8)
                )
                + tenant("c", "10.20.3.0/24", extra=Q.format(i=6, c=24))
            },
            tmp_path,
        )
        == 3
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "！！！", "cannot become an identifier; add a slug", id="punctuation-only"
        ),
        pytest.param(
            "🙂🙂", "cannot become an identifier; add a slug", id="emoji-only"
        ),
    ],
)
def test_names_that_cannot_become_identifiers(
    tmp_path: Path, name: str, expected: str
) -> None:
    text = "tenants:\n" + tenant("x", extra=Q.format(i=1, c=1)).replace(
        "name: 租户x", f"name: {name}"
    ).replace("    slug: x\n", "")
    found = problems({"t.yaml": text}, tmp_path)
    assert any(f"tenants[0].name: {name!r} {expected}" in p for p in found)


def test_bad_explicit_slug(tmp_path: Path) -> None:
    found = problems(
        {"t.yaml": "tenants:\n" + tenant("Bad_Slug", extra=Q.format(i=1, c=1))},
        tmp_path,
    )
    assert any("tenants[0].slug: String should match pattern" in p for p in found)


@pytest.mark.parametrize(
    ("org", "expected"),
    [
        pytest.param(
            '  - {code: "150403", name: 元宝山区, level: county, parent: "150499"}\n',
            "parent '150499' of 元宝山区 (150403) does not exist",
            id="missing-parent",
        ),
        pytest.param(
            '  - {code: "150402002", name: 某村, level: village, parent: "150402"}\n',
            "某村 is village but its parent 红山区 is county",
            id="tier-skipped",
        ),
        pytest.param(
            '  - {code: "150403", name: 元宝/山区, level: county, parent: "1504"}\n',
            "contains '/'",
            id="slash-in-name",
        ),
        pytest.param(
            '  - {code: "150402009", name: 西屯街道, level: township, parent: "150402"}\n',
            "two organisations named '西屯街道' under the same parent",
            id="sibling-twins",
        ),
        pytest.param(
            '  - {code: "150402", name: 红山区, level: county, parent: "1504"}\n',
            "duplicate code 150402",
            id="duplicate-code",
        ),
    ],
)
def test_organisation_tree_errors(tmp_path: Path, org: str, expected: str) -> None:
    root = write(tmp_path, {"city.yaml": CITY + ORGS + org})
    with pytest.raises(SpecError) as caught:
        load_spec(root)
    assert expected in str(caught.value)
    assert "city.yaml:" in str(caught.value)


@pytest.mark.parametrize(
    "remotes",
    [
        pytest.param(["0.0.0.0/0"], id="world"),
        pytest.param(["0.0.0.0/1", "128.0.0.0/1"], id="world-in-two-halves"),
        pytest.param(["8.8.8.0/24"], id="public-range"),
    ],
)
def test_security_rule_open_to_the_internet_must_be_public(
    tmp_path: Path, remotes: list[str]
) -> None:
    rules = "".join(
        f"      - {{protocol: tcp, ports: '22', remote: {r}}}\n" for r in remotes
    )
    extra = Q.format(i=1, c=1) + "    security:\n" + rules
    found = problems({"t.yaml": "tenants:\n" + tenant("a", extra=extra)}, tmp_path)
    assert len(found) == len(remotes)
    assert all("which is not a private range, needs public: true" in p for p in found)
    assert "tenants[0].security[0].remote: ingress from" in found[0]


def test_workload_references_are_checked(tmp_path: Path) -> None:
    extra = Q.format(i=1, c=1) + (
        "    apps:\n      - name: 应用\n        slug: app\n        workloads:\n"
        "          - {name: web, flavor: huge, image: debian-12}\n"
        "          - {name: db, image: nope}\n"
        "        access: {roles: [mayor]}\n"
    )
    found = problems({"t.yaml": "tenants:\n" + tenant("a", extra=extra)}, tmp_path)
    text = "\n".join(found)
    assert "workloads[0].flavor: unknown flavor 'huge'" in text
    assert "workloads[1].flavor: a vm workload needs a flavor" in text
    assert "workloads[1].image: unknown image 'nope'" in text
    assert "access.roles[0]: unknown platform role 'mayor'" in text


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        {
            "t.yaml": "tenants:\n"
            + tenant("a", owner="999", extra=Q.format(i=1, c=1))
            + tenant("b", "10.20.1.0/25", extra=Q.format(i=1, c=1))
        },
        tmp_path,
    )
    assert len(found) == 2
