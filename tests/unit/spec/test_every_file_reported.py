"""One run reports what is wrong in every file: a YAML syntax error in one file
does not hide the field errors of the others, and the output says which checks
could not run because of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from citycloud.cli import main
from citycloud.errors import SpecError
from citycloud.spec import load_spec
from tests.support.specs import CITY, tenant, write

# The flow mapping opened on line 2 is found unclosed on line 3.
BROKEN = "tenants:\n  - {name: 租户x, slug: [x\n    owner: '1504'\n"
# After "tenants:", tenant() takes lines 2-6; the misspelt key is line 7.
MISSPELT = "tenants:\n" + tenant("gis") + "    netwrok: {cidr: 10.0.0.0/24}\n"


def caught(root: Path) -> SpecError:
    with pytest.raises(SpecError) as exc:
        load_spec(root)
    return exc.value


def test_a_broken_file_and_a_schema_error_elsewhere_are_both_reported(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        {"city.yaml": CITY, "tenants/a.yaml": BROKEN, "tenants/b.yaml": MISSPELT},
    )
    error = caught(root)
    found = [str(p) for p in error.problems]
    broken, misspelt = root / "tenants/a.yaml", root / "tenants/b.yaml"
    assert len(found) == 2, found
    assert found[0].startswith(f"{broken}:3: (top): not valid YAML")
    assert found[1].startswith(
        f"{misspelt}:7: tenants[0].netwrok: unknown field (check its spelling"
    )
    assert error.unread == (str(broken),)
    assert f"not run: {broken} could not be read in full" in str(error)


def test_every_broken_file_is_reported(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.yaml": CITY,
            "b.yaml": "tenants: [\n",
            "c.yaml": "roles:\n\t- x\n",
            "d.yaml": "tenants:\n" + tenant("gis"),
        },
    )
    error = caught(root)
    assert [(p.file, p.line) for p in error.problems] == [
        (str(root / "b.yaml"), 2),
        (str(root / "c.yaml"), 2),
    ]
    assert "a tab cannot indent YAML" in error.problems[1].message
    assert error.unread == (str(root / "b.yaml"), str(root / "c.yaml"))


def test_what_the_broken_file_may_hold_is_not_reported_missing(
    tmp_path: Path,
) -> None:
    # The city and the datacenter are in the broken file: the others must not
    # be blamed for lacking them, nor their tenants' references be checked
    # against an organisation tree or data center that was never read.
    root = write(
        tmp_path,
        {
            "city.yaml": CITY + "oops: [\n",
            "t.yaml": "tenants:\n" + tenant("gis", owner="9999"),
        },
    )
    error = caught(root)
    assert len(error.problems) == 1, [str(p) for p in error.problems]
    assert "not valid YAML" in error.problems[0].message
    assert error.unread == (str(root / "city.yaml"),)


def test_a_spec_that_reads_in_full_runs_every_check_as_before(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path, {"city.yaml": CITY, "t.yaml": "tenants:\n" + tenant(owner="9999")}
    )
    error = caught(root)
    assert error.unread == ()
    assert any("'9999' does not exist" in str(p) for p in error.problems)
    assert "not run" not in str(error)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_plan_prints_both_files_and_says_what_was_not_checked(tmp_path: Path) -> None:
    root = write(
        tmp_path / "spec",
        {"city.yaml": CITY, "tenants/a.yaml": BROKEN, "tenants/b.yaml": MISSPELT},
    )
    state = f"sqlite:///{tmp_path}/s.db"
    code, stdout, stderr = run("plan", str(root), "--state", state)
    assert code == 1 and stdout == ""
    assert "规格文件有 2 处错误" in stderr
    assert f"{root / 'tenants/a.yaml'}:3: (top): not valid YAML" in stderr
    assert f"{root / 'tenants/b.yaml'}:7: tenants[0].netwrok: unknown field" in stderr
    assert f"以下文件未能完整读取：{root / 'tenants/a.yaml'}" in stderr
    assert "需要完整规格的检查" in stderr and "未运行" in stderr

    code, _, stderr = run("--lang", "en", "plan", str(root), "--state", state)
    assert code == 1
    assert "The spec has 2 problem(s)" in stderr
    assert f"could not be read in full: {root / 'tenants/a.yaml'}" in stderr
    assert "checks that need the whole spec" in stderr and "were not run" in stderr


def test_plan_of_a_spec_that_reads_in_full_has_no_such_note(tmp_path: Path) -> None:
    root = write(tmp_path / "spec", {"city.yaml": CITY, "t.yaml": MISSPELT})
    code, _, stderr = run("plan", str(root), "--state", f"sqlite:///{tmp_path}/s.db")
    assert code == 1 and "规格文件有 1 处错误" in stderr
    assert "未能完整读取" not in stderr


def test_field_errors_say_the_whole_spec_checks_did_not_run(tmp_path: Path) -> None:
    # Every file reads, but a field is misspelt: the tenant's unknown owner is
    # only found by the checks across the spec, which wait for the fields.
    root = write(
        tmp_path / "spec",
        {"city.yaml": CITY, "t.yaml": MISSPELT.replace('"1504"', '"9999"')},
    )
    error = caught(root)
    assert error.unread == () and error.checks_skipped
    assert "fix these fields first" in str(error)

    state = f"sqlite:///{tmp_path}/s.db"
    code, _, stderr = run("plan", str(root), "--state", state)
    assert code == 1 and "netwrok: unknown field" in stderr
    assert "逐字段检查" in stderr and "修正后才会运行" in stderr
    assert "未能完整读取" not in stderr
    code, _, stderr = run("--lang", "en", "validate", str(root))
    assert code == 1 and "run once these fields are fixed" in stderr
