"""Every message the portal shows exists in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from citycloud.access import Page, Role
from citycloud.i18n import t
from citycloud.spec.models import Tier
from citycloud.store.requests import RequestState
from portal import data, texts

PORTAL = Path(texts.__file__).parent
LITERAL = re.compile(r"""\bt\(\s*["']([a-z_.\-]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for source in PORTAL.rglob("*.py"):
        found = LITERAL.findall(source.read_text(encoding="utf-8"))
        # "role." + name is checked through Role below; "portal.key" is the
        # example in texts.py's docstring.
        keys |= {k for k in found if not k.endswith(".") and k != "portal.key"}
    keys |= {f"aud.col.{c}" for c in data.AUDIT_COLUMNS}
    keys |= {f"page.{p.value}" for p in Page}
    keys |= {f"role.{r.value}" for r in Role}
    keys |= {f"tier.{x.value}" for x in Tier}
    keys |= {f"onb.state.{s.value}" for s in RequestState}
    return keys


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_has_a_message(lang):
    missing = sorted(k for k in used_keys() if t(k, lang=lang).startswith(k))
    assert missing == []


def test_audit_kinds_have_names():
    source = (PORTAL / "pages" / "audit.py").read_text(encoding="utf-8")
    kinds = re.findall(r'^    "([a-z_]+\.[a-z_]+)",$', source, re.MULTILINE)
    assert kinds
    assert all(not t(f"aud.kind.{k}").startswith("aud.kind") for k in kinds)
