"""`citycloud plan/apply --kubeconfig` against the fake API server."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from citycloud.cli import main
from tests.fakes.kubernetes.server import FakeKubeApiServer

pytestmark = pytest.mark.integration


def _args(tmp_path: Path, fake: FakeKubeApiServer, spec_dir: Path) -> list[str]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(fake.kubeconfig("chifeng-test")), encoding="utf-8"
    )
    return [
        str(spec_dir),
        "--layer",
        "kubernetes",
        "--kubeconfig",
        str(kubeconfig),
        "--kube-context",
        "chifeng-test",
        "--state",
        f"sqlite:///{tmp_path}/state.db",
        "--out",
        str(tmp_path / "artifacts"),
    ]


def test_plan_then_apply_then_nothing_left(
    tmp_path: Path, fake: FakeKubeApiServer, example_spec_dir: Path
) -> None:
    runner = CliRunner()
    args = _args(tmp_path, fake, example_spec_dir)

    planned = runner.invoke(main, ["--lang", "en", "plan", *args])
    assert planned.exit_code == 0, planned.output
    assert "+ namespace portal-1504" in planned.output
    assert fake.writes() == []

    applied = runner.invoke(main, ["--lang", "en", "apply", *args])
    assert applied.exit_code == 0, applied.output
    assert "Applied: 22 created" in applied.output

    fake.reset_log()
    again = runner.invoke(main, ["--lang", "en", "apply", *args])
    assert again.exit_code == 0, again.output
    assert "Nothing to change" in again.output
    assert fake.writes() == []


def test_plan_shows_live_drift_and_apply_reports_the_conflict(
    tmp_path: Path, fake: FakeKubeApiServer, example_spec_dir: Path
) -> None:
    runner = CliRunner()
    args = _args(tmp_path, fake, example_spec_dir)
    assert runner.invoke(main, ["apply", *args]).exit_code == 0
    fake.store.patch(
        fake_rt("resourcequotas"),
        "portal-1504",
        "quota",
        {"spec": {"hard": {"requests.memory": "64Gi"}}},
        "kubectl-edit",
    )

    planned = runner.invoke(main, ["--lang", "en", "plan", "--exit-code", *args])
    assert planned.exit_code == 2
    assert "~ resourcequota portal-1504/quota" in planned.output
    assert "spec.hard.requests.memory" in planned.output

    refused = runner.invoke(main, ["--lang", "en", "apply", *args])
    assert refused.exit_code == 4
    assert "kubectl-edit" in refused.output
    assert "--force-conflicts" in refused.output

    forced = runner.invoke(main, ["--lang", "en", "apply", "--force-conflicts", *args])
    assert forced.exit_code == 0, forced.output
    assert runner.invoke(main, ["plan", "--exit-code", *args]).exit_code == 0


def fake_rt(plural: str):  # type: ignore[no-untyped-def]
    from tests.fakes.kubernetes.state import RESOURCE_TYPES

    return RESOURCE_TYPES[plural]
