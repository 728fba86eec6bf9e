"""Identifiers derived from Chinese names: stable, unique, DNS-safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.spec import load_spec
from citycloud.spec.naming import (
    DNS_LABEL,
    fit_label,
    org_slug,
    slug_for,
    transliterate,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("红山区", "hongshanqu", id="district"),
        pytest.param("阿鲁科尔沁旗", "alukeerqinqi", id="banner"),
        pytest.param("城市一张图 GIS", "chengshiyizhangtu-gis", id="mixed"),
        pytest.param("Ｆｕｌｌwidth ２", "fullwidth-2", id="fullwidth-folded"),
    ],
)
def test_transliteration_is_readable(name: str, expected: str) -> None:
    assert transliterate(name) == expected


def test_slugs_are_stable_and_keep_valid_names() -> None:
    assert slug_for("onemap") == "onemap"
    assert slug_for("统一指挥调度") == slug_for("统一指挥调度")
    assert slug_for("统一指挥调度").startswith("tongyizhihuidiaodu-")  # type: ignore[union-attr]


def test_homophones_get_different_slugs() -> None:
    # 市场 (market) and 试场 (exam hall) read the same in pinyin.
    a, b = slug_for("市场"), slug_for("试场")
    assert a != b
    assert a is not None and b is not None
    assert a.split("-")[0] == b.split("-")[0] == "shichang"


def test_long_names_fit_and_stay_unique() -> None:
    long_a = "赤峰市" * 30 + "甲"
    long_b = "赤峰市" * 30 + "乙"
    a, b = slug_for(long_a), slug_for(long_b)
    assert a and b and a != b and len(a) <= 40 and len(b) <= 40
    assert fit_label("x" * 80) != fit_label("x" * 81)
    assert len(fit_label("x" * 80)) == 63


def test_every_real_organisation_maps_to_a_unique_dns_label(
    example_spec_dir: Path, divisions_csv: Path
) -> None:
    spec = load_spec(example_spec_dir, divisions=[divisions_csv])
    slugs = [org.slug for org in spec.orgs.values()]
    assert len(set(slugs)) == len(slugs) == 210
    for slug in slugs:
        assert slug is not None and DNS_LABEL.match(slug) and len(slug) <= 63
    assert spec.orgs["150402001"].slug == "xitunjiedao-150402001"
    assert org_slug("红山区", "150402") == "hongshanqu-150402"
