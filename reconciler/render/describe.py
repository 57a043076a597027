"""Human-readable descriptions shared by the text and Markdown renderers: one line per policy
statement, statement-level policy diffs, and field-level value diffs (via deepdiff)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deepdiff import DeepDiff

from reconciler.model import ResourceType, is_our_statement
from reconciler.plan.changes import Action, Change

POLICY_TYPES = {
    ResourceType.BUCKET_POLICY,
    ResourceType.IAM_USER_POLICY,
    ResourceType.ACCESS_POINT_POLICY,
    ResourceType.KMS_KEY_POLICY,
    ResourceType.LOG_BUCKET_POLICY,
}


def _join(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _principal(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}:{_join(v)}" for k, v in value.items())
    return str(value)


def _conditions(value: Mapping[str, Any]) -> str:
    parts = []
    for operator, pairs in value.items():
        for key, expected in pairs.items():
            parts.append(f"{operator} {key}={_join(expected)}")
    return " and ".join(parts)


def statement_line(statement: Mapping[str, Any]) -> str:
    """`Sid: Allow AWS:arn s3:GetObject on arn... if StringLike s3:prefix=Alice/*`."""
    words = [str(statement.get("Effect", "?"))]
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            prefix = "not " if key == "NotPrincipal" else ""
            words.append(prefix + _principal(statement[key]))
    for key in ("Action", "NotAction"):
        if key in statement:
            words.append(("not " if key == "NotAction" else "") + _join(statement[key]))
    for key in ("Resource", "NotResource"):
        if key in statement:
            words.append(("on not " if key == "NotResource" else "on ") + _join(statement[key]))
    if "Condition" in statement:
        words.append("if " + _conditions(statement["Condition"]))
    return f"{_sid(statement)}: " + " ".join(words)


def _sid(statement: Mapping[str, Any]) -> str:
    return str(statement.get("Sid") or "(no Sid)")


def _keyed(document: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    result: dict[str, Mapping[str, Any]] = {}
    for statement in (document or {}).get("Statement", []):
        key = statement.get("Sid") or json.dumps(statement, sort_keys=True)
        result[str(key)] = statement
    return result


def policy_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """Statement-level diff lines: `+ stmt`, `- stmt`, `~ Sid` with its field changes."""
    old, new = _keyed(before), _keyed(after)
    lines: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            lines.append("- " + statement_line(old[key]))
        elif key not in old:
            lines.append("+ " + statement_line(new[key]))
        elif old[key] != new[key]:
            lines.append(f"~ {_sid(new[key])}:")
            lines.extend("    " + line for line in value_diff(old[key], new[key]))
    kept = [s for s in new.values() if not is_our_statement(s) and s == old.get(_key_of(s))]
    if kept and lines:
        noun = "statement" if len(kept) == 1 else "statements"
        lines.append(f"  ({len(kept)} {noun} not written by this tool kept unchanged)")
    return lines


def _key_of(statement: Mapping[str, Any]) -> str:
    return str(statement.get("Sid") or json.dumps(statement, sort_keys=True))


def value_diff(before: Any, after: Any) -> list[str]:
    """Field-level changes between two JSON-like values, one line each, sorted."""
    diff = DeepDiff(before, after, ignore_order=True, view="tree")
    lines: list[str] = []
    for report_type, items in diff.items():
        for item in items:
            path = _path(item.path(output_format="list"))
            if report_type.endswith("_added"):
                lines.append(f"{path}: + {_short(item.t2)}")
            elif report_type.endswith("_removed"):
                lines.append(f"{path}: - {_short(item.t1)}")
            else:
                lines.append(f"{path}: {_short(item.t1)} -> {_short(item.t2)}")
    return sorted(lines)


def _path(parts: list[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(value)"


def _short(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def value_lines(value: Any) -> list[str]:
    """A created resource's attributes, `key: value` per line."""
    if isinstance(value, Mapping):
        return [f"{k}: {_short(v)}" for k, v in value.items()]
    return [_short(value)]


def change_details(change: Change) -> list[str]:
    """What a reviewer needs to see under a change's headline."""
    if change.action is Action.DELETE:
        return []
    if change.type in POLICY_TYPES:
        return policy_diff(change.before, change.after)
    if change.action is Action.CREATE:
        return value_lines(change.after)
    lines = value_diff(change.before, change.after)
    if change.action is Action.REPLACE:
        lines = [f"{line}   (forces replacement)" for line in lines]
    return lines
