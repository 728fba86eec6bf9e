"""Session fixtures that start the real services the integration tests run on.

Both come from the project's own scripts, so a test never depends on anything
started by hand:

- ``devcloud``: the test OpenStack of ``scripts/devcloud`` (Keystone, Glance,
  Placement, Neutron, Nova with three fake compute hosts, Cinder) on loopback.
  It is left running after the session: starting it costs a minute or two,
  and parallel test sessions on the same machine share it (``scripts/devcloud
  down`` stops it; CITYCLOUD_DEVCLOUD_STOP=1 stops it when the session ends).
  CITYCLOUD_SKIP_DEVCLOUD=1 skips every test that needs it.
- ``postgres_url``: a fresh database of its own for the session on the
  throwaway cluster of ``scripts/postgres``, as a SQLAlchemy URL. Its role may
  create further databases.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.pg import drop_database

REPO = Path(__file__).resolve().parents[2]
# A first start installs Debian's packages (a few minutes on a fresh machine).
START_TIMEOUT_S = 1800


@dataclass(frozen=True)
class DevCloud:
    """Where the running test cloud is described for openstacksdk."""

    clouds_yaml: Path
    cloud: str = "devcloud-admin"
    region: str = "RegionOne"


def _run_script(argv: list[str], what: str) -> str:
    """Runs one of the project's scripts; a failure is an error of the test."""
    try:
        done = subprocess.run(
            argv,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{what} did not finish in {START_TIMEOUT_S} s: {error}")
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed with exit code {done.returncode}:\n{done.stderr[-6000:]}"
        )
    return done.stdout


@pytest.fixture(scope="session")
def devcloud() -> Iterator[DevCloud]:
    if os.environ.get("CITYCLOUD_SKIP_DEVCLOUD") == "1":
        pytest.skip("CITYCLOUD_SKIP_DEVCLOUD=1: the test OpenStack is not started")
    output = _run_script(
        [str(REPO / "scripts" / "devcloud"), "up"], "scripts/devcloud up"
    )
    clouds_yaml = Path(output.strip().splitlines()[-1])
    if not clouds_yaml.is_file():
        pytest.fail(f"scripts/devcloud up printed no clouds.yaml path: {output!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
        yield DevCloud(clouds_yaml)

    if os.environ.get("CITYCLOUD_DEVCLOUD_STOP") == "1":
        _run_script(
            [str(REPO / "scripts" / "devcloud"), "down"], "scripts/devcloud down"
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import sqlalchemy as sa

    script = str(REPO / "scripts" / "postgres")
    output = _run_script([script, "up", "tests"], "scripts/postgres up")
    cluster_url = sa.make_url(output.strip())
    # Sessions running side by side (xdist workers, other checkouts) share the
    # cluster, so each gets a database of its own.
    database = f"session_{uuid.uuid4().hex[:12]}"
    _run_script([script, "createdb", "tests", database], "scripts/postgres createdb")

    yield cluster_url.set(database=database).render_as_string(hide_password=False)

    drop_database(cluster_url.render_as_string(hide_password=False), database)
