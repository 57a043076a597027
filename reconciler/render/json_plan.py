"""The JSON plan: a stable contract other tools parse (format_version 1)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.changes import Change, Plan

FORMAT_VERSION = 1


def change_document(change: Change) -> dict[str, Any]:
    """A change as the checksum sees it, plus its origin ("edit" or "drift") when it is known."""
    doc = change.to_json()
    if change.origin is not None:
        doc["origin"] = change.origin.value
    return doc


def plan_document(plan: Plan) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "checksum": plan.checksum(),
        "summary": plan.summary(),
        "access_changes": [change.to_json() for change in plan.access_changes],
        "changes": [change_document(change) for change in plan.changes],
        "warnings": list(plan.warnings),
        "errors": list(plan.errors),
        "refusals": list(plan.refusals),
        # suspend / reactivate / adopt steps the changes amount to (display only)
        "lifecycle": [event.to_json() for event in plan.events],
    }
    if plan.origin_basis:
        doc["origin_basis"] = plan.origin_basis
    if plan.scope:  # a targeted run (--only): what was planned, how many changes were not
        doc["only"] = list(plan.scope)
        doc["not_planned"] = plan.not_planned
    return doc


def render_json(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2) + "\n"
