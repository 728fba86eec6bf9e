"""scripts/prometheus: start, report and stop Debian's binaries on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str, run_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CITYCLOUD_RUN_DIR=str(run_dir))
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("kind", "config", "probe"),
    [
        ("node-exporter", None, "/metrics"),
        (
            "alertmanager",
            "route: {receiver: none}\nreceivers: [{name: none}]\n",
            "/-/ready",
        ),
    ],
    ids=["node-exporter", "alertmanager"],
)
def test_up_status_down(
    kind: str, config: str | None, probe: str, tmp_path: Path
) -> None:
    port = free_port()
    args = ["--kind", kind, "--port", str(port)]
    if config is not None:
        (tmp_path / "config.yml").write_text(config, encoding="utf-8")
        args += ["--config", str(tmp_path / "config.yml")]

    started = run("up", "t", *args, run_dir=tmp_path)
    try:
        assert started.returncode == 0, started.stderr
        assert run("status", "t", "--kind", kind, run_dir=tmp_path).returncode == 0
        assert requests.get(f"http://127.0.0.1:{port}{probe}", timeout=5).ok
        assert (tmp_path / kind / "t" / "pid").exists()
    finally:
        stopped = run("down", "t", "--kind", kind, run_dir=tmp_path)
    assert stopped.returncode == 0
    assert run("status", "t", "--kind", kind, run_dir=tmp_path).returncode == 3


def test_up_refuses_a_missing_config(tmp_path: Path) -> None:
    result = run("up", "t", "--port", str(free_port()), run_dir=tmp_path)

    assert result.returncode == 2
    assert "--config" in result.stderr
