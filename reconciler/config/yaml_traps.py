"""YAML's surprises, explained where they bite.

PyYAML reads YAML 1.1: unquoted `no`, `on`, `off`, `yes` are booleans, `012` is octal, and
`2024-01-01` is a date. Other tools (editors, formatters, yq) read YAML 1.2, where `0123` is
the number 123. Either way, a value meant as text must be quoted.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from reconciler.config.yaml_source import Path, Scalar, SourceDocument
from reconciler.errors import ConfigProblem

# YAML 1.2 core schema numbers (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_YAML12_NUMBER = re.compile(
    r"[-+]?(0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+|(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)"
)


def type_hint(scalar: Scalar | None, value: Any) -> str | None:
    """Why an unquoted scalar is not text, and how to write it, or None if no trap applies."""
    if scalar is None or not scalar.plain or isinstance(value, str) or scalar.text == "":
        return None
    what = _what_yaml_read(scalar.text, value)
    return f"{scalar.text} is read as {what}, not text: quote it: {json.dumps(scalar.text)}"


def _what_yaml_read(text: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (YAML 1.1)"
    if isinstance(value, int) and re.fullmatch(r"[-+]?0[0-7_]+", text):
        return f"the octal number {value} (YAML 1.1 reads a leading 0 as octal)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime.date):
        return "a date"
    if value is None:
        return "no value (null)"
    return type(value).__name__


def ambiguous_problems(doc: SourceDocument) -> list[ConfigProblem]:
    """Unquoted text that YAML 1.2 tools would read as a number (and PyYAML kept as text)."""
    problems = []
    for path, scalar in doc.scalars.items():
        if scalar.plain and _YAML12_NUMBER.fullmatch(scalar.text) and _is_text(doc.data, path):
            problems.append(doc.problem(path, _ambiguous_message(scalar.text)))
    return problems


def _ambiguous_message(text: str) -> str:
    lost = " and drop the leading zero" if re.match(r"[-+]?0[0-9]", text) else ""
    return (
        f"{text} is unquoted: YAML 1.2 tools read it as a number{lost}; "
        f"quote it: {json.dumps(text)}"
    )


def _is_text(data: Any, path: Path) -> bool:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(data, str)
