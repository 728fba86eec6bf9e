"""Planning: the difference between desired and actual state, ordered, with
safety rules and summaries in words. Pure: no I/O."""

from citycloud.plan.model import (
    Action,
    Change,
    FieldChange,
    Plan,
    diff_fields,
    make_plan,
)
from citycloud.plan.render import render_json, render_text
from citycloud.plan.safety import SafetyPolicy, check_safety

__all__ = [
    "Action",
    "Change",
    "FieldChange",
    "Plan",
    "SafetyPolicy",
    "check_safety",
    "diff_fields",
    "make_plan",
    "render_json",
    "render_text",
]
