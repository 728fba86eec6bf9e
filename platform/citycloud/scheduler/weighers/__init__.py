"""Host weighers, one per module; a score in [-1, 1] times a multiplier."""

from __future__ import annotations

from citycloud.scheduler.rules import HostWeigher
from citycloud.scheduler.weighers.load import LoadWeigher
from citycloud.scheduler.weighers.risk import RiskWeigher


def default_weighers() -> list[HostWeigher]:
    return [LoadWeigher(), RiskWeigher()]


__all__ = ["LoadWeigher", "RiskWeigher", "default_weighers"]
