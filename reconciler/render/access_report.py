"""The access review (`reconcile report`) as text, CSV, JSON and Markdown: pure functions of a
Review. In Markdown, text from AWS (ARNs, names) is HTML-escaped, `|` included."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date, datetime
from typing import Any

from reconciler.reports.access_report import AccessKey, Review, Row

FORMAT_VERSION = 1
CSV_COLUMNS = (
    "id",
    "principal",
    "access_point",
    "folder",
    "levels",
    "status",
    "expires",
    "access_keys",
    "console_password",
    "last_apply",
    "flags",
)


def _day(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def key_json(key: AccessKey, today: date) -> dict[str, Any]:
    return {
        "id_suffix": key.suffix,
        "status": key.status,
        "created": _day(key.created),
        "age_days": (today - key.created.date()).days,
        "last_used": _day(key.last_used),
        "last_used_service": key.last_service,
    }


def key_text(key: AccessKey, today: date) -> str:
    doc = key_json(key, today)
    used = (
        f"last used {doc['last_used']}" + (f" ({key.last_service})" if key.last_service else "")
        if key.last_used
        else "never used"
    )
    return f"{key.suffix} {key.status}, {doc['age_days']} days old, {used}"


def password_text(row: Row) -> str:
    creds = row.credentials
    if creds is None:
        return ""
    if not creds.password:
        return "none"
    used = _day(creds.password_last_used)
    return f"yes, last used {used}" if used else "yes, never used"


def row_json(row: Row, today: date) -> dict[str, Any]:
    creds = row.credentials
    return {
        "id": row.id,
        "principal": row.principal,
        "access_point": row.access_point,
        "folder": row.folder,
        "levels": list(row.levels),
        "status": row.status,
        "expires": _day(row.expires),
        "access_keys": [key_json(k, today) for k in row.access_keys],
        "console_password": None
        if creds is None
        else {
            "present": creds.password,
            "last_used": _day(creds.password_last_used),
            "mfa_devices": creds.mfa_devices,
        },
        "last_apply": row.last_apply.to_json() if row.last_apply else None,
        "flags": [flag.to_json() for flag in row.flags],
    }


def render_report_json(review: Review) -> str:
    """A list of objects, one per collaborator (the stable contract, format_version 1 in each)."""
    rows = [{"format_version": FORMAT_VERSION, **row_json(r, review.today)} for r in review.rows]
    return json.dumps(rows, indent=2) + "\n"


def _cells(row: Row, today: date) -> list[str]:
    return [
        row.id,
        row.principal,
        row.access_point,
        row.folder,
        " ".join(row.levels) or "none",
        row.status,
        _day(row.expires) or "",
        "; ".join(key_text(k, today) for k in row.access_keys),
        password_text(row),
        row.last_apply.text() if row.last_apply else "",
        "; ".join(f.kind.value for f in row.flags),
    ]


def _inert(cell: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula (OWASP, "CSV Injection"):
    such a cell gets a leading apostrophe."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def render_report_csv(review: Review) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in review.rows:
        writer.writerow([_inert(cell) for cell in _cells(row, review.today)])
    return out.getvalue()


def summary_line(review: Review) -> str:
    count = len(review.rows)
    return (
        f"Access review of bucket {review.bucket} (account {review.account_id}) as of "
        f"{review.today}: {count} collaborator{'s' if count != 1 else ''}, "
        f"{review.flagged} flagged."
    )


def render_report_text(review: Review, *, flagged_only: bool = False) -> str:
    """Every row, or (-q) only the flagged ones under the same summary line."""
    lines = [summary_line(review), ""]
    for row in review.rows:
        if flagged_only and not row.flags:
            continue
        lines.append(f"{row.id}  [{row.status}]  {row.principal}")
        expiry = f", expires {row.expires}" if row.expires else ""
        lines.append(
            f"  access point {row.access_point}, folder {row.folder or '-'}, levels "
            f"{', '.join(row.levels) or 'none'}{expiry}"
        )
        lines.extend(f"  access key {key_text(k, review.today)}" for k in row.access_keys)
        if row.credentials is not None:
            if not row.access_keys:
                lines.append("  access keys: none")
            lines.append(f"  console password: {password_text(row)}")
        if row.last_apply:
            lines.append(f"  last apply: {row.last_apply.text()}")
        lines.extend(f"  ! {flag.kind.value}: {flag.detail}" for flag in row.flags)
        lines.append("")
    if not review.audit_trail:
        lines.append("No audit trail configured: the last apply per collaborator is not shown.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md(text: str) -> str:
    return html.escape(text).replace("|", "&#124;")


def render_report_markdown(review: Review) -> str:
    header = [
        "Collaborator",
        "Principal",
        "Access point / folder",
        "Levels",
        "Status",
        "Access keys",
        "Console password",
        "Last apply",
        "Flags",
    ]
    lines = [
        "### Access review",
        "",
        f"**{_md(summary_line(review))}**",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for row in review.rows:
        cells = _cells(row, review.today)
        status = row.status + (f" (expires {row.expires})" if row.expires else "")
        keys = "<br>".join(_md(key_text(k, review.today)) for k in row.access_keys)
        flags = "<br>".join(f"**{f.kind.value}**: {_md(f.detail)}" for f in row.flags)
        lines.append(
            "| "
            + " | ".join(
                [
                    _md(row.id),
                    _md(row.principal),
                    f"{_md(row.access_point)} {_md(row.folder)}",
                    _md(cells[4]),
                    _md(status),
                    keys or ("none" if row.credentials else ""),
                    _md(cells[8]),
                    _md(cells[9]),
                    flags,
                ]
            )
            + " |"
        )
    if not review.audit_trail:
        lines += ["", "No audit trail configured: the last apply per collaborator is not shown."]
    return "\n".join(lines) + "\n"


RENDERERS = {
    "text": render_report_text,
    "csv": render_report_csv,
    "json": render_report_json,
    "markdown": render_report_markdown,
}
