"""`citycloud plan` and `apply` on the embedded default, as a person runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from citycloud.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_plan_apply_then_nothing_changes(
    example_spec_dir: Path, divisions_csv: Path, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    out = str(tmp_path / "out")
    spec = [
        str(example_spec_dir),
        "--divisions",
        str(divisions_csv),
        "--state",
        state,
        "--out",
        out,
    ]

    code, stdout, _ = run("plan", *spec, "--exit-code")
    assert code == 2  # changes pending
    assert (
        "变更计划" in stdout
        and "OpenStack 租户" in stdout
        and "[租户 dispatch]" in stdout
    )
    assert "此层尚无实际状态可比" in stdout

    code, stdout, _ = run("apply", *spec)
    assert code == 0 and "已应用" in stdout

    code, stdout, _ = run("plan", *spec, "--exit-code")
    assert code == 0 and "无需变更" in stdout

    code, stdout, _ = run("apply", *spec)
    assert code == 0 and "无需变更，未执行任何操作" in stdout

    code, stdout, _ = run("history", "--state", state)
    assert stdout.count("succeeded") == 1

    assert (tmp_path / "out" / "hosts" / "inventory.yml").exists()


def test_plan_json_and_english(example_spec_dir: Path, tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    code, stdout, _ = run(
        "--lang",
        "en",
        "plan",
        str(example_spec_dir),
        "--state",
        state,
        "--out",
        str(tmp_path / "o"),
        "--json",
        "--layer",
        "openstack",
    )
    assert code == 0
    data = json.loads(stdout)
    assert set(data["layers"]) == {"openstack"}
    assert data["summary"]["create"] > 0


def test_changing_a_quota_is_an_update(example_spec_dir: Path, tmp_path: Path) -> None:
    spec_dir = tmp_path / "spec"
    shutil.copytree(example_spec_dir, spec_dir)
    args = ["--state", f"sqlite:///{tmp_path}/s.db", "--out", str(tmp_path / "o")]
    assert run("apply", str(spec_dir), *args)[0] == 0
    dispatch = spec_dir / "tenants" / "dispatch.yaml"
    dispatch.write_text(
        dispatch.read_text(encoding="utf-8").replace("cores: 96", "cores: 100"),
        encoding="utf-8",
    )
    _, stdout, _ = run("--lang", "en", "plan", str(spec_dir), *args, "--json")
    data = json.loads(stdout)
    changes = [(c["action"], c["kind"], c["key"]) for c in data["changes"]]
    assert ("update", "quota", "dispatch") in changes
    assert all(action == "update" for action, _, _ in changes)


def test_removing_a_tenant_needs_allow_delete(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    spec_dir = tmp_path / "spec"
    shutil.copytree(example_spec_dir, spec_dir)
    args = ["--state", f"sqlite:///{tmp_path}/s.db", "--out", str(tmp_path / "o")]
    assert run("apply", str(spec_dir), *args)[0] == 0
    (spec_dir / "tenants" / "bigdata.yaml").unlink()
    code, _, stderr = run("apply", str(spec_dir), *args)
    assert code == 3 and "--allow-delete" in stderr
    # Nothing was recorded: the plan still shows the deletion.
    code, stdout, _ = run("--lang", "en", "plan", str(spec_dir), *args, "--json")
    assert any(
        c["action"] == "delete" and c["key"] == "bigdata"
        for c in json.loads(stdout)["changes"]
    )
    code, _, _ = run("apply", str(spec_dir), *args, "--allow-delete")
    assert code == 0
    code, stdout, _ = run("plan", str(spec_dir), *args, "--exit-code")
    assert code == 0


def test_a_bad_spec_exits_1_with_file_line_field(
    tmp_path: Path, example_spec_dir: Path
) -> None:
    spec_dir = tmp_path / "spec"
    shutil.copytree(example_spec_dir, spec_dir)
    onemap = spec_dir / "tenants" / "onemap.yaml"
    onemap.write_text(
        onemap.read_text(encoding="utf-8").replace("10.20.1.0/24", "10.20.2.0/25"),
        encoding="utf-8",
    )
    code, stdout, stderr = run(
        "plan", str(spec_dir), "--state", f"sqlite:///{tmp_path}/s.db"
    )
    assert code == 1
    assert "规格文件有 1 处错误" in stderr
    assert (
        "onemap.yaml:7: tenants[" in stderr
        and "overlaps 10.20.2.0/24 of 统一指挥调度" in stderr
    )
    assert stdout == ""


def test_validate(example_spec_dir: Path, divisions_csv: Path) -> None:
    code, stdout, _ = run(
        "--lang",
        "en",
        "validate",
        str(example_spec_dir),
        "--divisions",
        str(divisions_csv),
    )
    assert code == 0 and "210 organisations" in stdout


def test_a_renamed_tenant_gets_a_hint_and_the_plan_warns(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    spec_dir = tmp_path / "spec"
    shutil.copytree(example_spec_dir, spec_dir)
    args = ["--state", f"sqlite:///{tmp_path}/s.db", "--out", str(tmp_path / "o")]
    assert run("apply", str(spec_dir), *args)[0] == 0
    dispatch = spec_dir / "tenants" / "dispatch.yaml"
    dispatch.write_text(
        dispatch.read_text(encoding="utf-8").replace(
            "slug: dispatch", "slug: command-dispatch"
        ),
        encoding="utf-8",
    )
    _, _, stderr = run("plan", str(spec_dir), *args)
    assert "按此计划执行 apply 将被拒绝" in stderr
    code, _, stderr = run("apply", str(spec_dir), *args)
    assert code == 3
    assert "若是改了租户名称（dispatch → command-dispatch）" in stderr
