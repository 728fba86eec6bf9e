"""Synthetic data for tests and benchmarks.

Chifeng's village tier (gacha, village, community) is not in the shared
reference data, so tests that need it generate villages here. Every generated
organisation is marked ``synthetic``; its name says so too (合成 = synthetic).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path


def villages_csv(divisions: Path, per_township: int = 13) -> str:
    """The real division CSV plus ``per_township`` synthetic villages under
    each real township (197 townships x 13 = 2,561 villages)."""
    text = divisions.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "parent_code", "level"])
    for row in rows:
        writer.writerow([row["code"], row["name"], row["parent_code"], row["level"]])
    for row in rows:
        if row["level"] != "township":
            continue
        for n in range(1, per_township + 1):
            code = f"{row['code']}{n:03d}"
            writer.writerow([code, f"合成第{n}嘎查村", row["code"], "village"])
    return out.getvalue()


def tenants_yaml(count: int, owners: list[str], start: int = 0) -> str:
    """``count`` synthetic VM tenants spread over ``owners`` (org codes), each
    with its own /24 in 10.100.0.0/14."""
    lines = ["tenants:"]
    for i in range(start, start + count):
        owner = owners[i % len(owners)]
        lines += [
            f"  - name: 合成租户{i:04d}",
            f"    slug: synth-{i:04d}",
            "    department: 合成部门",
            f'    owner: "{owner}"',
            f"    network: {{cidr: 10.{100 + i // 256}.{i % 256}.0/24}}",
            "    quotas: {instances: 4, cores: 8, ram_mb: 16384, volumes: 4, gigabytes: 200, "
            "floating_ips: 0}",
            "    apps:",
            "      - name: 合成应用",
            "        slug: app",
            "        workloads:",
            "          - {name: web, flavor: c2.m4, image: debian-12, replicas: 2, volume_gb: 20}",
            "        access: {tiers: [county, township], roles: [staff]}",
        ]
    return "\n".join(lines) + "\n"
