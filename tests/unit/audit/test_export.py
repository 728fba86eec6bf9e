"""Exports for auditors: CSV that Excel opens with Chinese intact, JSON Lines."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from citycloud.store.audit import AuditLedger, Event, make_filters


def export_to(ledger: AuditLedger, path: Path, fmt: str, **filters: Any) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        return ledger.export(
            out, fmt, by="审计员甲", by_org="1504", filters=make_filters(**filters)
        )


def test_csv_starts_with_a_bom_and_keeps_chinese_text(
    ledger: AuditLedger, tmp_path: Path
) -> None:
    ledger.append(
        "portal.app_open",
        actor="张三",
        org_code="150402",
        tenant="hongshan-edu",
        target="红山区教育局/学籍系统",
        detail={"应用": "学籍管理"},
    )
    path = tmp_path / "audit.csv"

    count = export_to(ledger, path, "csv")

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert count == 1
    assert rows[0]["actor"] == "张三"
    assert rows[0]["target"] == "红山区教育局/学籍系统"
    assert json.loads(rows[0]["detail"]) == {"应用": "学籍管理"}


def test_csv_cells_that_look_like_formulas_are_neutralised(
    ledger: AuditLedger, tmp_path: Path
) -> None:
    ledger.append("portal.page", actor='=HYPERLINK("http://x")', target="/a")
    path = tmp_path / "audit.csv"

    export_to(ledger, path, "csv")

    with path.open(encoding="utf-8-sig", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["actor"].startswith("'=")


def test_jsonl_export_honours_filters_and_is_itself_recorded(
    ledger: AuditLedger, tmp_path: Path
) -> None:
    ledger.append("auth.login", actor="张三", org_code="150402")
    ledger.append("auth.login", actor="李四", org_code="150404")
    path = tmp_path / "audit.jsonl"

    count = export_to(ledger, path, "jsonl", org_codes=["150402"])

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert count == 1 and [line["actor"] for line in lines] == ["张三"]
    recorded = ledger.query(kinds=["audit.export"])
    assert len(recorded) == 1
    assert recorded[0].actor == "审计员甲"
    assert recorded[0].detail["count"] == 1
    assert recorded[0].detail["filters"]["org_codes"] == ["150402"]
    assert ledger.verify().ok


@pytest.mark.slow
def test_export_of_100000_records(ledger: AuditLedger, tmp_path: Path) -> None:
    total = 100_000
    for start in range(0, total, 20_000):
        ledger.append_many(
            Event(
                "portal.page",
                actor=f"用户{i % 500}",
                org_code="150402",
                tenant="hongshan-edu",
                target=f"/应用/{i}",
                detail={"i": i},
            )
            for i in range(start, start + 20_000)
        )
    path = tmp_path / "audit.csv"

    count = export_to(ledger, path, "csv")

    assert count == total
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        first = next(reader)
        remaining = sum(1 for _ in reader)
    assert first["actor"] == "用户0" and first["target"] == "/应用/0"
    assert remaining == total - 1
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
