"""How values are shown in messages."""

from __future__ import annotations

import datetime
from typing import Any

MAX_SHOWN = 60


def show(value: Any) -> str:
    """A value as the message shows it: text in quotes (long text shortened), true/false/null
    as YAML writes them."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return f"{value[: MAX_SHOWN - 20]!r}... ({len(value):,} characters)"
    return repr(value)


def describe(value: Any) -> str:
    """What a YAML value turned out to be, in words."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return f"the text {show(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
