"""Host filters, one per module; `default_filters` is the order they run in."""

from __future__ import annotations

from citycloud.scheduler.filters.capacity import CapacityFilter
from citycloud.scheduler.filters.hot import HotHostFilter
from citycloud.scheduler.filters.maintenance import MaintenanceFilter
from citycloud.scheduler.filters.restrictions import TenantRestrictionFilter
from citycloud.scheduler.filters.spread import SpreadFilter
from citycloud.scheduler.rules import HostFilter


def default_filters() -> list[HostFilter]:
    # Cheap, final answers first; the load-based one last.
    return [
        MaintenanceFilter(),
        TenantRestrictionFilter(),
        SpreadFilter(),
        CapacityFilter(),
        HotHostFilter(),
    ]


__all__ = [
    "CapacityFilter",
    "HotHostFilter",
    "MaintenanceFilter",
    "SpreadFilter",
    "TenantRestrictionFilter",
    "default_filters",
]
