"""Append and verify rates of the audit ledger for a million records (SQLite).

Three figures: single appends (one transaction each, as the portal writes
them), batched appends (as an apply or a Keycloak pull writes them) up to the
full record count, and one full verification of the chain and its signed
digests. The records are SYNTHETIC portal page views with Chinese text.

    .venv/bin/python bench/audit.py [--records 1000000] [--single 5000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from citycloud.store import StateStore
from citycloud.store.audit import AuditLedger, Event, make_filters
from citycloud.store.signing import KeyRing

BATCH = 10_000


def synthetic(i: int) -> Event:
    return Event(
        "portal.page",
        actor=f"合成用户{i % 5000}",
        org_code=f"150402{i % 50:03d}",
        tenant=f"tenant-{i % 300}",
        target=f"/应用/{i % 120}",
        action="view",
        detail={"i": i, "synthetic": True},
    )


def rate(count: int, seconds: float) -> str:
    return f"{count:>9,} in {seconds:7.1f} s = {count / seconds:>9,.0f} /s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--digest-every", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="citycloud-bench-audit-"))
    try:
        store = StateStore(f"sqlite:///{work / 'state.db'}")
        ledger = AuditLedger(
            store, signer=KeyRing(work / "keys"), digest_every=args.digest_every
        )

        started = time.perf_counter()
        for i in range(args.single):
            e = synthetic(i)
            ledger.append(
                e.kind,
                actor=e.actor,
                org_code=e.org_code,
                tenant=e.tenant,
                target=e.target,
                detail=e.detail,
            )
        single = time.perf_counter() - started

        remaining = args.records - args.single
        started = time.perf_counter()
        done = args.single
        while done < args.records:
            size = min(BATCH, args.records - done)
            ledger.append_many(synthetic(i) for i in range(done, done + size))
            done += size
        batched = time.perf_counter() - started

        started = time.perf_counter()
        result = ledger.verify()
        verified = time.perf_counter() - started

        started = time.perf_counter()
        sample = ledger.query(org_codes=["150402007"], since=None, limit=None)
        queried = time.perf_counter() - started

        started = time.perf_counter()
        with (work / "export.csv").open("w", encoding="utf-8", newline="") as out:
            exported = ledger.export(
                out, "csv", by="bench", filters=make_filters(kinds=["portal.page"])
            )
        export_time = time.perf_counter() - started

        size_mb = os.path.getsize(work / "state.db") / 2**20
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"audit ledger, SQLite, {args.records:,} records")
        print(f"  append, one per transaction {rate(args.single, single)}")
        print(f"  append, {BATCH:,} per transaction {rate(remaining, batched)}")
        print(
            f"  verify chain + {result.digests_checked:,} digests "
            f"{rate(result.records_checked, verified)}  ok={result.ok}"
        )
        print(f"  query one organisation  {len(sample):>9,} rows in {queried:7.1f} s")
        print(f"  export CSV              {rate(exported, export_time)}")
        print(f"  database {size_mb:,.0f} MiB, peak memory {peak_mb:,.0f} MiB")
        if not result.ok:
            raise SystemExit(f"verification failed: {result.problems[:3]}")
    finally:
        if args.keep:
            print(f"  kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
