"""How long applying tenants to OpenStack takes, per engine available.

    .venv/bin/python bench/apply.py [--tenants 20] [--cloud devcloud-admin] [--keep]

Needs the test cloud (scripts/devcloud up) and OS_CLIENT_CONFIG_FILE pointing
at its clouds.yaml (set here by default). Prints, for N tenants without
servers: the apply from empty, a no-op re-apply (observation only: the plan
is empty, so no engine runs), and one new tenant on top of N. The city's
domain is emptied first and, unless --keep, afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from citycloud.adapters.openstack.engine import OpenStackEngine  # noqa: E402
from citycloud.apply import apply_plan, make_workspace, plan_workspace  # noqa: E402
from citycloud.plan import SafetyPolicy  # noqa: E402
from citycloud.spec import load_spec  # noqa: E402
from citycloud.store import StateStore  # noqa: E402
from tests.integration.openstack.cityspec import tenant, write_spec  # noqa: E402
from tests.integration.openstack.conftest import wipe_domain  # noqa: E402

LAYERS = ("cloud", "openstack")
# Its own Keystone domain, so the bench never touches the tests' tenants.
DOMAIN = "chifengbench"


def timed_apply(spec_dir: Path, store: StateStore, cloud: str) -> tuple[float, int]:
    """Seconds for plan + apply, and how many changes the plan held."""
    start = time.perf_counter()
    engine = OpenStackEngine(cloud, forks=5)
    ws = make_workspace(load_spec(spec_dir), store, [engine], LAYERS)
    plan = plan_workspace(ws)
    apply_plan(ws, plan, SafetyPolicy(allow_delete=True))
    return time.perf_counter() - start, len(plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--cloud", default="devcloud-admin")
    parser.add_argument("--keep", action="store_true", help="leave the tenants")
    args = parser.parse_args()
    run_dir = Path(os.environ.get("CITYCLOUD_RUN_DIR", "/tmp/citycloud-run"))
    os.environ.setdefault(
        "OS_CLIENT_CONFIG_FILE", str(run_dir / "devcloud" / "clouds.yaml")
    )
    engine = OpenStackEngine(args.cloud)
    wipe_domain(engine.conn, DOMAIN)
    with tempfile.TemporaryDirectory(prefix="citycloud-bench-") as tmp:
        spec_dir = Path(tmp) / "spec"
        store = StateStore(f"sqlite:///{tmp}/state.db")
        tenants = [
            tenant(f"t{i:02d}", f"租户{i:02d}", i + 10, network="10.78")
            for i in range(args.tenants)
        ]
        write_spec(spec_dir, tenants, DOMAIN)
        print(
            f"engine ansible, {args.tenants} tenants (no servers), cloud {args.cloud}"
        )
        seconds, count = timed_apply(spec_dir, store, args.cloud)
        print(f"  apply from empty:          {seconds:7.1f} s  ({count} changes)")
        seconds, count = timed_apply(spec_dir, store, args.cloud)
        print(f"  no-op re-apply:            {seconds:7.1f} s  ({count} changes)")
        extra = tenant("extra", "新增租户", 9, network="10.78")
        write_spec(spec_dir, [*tenants, extra], DOMAIN)
        seconds, count = timed_apply(spec_dir, store, args.cloud)
        print(f"  one new tenant on top:     {seconds:7.1f} s  ({count} changes)")
        print("engine pulumi: not measured (needs the Pulumi CLI, not installed here)")
    if not args.keep:
        wipe_domain(engine.conn, DOMAIN)


if __name__ == "__main__":
    main()
