"""The engine protocol, re-exported where the orchestration uses it."""

from citycloud.plan.engine import Engine, Progress, no_progress

__all__ = ["Engine", "Progress", "no_progress"]
