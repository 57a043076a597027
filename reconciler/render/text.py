"""Terraform-like text plan, grouped by collaborator."""

from __future__ import annotations

from reconciler.plan import Action, Change, CollaboratorEvent, EventKind, Plan
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


def _group_title(plan: Plan, collaborator: str | None) -> str:
    if collaborator is None:
        return "Bucket settings"
    marks = [_mark(e) for e in plan.events if e.collaborator == collaborator]
    return f"Collaborator {collaborator}" + "".join(f"  [{m}]" for m in marks)


def _mark(event: CollaboratorEvent) -> str:
    if event.kind is EventKind.SUSPEND:
        return f"SUSPEND: {event.reason}"
    return event.kind.value.upper()


def _event_lines(events: tuple[CollaboratorEvent, ...]) -> list[str]:
    if not events:
        return []
    lines = ["Lifecycle:"]
    for event in events:
        note = f"; {event.note}" if event.note else ""
        lines.append(f"  {event.kind.value} {event.collaborator}: {event.reason}{note}")
    return [*lines, ""]


def render_text(plan: Plan) -> str:
    lines: list[str] = []
    for collaborator, changes in plan.by_collaborator().items():
        lines.append(_group_title(plan, collaborator))
        for change in changes:
            lines.append(f"  {change_headline(change)}")
            lines.extend(f"      {detail}" for detail in change_details(change))
        lines.append("")
    lines.extend(_event_lines(plan.events))
    if plan.warnings:
        lines.append("Warnings:")
        lines.extend(f"  ! {w}" for w in plan.warnings)
        lines.append("")
    if plan.errors:
        lines.append("Errors:")
        lines.extend(f"  x {e}" for e in plan.errors)
        lines.append("")
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"
