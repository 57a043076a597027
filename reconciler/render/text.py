"""Terraform-like text plan, grouped by collaborator."""

from __future__ import annotations

from reconciler.plan import Action, Change, Plan
from reconciler.render.access import access_section, refusal_section
from reconciler.render.describe import change_details

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
}


def summary_line(plan: Plan) -> str:
    if plan.is_empty:
        return "No changes. Live state matches collaborators.yaml."
    s = plan.summary()
    return (
        f"Plan: {s['create']} to create, {s['update']} to update, "
        f"{s['replace']} to replace, {s['delete']} to delete."
    )


def change_headline(change: Change) -> str:
    return f"{SYMBOLS[change.action]} {change.type.value} {change.id}"


def render_text(plan: Plan) -> str:
    lines: list[str] = access_section(plan)
    for collaborator, changes in plan.by_collaborator().items():
        lines.append("Bucket settings" if collaborator is None else f"Collaborator {collaborator}")
        for change in changes:
            lines.append(f"  {change_headline(change)}")
            lines.extend(f"      {detail}" for detail in change_details(change))
        lines.append("")
    if plan.warnings:
        lines.append("Warnings:")
        lines.extend(f"  ! {w}" for w in plan.warnings)
        lines.append("")
    if plan.errors:
        lines.append("Errors:")
        lines.extend(f"  x {e}" for e in plan.errors)
        lines.append("")
    lines.extend(refusal_section(plan))
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"
