"""Every change an apply makes is in the ledger, naming the plan it came from."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from citycloud.cli import main
from citycloud.store import StateStore
from citycloud.store.audit import open_ledger


def test_an_apply_records_each_change_with_its_plan_and_seals_it(
    example_spec_dir: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = ["--out", str(tmp_path / "artifacts")]
    planned = runner.invoke(main, ["plan", str(example_spec_dir), "--json", *out])
    applied = runner.invoke(main, ["apply", str(example_spec_dir), "--json", *out])
    again = runner.invoke(main, ["apply", str(example_spec_dir), *out])

    assert applied.exit_code == 0, applied.output
    assert again.exit_code == 0, again.output
    report = json.loads(applied.output)
    ledger = open_ledger(StateStore())
    records = ledger.query(kinds=["apply.change"], limit=None)
    total = sum(json.loads(planned.output)["summary"].values())
    assert len(records) == total > 0, "one record per change; the no-op apply adds none"
    assert {r.detail["apply_id"] for r in records} == {report["apply_id"]}
    assert len({r.detail["plan_id"] for r in records}) == 1
    assert {r.outcome for r in records} == {"succeeded"}
    result = ledger.verify()
    assert result.ok and result.digests_checked >= 1
