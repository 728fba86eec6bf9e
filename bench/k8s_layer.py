"""How long the kubernetes layer takes against the fake API server.

    .venv/bin/python bench/k8s_layer.py [--tenants 50] [--page-size 100]

Builds N synthetic container tenants, one per township of the real Chifeng
tree (../shared/data/divisions/chifeng.csv), and prints: building the desired
state, validating every manifest against the OpenAPI schemas, the first
apply, a no-op plan (observation and diff only) and the number of writes the
no-op apply made (0 expected). The fake runs in-process on loopback, so the
figures measure citycloud and the client, not a real API server.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from citycloud.adapters.kubernetes import (  # noqa: E402
    KubeClient,
    KubernetesEngine,
    connect,
    validate_manifests,
)
from citycloud.desired import build_desired  # noqa: E402
from citycloud.spec import parse_spec  # noqa: E402
from tests.fakes.kubernetes.server import FakeKubeApiServer  # noqa: E402

SHARED = Path(os.environ.get("CITYCLOUD_SHARED", ROOT.parent / "shared"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    csv = SHARED / "data" / "divisions" / "chifeng.csv"
    base = {
        "city": {"name": "赤峰市", "code": "1504", "slug": "chifeng"},
        "datacenter": {"name": "dc", "regions": [{"name": "RegionOne"}]},
    }
    orgs = parse_spec(dict(base), divisions=[csv]).orgs
    townships = sorted(c for c, o in orgs.items() if o.level.value == "township")
    tenants = [
        {
            "name": f"合成容器租户{i}",
            "slug": f"bench{i}",
            "department": "基准测试",
            "owner": townships[i % len(townships)],
            "kind": "container",
            "network": {"cidr": f"10.{100 + i // 256}.{i % 256}.0/24"},
            "quotas": {"cores": 8, "ram_mb": 16384, "volumes": 4, "gigabytes": 100},
        }
        for i in range(args.tenants)
    ]
    spec = parse_spec({**base, "tenants": tenants}, divisions=[csv])

    started = time.perf_counter()
    desired = build_desired(spec, ["kubernetes"])
    built = time.perf_counter()
    count = validate_manifests(
        (dict(r.attrs) for r in desired), spec.city.kubernetes.version
    )
    validated = time.perf_counter()
    with FakeKubeApiServer() as fake:
        client = KubeClient(connect(host=fake.url), page_size=args.page_size)
        engine = KubernetesEngine(client, spec.city.kubernetes.version)
        first = engine.plan(desired)
        engine.apply(first)
        applied = time.perf_counter()
        fake.reset_log()
        again = engine.plan(desired)
        engine.apply(again)
        noop = time.perf_counter()
        writes = len(fake.writes())

    print(f"tenants              {args.tenants}")
    print(f"objects              {count}")
    print(f"desired state        {built - started:.3f} s")
    print(f"schema validation    {validated - built:.3f} s")
    print(f"first plan + apply   {applied - validated:.3f} s")
    print(f"no-op plan + apply   {noop - applied:.3f} s ({len(again)} changes)")
    print(f"no-op writes         {writes}")


if __name__ == "__main__":
    main()
