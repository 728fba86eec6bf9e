"""Identity sync figures: calls and time for a first sync and a no-op re-sync.

The realm is the full Chifeng tree (210 real units from ../shared/data) plus
synthetic villages (labelled "（合成）", default 2,500), synced through the
whole chain (spec -> desired identity layer -> sync) against the fake
Keycloak on loopback. Run:

    .venv/bin/python bench/identity.py [--villages 2500] [--page-size 100] [--no-bulk]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from citycloud.adapters.keycloak.client import KeycloakApi  # noqa: E402
from citycloud.adapters.keycloak.desired import realm_model  # noqa: E402
from citycloud.adapters.keycloak.sync import sync_realm  # noqa: E402
from citycloud.desired import build_desired  # noqa: E402
from citycloud.spec import load_spec  # noqa: E402
from tests.fakes.keycloak import FakeKeycloak  # noqa: E402
from tests.fakes.keycloak.chifeng import (  # noqa: E402
    EXAMPLE,
    SHARED_CSV,
    write_synthetic_villages,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=2500)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--no-bulk",
        action="store_true",
        help="create groups one call each (no partial import of new trees)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        villages = write_synthetic_villages(Path(tmp), args.villages)
        spec = load_spec(EXAMPLE, [SHARED_CSV, villages])
    model = realm_model(build_desired(spec, ["identity"]))
    figures: dict[str, object] = {
        "organisations": len(spec.orgs),
        "synthetic_villages": args.villages,
        "page_size": args.page_size,
        "bulk_create": not args.no_bulk,
    }
    with FakeKeycloak(admin_user="admin", admin_password="bench") as fake:
        api = KeycloakApi.connect(
            fake.url,
            model.name,
            username="admin",
            password="bench",
            page_size=args.page_size,
        )
        for label in ("first_sync", "noop_resync"):
            fake.app.reset_counts()
            start = time.perf_counter()
            report = sync_realm(api, model, bulk_create=not args.no_bulk)
            elapsed = time.perf_counter() - start
            seen = fake.app.counts()
            figures[label] = {
                "seconds": round(elapsed, 2),
                "reads": report.reads,
                "writes": report.writes,
                "calls": report.reads + report.writes,
                "server_reads": seen["reads"],
                "server_writes": seen["writes"],
                "token_requests": seen["tokens"],
            }
        realm = fake.state.realms[model.name]
        figures["groups_in_realm"] = len(realm.groups)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    print(
        f"identity sync: {figures['organisations']} organisations "
        f"({args.villages} synthetic villages), page size {args.page_size}, "
        + ("one call per group" if args.no_bulk else "new trees by partial import")
    )
    for label in ("first_sync", "noop_resync"):
        row = figures[label]
        assert isinstance(row, dict)
        print(
            f"  {label:12} {row['seconds']:7.2f} s  calls {row['calls']:5}  "
            f"(reads {row['reads']}, writes {row['writes']}, "
            f"token requests {row['token_requests']})"
        )
    print(f"  groups in realm: {figures['groups_in_realm']}")


if __name__ == "__main__":
    main()
