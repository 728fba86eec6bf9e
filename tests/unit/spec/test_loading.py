"""Loading: every problem names its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from citycloud.errors import SpecError
from citycloud.spec import load_spec
from tests.support.specs import CITY, tenant, write


def problems(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def test_a_spec_spans_several_files_of_a_folder(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "city.yaml": CITY,
            "tenants/a.yaml": "tenants:\n" + tenant("gis"),
            "tenants/b.yaml": "tenants:\n" + tenant("dispatch", "10.20.2.0/24"),
        },
    )
    spec = load_spec(root)
    assert [t.slug for t in spec.tenants] == ["gis", "dispatch"]
    assert spec.root.name == "赤峰市"


def test_unknown_field_names_file_line_and_field(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "city.yaml": CITY,
            "t.yaml": "tenants:\n"
            + tenant("gis")
            + "    netwrok: {cidr: 10.0.0.0/24}\n",
        },
    )
    (found,) = problems(root)
    assert found.startswith(f"{root / 't.yaml'}:7: tenants[0].netwrok: unknown field")


def test_line_numbers_follow_items_merged_from_second_file(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.yaml": CITY + "tenants:\n" + tenant("gis"),
            "b.yaml": "tenants:\n" + tenant("bad", "8.8.8.0/24"),
        },
    )
    (found,) = problems(root)
    assert f"{root / 'b.yaml'}:6: tenants[1].network.cidr" in found
    assert "private" in found


def test_invalid_yaml_reports_its_line(tmp_path: Path) -> None:
    root = write(tmp_path, {"city.yaml": CITY + "tenants: [\n  - {a: 1\n"})
    (found,) = problems(root)
    assert "city.yaml" in found and "not valid YAML" in found


def test_a_key_set_in_two_files_is_refused(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"a.yaml": CITY, "b.yaml": "city: {name: x, code: '1505', slug: x}\n"}
    )
    assert any("city: set in two files" in p for p in problems(root))


def test_missing_required_field(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"city.yaml": "city: {name: 赤峰市, code: '1504', slug: chifeng}\n"}
    )
    assert any("datacenter: required field is missing" in p for p in problems(root))


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    assert "no .yaml files" in problems(tmp_path)[0]
    assert "no such file" in problems(tmp_path / "nope")[0]


def test_divisions_csv_errors_name_the_csv_line(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text(
        "code,name,parent_code,level\n1504,赤峰市,15,city\n150402,红山区,1504,province\n",
        encoding="utf-8",
    )
    root = write(tmp_path, {"spec/city.yaml": CITY})
    (found,) = problems(root / "spec", divisions=[csv])
    assert found.startswith(f"{csv}:3: level: unknown level 'province'")


def test_divisions_csv_missing_column(tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("code,name,level\n1504,赤峰市,city\n", encoding="utf-8")
    root = write(tmp_path, {"spec/city.yaml": CITY})
    assert (
        "missing column(s): parent_code" in problems(root / "spec", divisions=[csv])[0]
    )


def test_divisions_imported_from_the_spec_relative_to_its_file(tmp_path: Path) -> None:
    csv = tmp_path / "spec" / "orgs.csv"
    root = write(tmp_path, {"spec/city.yaml": CITY + "divisions: [{csv: orgs.csv}]\n"})
    csv.write_text(
        "\ufeffcode,name,parent_code,level\n1504,赤峰市,15,city\n150402,红山区,1504,county\n",
        encoding="utf-8",
    )
    spec = load_spec(root / "spec")
    assert spec.group_path("150402") == "/赤峰市/红山区"


def test_the_real_division_list_gives_210_organisations(
    example_spec_dir: Path, divisions_csv: Path
) -> None:
    spec = load_spec(example_spec_dir, divisions=[divisions_csv])
    assert len(spec.orgs) == 210
    levels = [o.level.value for o in spec.orgs.values()]
    assert levels.count("county") == 12
    assert levels.count("township") == 197
    assert spec.group_path("150402001") == "/赤峰市/红山区/西屯街道"
    # Inline organisations keep their envelopes over the CSV's rows.
    assert spec.orgs["150402"].envelope is not None


def test_the_example_spec_has_the_citys_systems(example_spec_dir: Path) -> None:
    spec = load_spec(example_spec_dir)
    slugs = {t.slug for t in spec.tenants}
    assert {"onemap", "dispatch", "grassroots", "risk", "bigdata", "portal"} <= slugs
    counties = [o for o in spec.orgs.values() if o.level.value == "county"]
    assert len(counties) == 12
    assert sum(o.name.endswith("旗") for o in counties) == 7
    assert sum(o.name.endswith("区") for o in counties) == 3
    assert sum(o.name.endswith("县") for o in counties) == 2


def test_a_key_written_twice_is_an_error(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "city.yaml": CITY,
            "t.yaml": "tenants:\n" + tenant("gis") + "    slug: other\n",
        },
    )
    (found,) = problems(root)
    assert found.startswith(
        f"{root / 't.yaml'}:7: tenants[0].slug: key repeated (first at line 3)"
    )


def test_hidden_files_and_folders_are_not_read(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "city.yaml": CITY,
            "tenants/a.yaml": "tenants:\n" + tenant("gis"),
            "tenants/.a.yaml.swp.yaml": "tenants:\n" + tenant("gis"),
            "..data/tenants.yaml": "tenants:\n" + tenant("gis"),
        },
    )
    assert [t.slug for t in load_spec(root).tenants] == ["gis"]
