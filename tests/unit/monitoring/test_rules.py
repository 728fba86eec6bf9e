"""Monitoring as code: the rendered files are valid for Prometheus's and
Alertmanager's own tools, the rules pass their unit tests, and monitoring/
matches what the renderer produces from the example spec."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from citycloud.apply import make_workspace, write_artifacts
from citycloud.spec import load_spec
from citycloud.store import StateStore

ROOT = Path(__file__).resolve().parents[3]
MONITORING = ROOT / "monitoring"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/setup.d/40-prometheus.sh")
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, example_spec_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("artifacts")
    spec = load_spec(example_spec_dir)
    ws = make_workspace(
        spec, StateStore(f"sqlite:///{out}/s.db"), layers=["monitoring", "dashboards"]
    )
    import citycloud.cli_grafana  # noqa: F401  (registers the dashboards renderer)

    write_artifacts(ws, out)
    return out / "monitoring"


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_prometheus_accepts_the_config_and_every_rule_file(rendered: Path) -> None:
    out = run(tool("promtool"), "check", "config", "prometheus.yml", cwd=rendered)
    assert "tenant-dispatch.yml" in out
    run(
        tool("promtool"),
        "check",
        "rules",
        *sorted(str(p) for p in (rendered / "rules").glob("*.yml")),
        cwd=rendered,
    )


def test_alertmanager_accepts_the_routes(rendered: Path) -> None:
    out = run(tool("amtool"), "check-config", "alertmanager.yml", cwd=rendered)
    assert "receivers" in out


def test_alerts_route_by_tier_then_tenant(rendered: Path) -> None:
    out = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        "--config.file=alertmanager.yml",
        "tier=county",
        "tenant=hongshan-grid",
        cwd=rendered,
    )
    assert out.strip() == "tenant-hongshan-grid"
    out = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        "--config.file=alertmanager.yml",
        "alertname=HostDown",
        cwd=rendered,
    )
    assert out.strip() == "city-ops"


def test_rule_unit_tests_pass() -> None:
    tests = sorted(str(p) for p in (MONITORING / "tests").glob("*.test.yml"))
    assert len(tests) >= 3
    run(tool("promtool"), "test", "rules", *tests, cwd=MONITORING)


def test_monitoring_folder_is_current(rendered: Path) -> None:
    for path in sorted(rendered.rglob("*")):
        if path.is_file():
            kept = MONITORING / path.relative_to(rendered)
            assert kept.exists(), f"{kept} missing: run scripts/render-monitoring"
            assert kept.read_text(encoding="utf-8") == path.read_text(
                encoding="utf-8"
            ), f"{kept} is stale: run scripts/render-monitoring"


def test_every_rule_file_is_loaded_by_a_unit_test() -> None:
    loaded = set()
    for test in (MONITORING / "tests").glob("*.test.yml"):
        for line in test.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("- ../rules/"):
                loaded.add(line.strip()[len("- ../") :])
    rules = {f"rules/{p.name}" for p in (MONITORING / "rules").glob("*.yml")}
    assert rules <= loaded, f"no promtool test loads {sorted(rules - loaded)}"
