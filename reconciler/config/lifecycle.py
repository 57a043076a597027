"""Semantic checks and conversion for the lifecycle fields of collaborators.yaml: `expires`,
`status`, the `lifecycle:` and `audit:` blocks. Runs after the JSON Schema passed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from reconciler.config.yaml_source import SourceDocument
from reconciler.errors import ConfigProblem
from reconciler.model import (
    DEFAULT_AUDIT_PREFIX,
    DEFAULT_EXPIRY_WARNING_DAYS,
    AuditSettings,
    LifecycleSettings,
)

_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> date:
    return date.fromisoformat(text)


def lifecycle_problems(doc: SourceDocument) -> list[ConfigProblem]:
    """`expires` must be a real calendar date (the schema checks its shape and reports
    anything else, so only well-shaped text is looked at here)."""
    problems: list[ConfigProblem] = []
    entries = doc.data.get("collaborators") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        return problems
    for index, entry in enumerate(entries):
        text = entry.get("expires") if isinstance(entry, dict) else None
        if not isinstance(text, str) or not _DATE_SHAPE.fullmatch(text):
            continue
        try:
            parse_date(text)
        except ValueError:
            problems.append(
                doc.problem(
                    ("collaborators", index, "expires"),
                    f"{text!r} is not a calendar date: write YYYY-MM-DD, e.g. 2026-06-30",
                )
            )
    return problems


def lifecycle_settings(data: dict[str, Any]) -> LifecycleSettings:
    block = data.get("lifecycle") or {}
    return LifecycleSettings(
        expiry_warning_days=block.get("expiry_warning_days", DEFAULT_EXPIRY_WARNING_DAYS)
    )


def audit_settings(data: dict[str, Any]) -> AuditSettings:
    block = data.get("audit") or {}
    return AuditSettings(
        bucket=block.get("bucket"),
        prefix=block.get("prefix", DEFAULT_AUDIT_PREFIX),
        log=block.get("log"),
    )
