"""`reconcile history` output: pure functions of audit records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.apply.audit import to_line

SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}


def _change_line(change: Mapping[str, Any], prefix: str = "") -> str:
    symbol = SYMBOLS.get(str(change.get("action")), "?")
    return f"    {prefix}{symbol} {change.get('type')} {change.get('id')}"


def _who(record: Mapping[str, Any]) -> str:
    github = record.get("github") or {}
    words = [f"by {record.get('caller_arn', '?')}"]
    if github.get("actor"):
        words.append(f"actor {github['actor']}")
    if github.get("sha"):
        words.append(f"commit {str(github['sha'])[:12]}")
    return ", ".join(words)


def record_lines(record: Mapping[str, Any], collaborator: str | None = None) -> list[str]:
    applied = record.get("applied") or []
    failures = record.get("failures") or []
    head = (
        f"{record.get('time')}  {record.get('outcome')}: {len(applied)} applied, "
        f"{len(failures)} failed; {_who(record)}; plan {str(record.get('plan_checksum'))[:12]}"
    )
    if record.get("only"):
        head += f"; targeted: --only {', '.join(str(i) for i in record['only'])}"
    lines = [head]
    if record.get("reason"):
        lines.append(f"    reason: {str(record['reason']).splitlines()[0]}")
    for event in record.get("lifecycle") or []:
        if collaborator in (None, event.get("collaborator")):
            lines.append(
                f"    {event.get('event')} {event.get('collaborator')}: {event.get('reason')}"
            )
    for change in applied:
        if collaborator in (None, change.get("collaborator")):
            lines.append(_change_line(change))
    for failure in failures:
        change = failure.get("change") or {}
        if collaborator in (None, change.get("collaborator")):
            rid = f", request id {failure['request_id']}" if failure.get("request_id") else ""
            lines.append(
                _change_line(change, "FAILED ") + f": {failure.get('code')}: "
                f"{failure.get('message')}{rid}"
            )
    return lines


def render_history(
    records: Sequence[Mapping[str, Any]], *, output_format: str, collaborator: str | None = None
) -> str:
    if output_format == "json":
        return "".join(to_line(r) + "\n" for r in records)
    if not records:
        return "No audit records.\n"
    if output_format == "markdown":
        return render_history_markdown(records, collaborator)
    lines: list[str] = []
    for record in records:
        lines.extend(record_lines(record, collaborator))
    return "\n".join(lines) + "\n"


def render_history_markdown(
    records: Sequence[Mapping[str, Any]], collaborator: str | None = None
) -> str:
    """One list item per apply, its changes nested; text from records is code-quoted so no
    value from AWS or the YAML is read as Markdown."""
    lines = ["### Audit trail", ""]
    for record in records:
        head, *details = record_lines(record, collaborator)
        lines.append(f"- {_code(head)}")
        lines.extend(f"  - {_code(detail.strip())}" for detail in details)
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"
