"""Colour for terminal output, as a function the renderers take: `plain` (no colour) or `ansi`.

Whether to colour is decided by the command line (terminal, NO_COLOR, --no-color), never here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

Style = Callable[[str, str], str]

_ROLES: dict[str, dict[str, Any]] = {
    "create": {"fg": "green"},
    "update": {"fg": "yellow"},
    "replace": {"fg": "magenta"},
    "delete": {"fg": "red"},
    "heading": {"bold": True},
    "summary": {"bold": True},
    "warning": {"fg": "yellow"},
    "error": {"fg": "red", "bold": True},
    "ok": {"fg": "green", "bold": True},
}
_DIFF_ROLES = {"+": "create", "-": "delete", "~": "update"}


def plain(text: str, role: str) -> str:
    return text


def ansi(text: str, role: str) -> str:
    return click.style(text, **_ROLES[role])


def diff_line(text: str, style: Style) -> str:
    """Colour a detail line by its leading marker (`+`, `-`, `~`); other lines stay plain."""
    role = _DIFF_ROLES.get(text[:1]) if text[1:2] == " " else None
    return style(text, role) if role else text
