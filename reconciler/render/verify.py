"""`reconcile verify` output: a collaborator x check matrix (text), JSON and Markdown. Pure
functions of a VerifyReport."""

from __future__ import annotations

import json
from typing import Any

from reconciler.access.checks import (
    MORE_CHECKS,
    SEED_CHECKS,
    Check,
    Finding,
    Status,
    VerifyReport,
)

FORMAT_VERSION = 1
_SEED_NUMBER = {check: index for index, check in enumerate(SEED_CHECKS, start=1)}
# What the checks are, in the reader's words: 1-5 are what one would try by hand, signed in as
# the collaborator; the others go further.
CHECKS_INTRO = (
    "What each check tests, for every collaborator (1-5: what you would try by hand, signed in "
    "as the collaborator):"
)
_CELL = {Status.OK: "ok", Status.FAIL: "FAIL", Status.UNKNOWN: "unknown", Status.NA: "n/a"}
_MARK = {Status.FAIL: "FAIL", Status.UNKNOWN: "UNKNOWN"}


def header(check: Check) -> str:
    number = _SEED_NUMBER.get(check)
    return f"{number}.{check.value}" if number else check.value


def title(report: VerifyReport) -> str:
    what = (
        "the state collaborators.yaml would produce (offline)"
        if report.source == "desired"
        else "live state"
    )
    return f"Verified bucket {report.bucket} (account {report.account}, {report.region}): {what}"


def summary(report: VerifyReport) -> str:
    size = f"{len(report.rows)} collaborator(s) x {len(Check)} checks, "
    size += f"{len(report.bucket_checks)} bucket checks, {report.evaluations} requests evaluated"
    if report.ok:
        return f"All checks hold: {size}."
    return f"{report.violations} violation(s), {report.unknowns} unknown: {size}."


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render_verify_text(report: VerifyReport, *, quiet: bool = False) -> str:
    """quiet (-q): only the findings that fail or are unknown, and the summary line."""
    if quiet:
        marked = [f"{_MARK[f.status]}: {f.message}" for f in report.findings if f.status in _MARK]
        return "\n".join([*marked, summary(report)]) + "\n"
    lines = [title(report), "", "Bucket"]
    lines += [f"  {_CELL[b.status]:<7} {b.name.value:<20} {b.detail}" for b in report.bucket_checks]
    lines.append("")
    table = [["collaborator", *(header(c) for c in Check)]]
    table += [
        [row.collaborator, *(_CELL[status] for _, status in row.cells)] for row in report.rows
    ]
    lines += _table(table)
    lines += ["", CHECKS_INTRO]
    lines += [f"  {header(c):<15} {text}" for c, text in SEED_CHECKS.items()]
    lines += [f"  {header(c):<15} {text}" for c, text in MORE_CHECKS.items()]
    problems = [f for f in report.findings if f.status in _MARK]
    if problems:
        lines += ["", "Findings:"]
        lines += [f"  {_MARK[f.status]}: {f.message}" for f in problems]
    if report.assumptions:
        lines += ["", "Depends on partner accounts:"]
        lines += [f"  - {note}" for note in report.assumptions]
    lines += _analyzer_text(report)
    lines += ["", summary(report)]
    return "\n".join(lines) + "\n"


def _analyzer_text(report: VerifyReport) -> list[str]:
    if report.analyzer is None and report.analyzer_note is None:
        return []
    lines = ["", "IAM Access Analyzer (ValidatePolicy):"]
    if report.analyzer_note:
        lines.append(f"  {report.analyzer_note}")
    for finding in report.analyzer or ():
        lines.append(
            f"  {finding.finding_type}: {finding.policy}: {finding.issue_code}: {finding.details}"
        )
    if report.analyzer is not None and not report.analyzer:
        lines.append("  no findings")
    return lines


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "collaborator": finding.collaborator,
        "check": finding.check,
        "status": finding.status.value,
        "principal": finding.principal,
        "message": finding.message,
        "statements": list(finding.statements),
    }


def verify_document(report: VerifyReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "source": report.source,
        "bucket": report.bucket,
        "account": report.account,
        "region": report.region,
        "ok": report.ok,
        "violations": report.violations,
        "unknowns": report.unknowns,
        "evaluations": report.evaluations,
        "checks": [
            {
                "name": c.value,
                "seed": _SEED_NUMBER.get(c),
                "description": SEED_CHECKS.get(c) or MORE_CHECKS[c],
            }
            for c in Check
        ],
        "bucket_checks": [
            {"name": b.name.value, "status": b.status.value, "detail": b.detail}
            for b in report.bucket_checks
        ],
        "collaborators": [
            {"id": row.collaborator, "checks": {c.value: s.value for c, s in row.cells}}
            for row in report.rows
        ],
        "findings": [_finding_json(f) for f in report.findings],
        "assumptions": list(report.assumptions),
        "access_analyzer": None
        if report.analyzer is None and report.analyzer_note is None
        else {
            "note": report.analyzer_note,
            "findings": [
                {
                    "policy": a.policy,
                    "finding_type": a.finding_type,
                    "issue_code": a.issue_code,
                    "details": a.details,
                    "learn_more": a.learn_more,
                }
                for a in report.analyzer or ()
            ],
        },
    }


def render_verify_json(report: VerifyReport) -> str:
    return json.dumps(verify_document(report), indent=2) + "\n"


def _md_cell(status: Status) -> str:
    return f"**{_CELL[status]}**" if status is Status.FAIL else _CELL[status]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_verify_markdown(report: VerifyReport) -> str:
    lines = [f"### {title(report)}", "", f"**{summary(report)}**", ""]
    lines += ["| bucket check | status | detail |", "| --- | --- | --- |"]
    lines += [
        f"| {b.name.value} | {_md_cell(b.status)} | {_md_escape(b.detail)} |"
        for b in report.bucket_checks
    ]
    lines += ["", "| collaborator | " + " | ".join(header(c) for c in Check) + " |"]
    lines.append("| --- " * (len(Check) + 1) + "|")
    lines += [
        f"| {row.collaborator} | " + " | ".join(_md_cell(s) for _, s in row.cells) + " |"
        for row in report.rows
    ]
    lines += ["", CHECKS_INTRO, ""]
    lines += [
        f"{n}. `{c.value}`: {text}" for c, text in SEED_CHECKS.items() for n in (_SEED_NUMBER[c],)
    ]
    problems = [f for f in report.findings if f.status in _MARK]
    if problems:
        lines += ["", "#### Findings", ""]
        lines += [f"- **{_MARK[f.status]}** {_md_escape(f.message)}" for f in problems]
    if report.assumptions:
        lines += ["", "#### Depends on partner accounts", ""]
        lines += [f"- {_md_escape(note)}" for note in report.assumptions]
    analyzer = _analyzer_text(report)
    if analyzer:
        lines += ["", "#### IAM Access Analyzer", ""]
        lines += [f"- {_md_escape(line.strip())}" for line in analyzer[2:]]
    return "\n".join(lines) + "\n"
