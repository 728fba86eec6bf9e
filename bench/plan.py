"""How long a plan takes, and how much memory, for a city of realistic size.

Chifeng's real division tree (210 units from ../shared/data) plus SYNTHETIC
villages (13 per township, about 2,560; the village tier is not in the
reference data) and 300 SYNTHETIC tenants. Prints load, desired-state, plan,
apply-record and no-op re-plan times and the peak memory of the process.

    .venv/bin/python bench/plan.py [--tenants 300] [--villages-per-township 13]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from citycloud.apply import apply_plan, make_workspace, plan_workspace  # noqa: E402
from citycloud.plan import SafetyPolicy  # noqa: E402
from citycloud.spec import load_spec  # noqa: E402
from citycloud.store import StateStore  # noqa: E402
from tests.support.synthetic import tenants_yaml, villages_csv  # noqa: E402

CITY = """\
city: {name: 赤峰市, code: "1504", slug: chifeng}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=300)
    parser.add_argument("--villages-per-township", type=int, default=13)
    shared = Path(os.environ.get("CITYCLOUD_SHARED", ROOT.parent / "shared"))
    parser.add_argument(
        "--divisions", default=str(shared / "data/divisions/chifeng.csv")
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="citycloud-bench-"))
    try:
        spec_dir = work / "spec"
        spec_dir.mkdir()
        (spec_dir / "city.yaml").write_text(CITY, encoding="utf-8")
        shutil.copy(
            ROOT / "examples/chifeng/datacenter.yaml", spec_dir / "datacenter.yaml"
        )
        csv_text = villages_csv(Path(args.divisions), args.villages_per_township)
        csv_path = work / "divisions-with-synthetic-villages.csv"
        csv_path.write_text(csv_text, encoding="utf-8")
        townships = [
            line.split(",")[0]
            for line in csv_text.splitlines()
            if line.endswith(",township")
        ]
        (spec_dir / "tenants.yaml").write_text(
            tenants_yaml(args.tenants, townships), encoding="utf-8"
        )

        t0 = time.perf_counter()
        spec = load_spec(spec_dir, divisions=[csv_path])
        t1 = time.perf_counter()
        store = StateStore(f"sqlite:///{work}/state.db")
        ws = make_workspace(spec, store)
        t2 = time.perf_counter()
        first = plan_workspace(ws)
        t3 = time.perf_counter()
        apply_plan(ws, first, SafetyPolicy())
        t4 = time.perf_counter()
        again = plan_workspace(ws)
        t5 = time.perf_counter()
        assert again.is_empty, "a re-plan after apply must be empty"

        villages = sum(1 for o in spec.orgs.values() if o.level.value == "village")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"organisations: {len(spec.orgs)} ({villages} SYNTHETIC villages)")
        print(f"tenants: {len(spec.tenants)} (SYNTHETIC)")
        print(f"desired resources: {len(ws.desired)}")
        print(f"load + check spec: {t1 - t0:6.2f} s")
        print(f"desired state:     {t2 - t1:6.2f} s")
        print(f"first plan:        {t3 - t2:6.2f} s  ({len(first)} changes)")
        print(f"apply (record):    {t4 - t3:6.2f} s")
        print(f"no-op re-plan:     {t5 - t4:6.2f} s")
        print(f"total:             {t5 - t0:6.2f} s")
        print(f"peak memory (RSS): {peak_mb:6.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
