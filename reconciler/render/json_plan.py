"""The JSON plan: a stable contract other tools parse (format_version 1)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan import Plan

FORMAT_VERSION = 1


def plan_document(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "checksum": plan.checksum(),
        "summary": plan.summary(),
        "access_changes": [change.to_json() for change in plan.access_changes],
        "changes": [change.to_json() for change in plan.changes],
        "warnings": list(plan.warnings),
        "errors": list(plan.errors),
        "refusals": list(plan.refusals),
        # suspend / reactivate / adopt steps the changes amount to (display only)
        "lifecycle": [event.to_json() for event in plan.events],
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2) + "\n"
