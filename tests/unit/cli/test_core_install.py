"""The quick start installs only the core: `citycloud` must start without any
outside system's SDK, importing each one only when its option is used."""

from __future__ import annotations

import json
import subprocess
import sys

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
