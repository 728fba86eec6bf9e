"""The Chifeng organisation tree for identity tests and the bench.

The real divisions (city, counties, townships) come from the shared CSV; the
village tier is not in it, so villages are generated here and are labelled
synthetic: their names end in "（合成）", their codes are the township's code
plus three digits, and they are written to a CSV named
``synthetic-villages.csv`` when they go through the spec loader.
"""

from __future__ import annotations

import csv
from pathlib import Path

from citycloud.adapters.keycloak.model import (
    ClientSpec,
    Delegation,
    GroupSpec,
    RealmModel,
    RoleSpec,
    default_settings,
)

ROOT = Path(__file__).resolve().parents[3]
SHARED_CSV = ROOT.parent / "shared/data/divisions/chifeng.csv"
EXAMPLE = ROOT / "examples" / "chifeng"
ROLES = ("cloud-admin", "ops", "tenant-admin", "staff", "auditor")
SYNTHETIC_MARK = "（合成）"


def read_rows(path: Path = SHARED_CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def synthetic_village_rows(
    rows: list[dict[str, str]], total: int
) -> list[dict[str, str]]:
    """About ``total`` villages spread over the townships, labelled synthetic."""
    townships = [r for r in rows if r["level"] == "township"]
    villages: list[dict[str, str]] = []
    for i in range(total):
        town = townships[i % len(townships)]
        n = i // len(townships) + 1
        villages.append(
            {
                "code": f"{town['code']}{n:03d}",
                "name": f"{town['name'][:2]}第{n}村{SYNTHETIC_MARK}",
                "parent_code": town["code"],
                "level": "village",
            }
        )
    return villages


def write_synthetic_villages(out: Path, total: int, real: Path = SHARED_CSV) -> Path:
    """Write the synthetic villages as a divisions CSV the spec loader reads."""
    path = out / "synthetic-villages.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["code", "name", "parent_code", "level"])
        writer.writeheader()
        writer.writerows(synthetic_village_rows(read_rows(real), total))
    return path


def chifeng_model(
    villages: int = 2500,
    *,
    path: Path = SHARED_CSV,
    realm: str = "chifeng",
    apps: int = 3,
    delegate_counties: bool = False,
) -> RealmModel:
    """The tree as a realm model directly (no spec): for fake-focused tests."""
    rows = read_rows(path)
    rows += synthetic_village_rows(rows, villages)
    groups = []
    for row in rows:
        parent = row["parent_code"] if row["level"] != "city" else None
        attrs = {"org_code": [row["code"]], "tier": [row["level"]]}
        if row["name"].endswith(SYNTHETIC_MARK):
            attrs["synthetic"] = ["true"]
        groups.append(GroupSpec(row["code"], row["name"], parent, attrs))
    clients = [
        ClientSpec(
            "citycloud-portal",
            "城市云门户",
            root_url="https://portal.example",
            redirect_uris=("https://portal.example/oauth2callback",),
        )
    ]
    for i in range(apps):
        clients.append(
            ClientSpec(
                f"tenant{i}-app",
                f"应用{i}",
                redirect_uris=(f"https://app{i}.example/*",),
                tenant=f"tenant{i}",
                access={"roles": ["staff"], "tiers": ["county"], "owner": "1504"},
            )
        )
    delegations: tuple[Delegation, ...] = ()
    if delegate_counties:
        delegations = tuple(Delegation(g.key) for g in groups if g.tier == "county")
    return RealmModel(
        name=realm,
        settings=default_settings("赤峰市"),
        attributes={"adminEventsExpiration": str(365 * 86400)},
        groups=tuple(groups),
        roles=tuple(RoleSpec(r) for r in ROLES),
        clients=tuple(clients),
        delegations=delegations,
    )
