"""Terraform-like text plan, grouped by collaborator."""

from __future__ import annotations

from reconciler.plan.changes import Action, Change, CollaboratorEvent, EventKind, Plan
from reconciler.render.access import access_section, refusal_section
from reconciler.render.describe import change_details
from reconciler.render.review import DRIFT_TITLE, drift_intro, scope_note
from reconciler.render.style import Style, diff_line, plain

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
}


def summary_line(plan: Plan) -> str:
    if plan.is_empty and plan.scope:  # the rest was not planned: it may well differ
        return f"No changes for {', '.join(plan.scope)}."
    if plan.is_empty:
        return f"No changes. Live state matches {plan.source}."
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
    return ["Lifecycle:", *(f"  {event.line()}" for event in events), ""]


def render_text(plan: Plan, *, style: Style = plain) -> str:
    """The plan for a terminal or log; `style` adds colour (see reconciler.render.style).
    Effective-access changes come first, then resource changes by collaborator."""
    lines = [*_scope_lines(plan, style), *_drift_lines(plan, style)]
    lines.extend(_style_access(line, style) for line in access_section(plan))
    for collaborator, changes in plan.by_collaborator(without_drift=True).items():
        lines.append(style(_group_title(plan, collaborator), "heading"))
        lines.extend(_change_lines(changes, style, indent="  "))
        lines.append("")
    lines.extend(_event_lines(plan.events))
    lines.extend(problem_lines(plan, style))
    lines.extend(refusal_section(plan))
    lines.append(style(summary_line(plan), "summary"))
    return "\n".join(lines) + "\n"


def _change_lines(changes: list[Change], style: Style, *, indent: str) -> list[str]:
    lines = []
    for change in changes:
        lines.append(indent + style(change_headline(change), change.action.value))
        lines.extend(f"{indent}    " + diff_line(d, style) for d in change_details(change))
    return lines


def _scope_lines(plan: Plan, style: Style) -> list[str]:
    note = scope_note(plan)
    return [style(note, "warning"), ""] if note else []


def _drift_lines(plan: Plan, style: Style) -> list[str]:
    """Drift first, in its own section: what a reviewer must not mistake for the edit."""
    drift = plan.drift
    if not drift:
        return []
    lines = [style(DRIFT_TITLE, "heading"), f"  {drift_intro(plan)}"]
    groups: dict[str | None, list[Change]] = {}
    for change in drift:
        groups.setdefault(change.collaborator, []).append(change)
    for collaborator, changes in groups.items():
        lines.append("  " + _group_title(plan, collaborator))
        lines.extend(_change_lines(changes, style, indent="    "))
    lines.append("")
    return lines


def problem_lines(plan: Plan, style: Style = plain, *, warnings: bool = True) -> list[str]:
    """The warnings and errors blocks (each followed by a blank line), or nothing."""
    lines: list[str] = []
    if warnings and plan.warnings:
        lines.append(style("Warnings:", "warning"))
        lines.extend(style(f"  ! {w}", "warning") for w in plan.warnings)
        lines.append("")
    if plan.errors:
        lines.append(style("Errors:", "error"))
        lines.extend(style(f"  x {e}", "error") for e in plan.errors)
        lines.append("")
    return lines


def render_text_summary(plan: Plan, *, style: Style = plain) -> str:
    """The quiet form (-q): only the errors, the gate's refusals and the summary line."""
    lines = [
        *_scope_lines(plan, style),
        *problem_lines(plan, style, warnings=False),
        *refusal_section(plan),
        style(summary_line(plan), "summary"),
    ]
    return "\n".join(lines) + "\n"


def _style_access(line: str, style: Style) -> str:
    if line and not line.startswith(" "):
        return style(line, "heading")
    if ": + " in line:
        return style(line, "create")
    if ": - " in line:
        return style(line, "delete")
    return line
