"""Effective-access lines shared by the plan renderers (text, JSON, Markdown): who gains or loses
what, and why the security gate refuses a plan. Pure functions of a Plan."""

from __future__ import annotations

from reconciler.plan.changes import Plan

NO_ACCESS_CHANGE = "none: no collaborator gains or loses access"


def access_change_lines(plan: Plan) -> list[str]:
    """One line per change, e.g. `alice: + read Alice/ via alice-access-point`; in order."""
    return [change.line() for change in plan.access_changes]


def access_section(plan: Plan) -> list[str]:
    """The text plan's first section. Empty for an empty plan."""
    if plan.is_empty and not plan.access_changes:
        return []
    lines = access_change_lines(plan) or [NO_ACCESS_CHANGE]
    return ["Access changes", *(f"  {line}" for line in lines), ""]


def refusal_section(plan: Plan) -> list[str]:
    if not plan.refusals:
        return []
    return [
        "Refused by the security gate (no override):",
        *(f"  x {reason}" for reason in plan.refusals),
        "",
    ]
