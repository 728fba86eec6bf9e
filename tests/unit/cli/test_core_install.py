"""The quick start installs only the core: `citycloud` must start without any
outside system's SDK, importing each one only when its option is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

OPTIONAL = {
    "openstack",
    "keystoneauth1",
    "keycloak",
    "kubernetes",
    "kubernetes_validate",
    "grafana_client",
    "grafana_foundation_sdk",
    "pulumi",
    "pulumi_openstack",
    "ansible_runner",
    "streamlit",
    "psycopg",
}


def test_the_cli_imports_no_optional_sdk() -> None:
    code = (
        "import sys, json, citycloud.cli\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert loaded & OPTIONAL == set()


def test_engines_come_from_the_environment_as_on_the_command_line(
    example_spec_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import citycloud.cli  # noqa: F401  (registers every area's options)
    from citycloud.adapters.grafana.engine import GrafanaEngine
    from citycloud.cli_common import engines_from_environment
    from citycloud.spec import load_spec

    spec = load_spec(example_spec_dir)
    for name in ("CITYCLOUD_CLOUD", "CITYCLOUD_KEYCLOAK_URL", "CITYCLOUD_GRAFANA_URL"):
        monkeypatch.delenv(name, raising=False)
    assert engines_from_environment(spec) == []
    monkeypatch.setenv("CITYCLOUD_GRAFANA_URL", "http://127.0.0.1:1")
    (engine,) = engines_from_environment(spec)
    assert isinstance(engine, GrafanaEngine)


def test_openstack_sdks_run_on_the_real_urllib3() -> None:
    # grafana-client's niquests brings urllib3-future, whose wheel would
    # overwrite urllib3 under requests (and keystoneauth); scripts/install
    # keeps them apart. The fork marks its versions with a patch of 900+.
    adapters = pytest.importorskip("requests.adapters")
    import urllib3

    patch = int(urllib3.__version__.split(".")[2].split("+")[0])
    assert patch < 900, f"urllib3 is urllib3-future {urllib3.__version__}"
    assert adapters.PoolManager.__module__.startswith("urllib3.")
