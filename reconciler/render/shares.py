"""One pull-request comment for the plans of many shares (one matrix job each): a table with every
share's outcome, then each share's own Markdown plan, the shares with changes first.

The comment stays under GitHub's limit: the table always covers every share; a share's plan that
no longer fits is replaced by one line pointing at that share's job summary, which holds it whole.
Share names and buckets come from file names and YAML: they are shown only as escaped code.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from reconciler.render.markdown import DEFAULT_MAX_CHARS, GITHUB_COMMENT_LIMIT

TITLE = "### Reconciler plan: every share"


class Outcome(IntEnum):
    """`reconcile plan --detailed-exitcode`'s exit codes, in the order a reviewer reads them."""

    CHANGES = 2
    REFUSED = 3
    ERROR = 1
    NO_CHANGES = 0

    @property
    def rank(self) -> int:
        return list(Outcome).index(self)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Outcome.CHANGES: "changes pending",
    Outcome.REFUSED: "refused by a safety rule",
    Outcome.ERROR: "failed",
    Outcome.NO_CHANGES: "no changes",
}


@dataclass(frozen=True)
class ShareResult:
    """What one share's plan job left: its matrix entry's name, file and bucket, the plan's exit
    code (None: the job never got to planning) and the Markdown it printed (None: none)."""

    name: str
    config: str
    bucket: str
    exit_code: int | None
    markdown: str | None

    @property
    def outcome(self) -> Outcome:
        if self.exit_code in {o.value for o in Outcome}:
            return Outcome(self.exit_code)
        return Outcome.ERROR


def render_shares(results: Sequence[ShareResult], *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    ordered = sorted(results, key=lambda r: (r.outcome.rank, r.name))
    head = _head(ordered)
    parts = [head]
    used = len(head)
    left_out = []
    for result in ordered:
        section = _section(result)
        if used + len(section) + _NOTE_RESERVE <= max_chars:
            parts.append(section)
            used += len(section)
        else:
            pointer = _pointer(result)
            parts.append(pointer)
            used += len(pointer)
            left_out.append(result.name)
    if left_out:
        parts.append(_note(len(left_out), len(ordered)))
    return "\n".join(parts)


_NOTE_RESERVE = 400


def _head(results: Sequence[ShareResult]) -> str:
    counts = {o: sum(1 for r in results if r.outcome is o) for o in Outcome}
    summary = ", ".join(f"{n} {o.label}" for o, n in counts.items() if n)
    lines = [
        TITLE,
        "",
        f"{len(results)} share{'s' if len(results) != 1 else ''}: {summary or 'none planned'}.",
        "",
        "| share | file | bucket | plan |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {_code(r.name)} | {_code(r.config)} | {_code(r.bucket)} | {r.outcome.label} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def _section(result: ShareResult) -> str:
    opened = " open" if result.outcome is not Outcome.NO_CHANGES else ""
    body = result.markdown.strip() if result.markdown else _missing(result)
    return (
        f"<details{opened}><summary><code>{html.escape(result.name)}</code>: "
        f"{result.outcome.label}</summary>\n\n{body}\n\n</details>\n"
    )


def _missing(result: ShareResult) -> str:
    if result.exit_code is None:
        return "The job stopped before it could plan: see its log."
    return "The plan printed nothing: see the job's log."


def _pointer(result: ShareResult) -> str:
    return (
        f"- {_code(result.name)}: {result.outcome.label}; its plan did not fit in this comment: "
        "see the job summary of that share's job.\n"
    )


def _note(left_out: int, total: int) -> str:
    return (
        "> [!WARNING]\n"
        f"> **Output truncated** to fit GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment "
        f"limit: the plans of {left_out} of {total} shares are not shown here. The table covers "
        "every share; each share's job summary holds its whole plan.\n"
    )


def _code(text: str) -> str:
    """An inline code span that nothing inside can close or turn into a table cell break (Markdown
    and HTML are not interpreted inside a code span)."""
    clean = text.replace("`", "'").replace("|", "/").replace("\n", " ").replace("\r", " ")
    return f"`{clean}`" if clean else "(unknown)"
