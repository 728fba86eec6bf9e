"""The README's spec example is a valid spec: the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from citycloud.spec import load_spec

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_spec_example_is_valid(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"## Writing the spec.*?```yaml\n(.*?)```", text, re.S)
    assert match is not None
    (tmp_path / "spec.yaml").write_text(match.group(1), encoding="utf-8")
    spec = load_spec(tmp_path / "spec.yaml")
    assert [t.slug for t in spec.tenants] == ["dispatch"]
