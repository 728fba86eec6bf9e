"""Naming rules for identifiers derived from Chinese names (see spec.naming)."""

from citycloud.spec.naming import (
    fit_label,
    is_slug,
    org_slug,
    short_hash,
    slug_for,
    transliterate,
)

__all__ = [
    "fit_label",
    "is_slug",
    "org_slug",
    "short_hash",
    "slug_for",
    "transliterate",
]
