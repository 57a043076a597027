"""Semantic checks and conversion for the lifecycle fields of collaborators.yaml: `expires`,
`status`, the `lifecycle:` and `audit:` blocks. Runs after the JSON Schema passed."""

from __future__ import annotations

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


def parse_date(text: str) -> date:
    return date.fromisoformat(text)


def lifecycle_problems(doc: SourceDocument) -> list[ConfigProblem]:
    """`expires` must be a real calendar date (the schema only checks its shape)."""
    problems = []
    for index, entry in enumerate(doc.data.get("collaborators") or []):
        text = entry.get("expires")
        if text is None:
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
