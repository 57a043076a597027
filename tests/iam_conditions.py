"""Condition operators as the IAM User Guide defines them, for the small test evaluators of
tests/test_iam_policy.py and tests/test_boundary.py (the independent one is
@cloud-copilot/iam-simulate, tests/oracle).

IAM User Guide, "IAM JSON policy elements: Condition operators" and "Single-valued vs.
multivalued context keys": a key missing from the request matches no StringEquals and every
StringNotEquals; ...IfExists is true when the key is missing; ForAllValues is true when the
key is missing or every value matches; ForAnyValue is false when the key is missing. Context
values are strings, or lists of strings for multivalued keys (aws:TagKeys). Any other operator
fails closed (an Allow does not apply, a Deny does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Context = Mapping[str, str | list[str]]
SUPPORTED = ("StringEquals", "StringNotEquals", "Bool")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _base(operator: str, value: str, wanted: list[Any]) -> bool:
    if operator == "Bool":
        return value.lower() in [str(w).lower() for w in wanted]
    equal = value in wanted
    return equal if operator == "StringEquals" else not equal


def key_met(operator: str, key: str, wanted: Any, context: Context) -> bool | None:
    """True / False, or None for an operator this evaluator does not know."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    if name not in SUPPORTED:
        return None
    wanted = _as_list(wanted)
    if key not in context:
        if if_exists or qualifier == "ForAllValues":
            return True
        return name == "StringNotEquals" and not qualifier
    values = _as_list(context[key])
    if qualifier == "ForAllValues":
        return all(_base(name, v, wanted) for v in values)
    if qualifier == "ForAnyValue":
        return any(_base(name, v, wanted) for v in values)
    if name == "StringNotEquals":
        return all(_base(name, v, wanted) for v in values)
    return any(_base(name, v, wanted) for v in values)


def conditions_met(condition: Mapping[str, Any] | None, context: Context, *, deny: bool) -> bool:
    for operator, keys in (condition or {}).items():
        for key, wanted in keys.items():
            met = key_met(operator, key, wanted, context)
            if met is None:
                return deny  # fail closed
            if not met:
                return False
    return True
