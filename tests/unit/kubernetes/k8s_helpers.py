"""Helpers for the kubernetes layer's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from citycloud.spec.tree import Spec

SpecFactory = Callable[..., Spec]


def tenant(slug: str, owner: str, index: int, **extra: Any) -> dict[str, Any]:
    """A container tenant with its own /24 (10.a.b.0/24 from ``index``)."""
    return {
        "name": extra.pop("name", f"容器租户{index}"),
        "slug": slug,
        "department": "测试部门",
        "owner": owner,
        "kind": "container",
        "network": {"cidr": f"10.{100 + index // 256}.{index % 256}.0/24"},
        **extra,
    }
