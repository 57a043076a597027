"""The Markdown plan for pull-request comments and job summaries: a pure function of a Plan.

Layout: the summary line and a table of counts per resource kind, then access changes (what a
reviewer must see first), errors, warnings, and one collapsible section per collaborator. The
result is kept under a character budget (GitHub rejects comments over 65,536 characters): the
head is always shown, sections that do not fit are left out whole, and a note says what was left
out. Text that comes from AWS (names, tags, foreign policy statements) is only ever placed in
code blocks or HTML-escaped, so it cannot inject Markdown, HTML or @-mentions.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.apply.executor import ApplyResult
from reconciler.model import ResourceType
from reconciler.plan.changes import Action, Change, Plan
from reconciler.render.access import access_change_lines
from reconciler.render.describe import change_details
from reconciler.render.review import DRIFT_TITLE, drift_intro, scope_note
from reconciler.render.text import change_headline, summary_line

# GitHub's limit for an issue or pull-request comment body is 65,536 characters. Stay well under
# it so the workflow can add its hidden marker and a header line.
GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_MAX_CHARS = 60_000
# Room kept free for the truncation note while sections are added.
_NOTE_RESERVE = 600
TITLE = "### Reconciler plan"
APPLY_TITLE = "### Reconciler apply"
_ACTIONS = tuple(Action)


@dataclass
class _Budget:
    """Collects blocks of text while they fit; counts what did not."""

    limit: int
    parts: list[str] = field(default_factory=list)
    used: int = 0
    omitted: dict[str, int] = field(default_factory=dict)

    def add(self, block: str) -> None:
        self.parts.append(block)
        self.used += len(block)

    def fits(self, block: str, reserve: int) -> bool:
        return self.used + len(block) + reserve <= self.limit

    def omit(self, what: str, count: int = 1) -> None:
        self.omitted[what] = self.omitted.get(what, 0) + count


def render_markdown(plan: Plan, *, max_chars: int = DEFAULT_MAX_CHARS, title: str = TITLE) -> str:
    """The plan as GitHub-flavoured Markdown of at most `max_chars` characters."""
    budget = _Budget(limit=max_chars)
    budget.add(_head(plan, title))
    reserve = _NOTE_RESERVE
    # access changes come first but may use at most half the comment: details need room too
    half = max(reserve, budget.limit // 2)
    _add_drift(budget, plan, half)
    _add_list(budget, "#### Access changes", access_change_lines(plan), "access changes", half)
    _add_list(
        budget,
        "#### Refused by the security gate (no override)",
        plan.refusals,
        "refusals",
        reserve,
    )
    events = [event.line() for event in plan.events]
    _add_list(
        budget, "#### Lifecycle (suspend, reactivate, adopt)", events, "lifecycle events", reserve
    )
    _add_list(budget, "#### Errors", plan.errors, "errors", reserve)
    _add_list(budget, "#### Warnings", plan.warnings, "warnings", reserve)
    groups = plan.by_collaborator(without_drift=True)
    if groups:
        budget.add("#### Details\n\n")
    for collaborator, changes in groups.items():
        # once one section is left out, all later ones are too: what is shown stays in order
        if budget.omitted.get("collaborator sections"):
            budget.omit("collaborator sections")
            continue
        block = collaborator_section(collaborator, changes)
        if budget.fits(block, reserve):
            budget.add(block)
        else:
            budget.omit("collaborator sections")
    if budget.omitted:
        budget.add(truncation_note(budget.omitted, total_sections=len(groups)))
    return "".join(budget.parts)


# --- head: summary line and counts ------------------------------------------------------------


def _head(plan: Plan, title: str) -> str:
    lines = [title, "", f"**{summary_line(plan)}**", ""]
    if plan.scope:
        lines.extend([f"> [!NOTE]\n> {html.escape(scope_note(plan))}", ""])
    if not plan.is_empty:
        lines.extend(summary_table(plan.changes))
        lines.append("")
    return "\n".join(lines) + "\n"


def summary_table(changes: Sequence[Change]) -> list[str]:
    """Counts per resource kind (rows) and action (columns); bounded in size by design."""
    counts: dict[ResourceType, dict[Action, int]] = {}
    for change in changes:
        row = counts.setdefault(change.type, dict.fromkeys(_ACTIONS, 0))
        row[change.action] += 1
    header = "| Resource | " + " | ".join(a.value.capitalize() for a in _ACTIONS) + " |"
    rule = "| --- |" + " ---: |" * len(_ACTIONS)
    rows = [
        f"| `{rtype.value}` | " + " | ".join(str(row[a]) for a in _ACTIONS) + " |"
        for rtype, row in sorted(counts.items(), key=lambda item: item[0].rank)
    ]
    totals = [sum(row[a] for row in counts.values()) for a in _ACTIONS]
    rows.append("| **Total** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    return [header, rule, *rows]


# --- lists and sections -----------------------------------------------------------------------


def _add_drift(budget: _Budget, plan: Plan, reserve: int) -> None:
    """Changes made outside the tool, in their own section before anything else."""
    lines = [line for change in plan.drift for line in change_diff_lines(change)]
    heading = f"#### {DRIFT_TITLE}\n\n{html.escape(drift_intro(plan))}"
    _add_list(budget, heading, lines, "drift lines", reserve, bullet="", lang="diff")


def _add_list(
    budget: _Budget,
    heading: str,
    items: Sequence[str],
    what: str,
    reserve: int,
    *,
    bullet: str = "- ",
    lang: str = "text",
) -> None:
    """A heading and a fenced list, item by item while they fit."""
    if not items:
        return
    lines = [f"{bullet}{item}" for item in items]
    fence = _fence(lines)
    opening, closing = f"{heading}\n\n{fence}{lang}\n", f"{fence}\n\n"
    if not budget.fits(opening + lines[0] + "\n" + closing, reserve):
        budget.omit(what, len(items))
        return
    budget.add(opening)
    for index, line in enumerate(lines):
        if not budget.fits(line + "\n" + closing, reserve):
            budget.omit(what, len(lines) - index)
            break
        budget.add(line + "\n")
    budget.add(closing)


def collaborator_section(collaborator: str | None, changes: Sequence[Change]) -> str:
    """A collapsible section: the summary names the collaborator and counts, the body is a diff."""
    name = (
        "Bucket settings" if collaborator is None else f"<code>{html.escape(collaborator)}</code>"
    )
    body = [line for change in changes for line in change_diff_lines(change)]
    fence = _fence(body)
    return (
        f"<details><summary>{name}: {_counts(changes)}</summary>\n\n"
        f"{fence}diff\n" + "\n".join(body) + f"\n{fence}\n\n</details>\n\n"
    )


def change_diff_lines(change: Change) -> list[str]:
    """Headline and details, with + and - in the first column so GitHub colours them."""
    lines = [change_headline(change)]
    for detail in change_details(change):
        if detail[:2] in ("+ ", "- "):
            lines.append(f"{detail[0]}     {detail[2:]}")
        else:
            lines.append(f"      {detail}")
    return lines


def _counts(changes: Sequence[Change]) -> str:
    words = []
    for action in _ACTIONS:
        count = sum(1 for c in changes if c.action is action)
        if count:
            words.append(f"{count} to {action.value}")
    return ", ".join(words)


def _fence(lines: Sequence[str]) -> str:
    """A backtick fence longer than any backtick run in the content, so it cannot be closed."""
    longest = 0
    for line in lines:
        run = 0
        for char in line:
            run = run + 1 if char == "`" else 0
            longest = max(longest, run)
    return "`" * max(3, longest + 1)


# --- truncation -------------------------------------------------------------------------------


def truncation_note(omitted: dict[str, int], *, total_sections: int) -> str:
    parts = []
    for what, count in omitted.items():
        if what == "collaborator sections":
            parts.append(f"{count} of {total_sections} collaborator sections")
        else:
            parts.append(f"{count} {what}")
    return (
        "> [!WARNING]\n"
        f"> **Output truncated** to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment "
        f"limit: {', '.join(parts)} not shown. The counts above cover the whole plan; run "
        "`reconcile plan` to see every change.\n"
    )


# --- apply report -----------------------------------------------------------------------------


def render_apply_markdown(
    plan: Plan,
    result: ApplyResult | None,
    *,
    converged: bool,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """What an apply changed (or that nothing drifted), for a workflow's run summary."""
    if (result is None or plan.is_empty) and plan.scope:
        return f"{APPLY_TITLE}\n\n**{summary_line(plan)}** {scope_note(plan)}\n"
    if result is None or plan.is_empty:
        matches = f"Live state matches {plan.source}; nothing changed."
        return f"{APPLY_TITLE}\n\n**No drift.** {matches}\n"
    outcome = [
        f"**{len(result.applied)} applied, {len(result.failures)} failed, "
        f"{len(result.skipped)} skipped.** "
        + (
            "Converged: a fresh plan finds no changes."
            if converged
            else "Not converged: a fresh plan still finds changes; see the log."
        ),
        "",
    ]
    if result.failures:
        lines = [f"- {_failure_text(f.change, f.code, f.message)}" for f in result.failures]
        fence = _fence(lines)
        outcome += ["#### Failures", "", f"{fence}text", *lines, fence, ""]
    head = f"{APPLY_TITLE}\n\n" + "\n".join(outcome) + "\n"
    changes = render_markdown(
        plan, max_chars=max(max_chars - len(head), 1000), title="#### Changes"
    )
    return head + changes


def _failure_text(change: Change, code: str, message: str) -> str:
    return f"{change_headline(change)}: {code}: {message}"
