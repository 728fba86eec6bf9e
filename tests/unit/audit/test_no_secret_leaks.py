"""No secret value appears in any log line, plan, artifact, export or state row
of a full apply on the embedded default.

The platform's secrets (a service password per tenant, a client secret per app)
are made and stored first, so they are live in the process during the apply;
a deliberately careless log line proves the redaction is really in the path.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from citycloud.cli import main
from citycloud.spec import load_spec
from citycloud.store import StateStore
from citycloud.store.audit import open_ledger
from citycloud.store.secrets import (
    REGISTRY,
    SecretKeys,
    SecretStore,
    ensure_platform_secrets,
    find_secrets,
    find_secrets_in_files,
    remove_log_redaction,
)


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """Every log line of the run, at DEBUG, as the operator's log file would hold."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old_level)
    remove_log_redaction()
    REGISTRY.clear()


def dump_database(store: StateStore) -> str:
    lines = []
    with store.engine.connect() as conn:
        for table in sa.inspect(store.engine).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                lines.append(f"{table}: {tuple(row)}")
    return "\n".join(lines)


def test_a_full_embedded_apply_leaks_no_secret(
    example_spec_dir: Path, tmp_path: Path, captured_log: io.StringIO
) -> None:
    spec = load_spec(example_spec_dir)
    store = StateStore()
    secrets = SecretStore(
        store, SecretKeys.from_file(tmp_path / "secret.key", create=True)
    )
    values = ensure_platform_secrets(spec, secrets)
    assert len(values) == len(spec.tenants) + sum(1 for _ in spec.apps())
    artifacts = tmp_path / "artifacts"
    runner = CliRunner()

    plan = runner.invoke(
        main, ["-vv", "plan", str(example_spec_dir), "--json", "--out", str(artifacts)]
    )
    apply = runner.invoke(
        main, ["-vv", "apply", str(example_spec_dir), "--out", str(artifacts)]
    )
    careless = next(iter(values.values()))
    logging.getLogger("citycloud.adapters.careless").debug(
        "client secret is %s", careless
    )
    export = io.StringIO()
    open_ledger(store).export(export, "jsonl", by="auditor")

    assert plan.exit_code == 0, plan.output
    assert apply.exit_code == 0, apply.output
    assert "******" in captured_log.getvalue(), (
        "the careless line went through redaction"
    )
    assert find_secrets(captured_log.getvalue(), values) == []
    assert find_secrets(plan.output + apply.output, values) == []
    assert find_secrets_in_files([artifacts], values) == {}
    assert find_secrets(export.getvalue(), values) == []
    assert find_secrets(dump_database(store), values) == []
    assert any(artifacts.rglob("*")), "the apply wrote artifacts"
    assert open_ledger(store).verify().ok
    # The values are still there, only encrypted.
    assert secrets.get(next(iter(values))) == values[next(iter(values))]
