"""Fixtures for the kubernetes layer: specs built in memory over the real
Chifeng division tree, with container tenants where a test needs them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from citycloud.spec import parse_spec
from citycloud.spec.tree import Spec


@pytest.fixture
def make_spec(divisions_csv: Path) -> Callable[..., Spec]:
    """Build a checked Spec: the real tree, extra organisations, tenants."""

    def build(
        tenants: Sequence[dict[str, Any]] = (),
        organisations: Sequence[dict[str, Any]] = (),
        kubernetes: dict[str, Any] | None = None,
    ) -> Spec:
        city: dict[str, Any] = {"name": "赤峰市", "code": "1504", "slug": "chifeng"}
        if kubernetes is not None:
            city["kubernetes"] = kubernetes
        data = {
            "city": city,
            "organisations": list(organisations),
            "datacenter": {"name": "chifeng-dc1", "regions": [{"name": "RegionOne"}]},
            "tenants": list(tenants),
        }
        return parse_spec(data, divisions=[divisions_csv])

    return build
