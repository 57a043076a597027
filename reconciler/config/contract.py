"""The JSON Schema of collaborators.yaml: where it is read from, its validator, subschemas."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

from jsonschema import Draft202012Validator

from reconciler.config.yaml_source import Path

SCHEMA_NAME = "collaborators.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The schema ships inside the wheel; in a source checkout it is read from schema/."""
    packaged = resources.files("reconciler.config").joinpath(SCHEMA_NAME)
    if packaged.is_file():
        return dict(json.loads(packaged.read_text()))
    source = FilePath(__file__).resolve().parents[2] / "schema" / SCHEMA_NAME
    return dict(json.loads(source.read_text()))


@cache
def validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def field_schema(path: Path) -> dict[str, Any] | None:
    """The subschema that describes the value at an instance path (None if there is none)."""
    node: Any = schema()
    for part in path:
        node = _deref(node)
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
        if not isinstance(node, dict):
            return None
    return _deref(node)


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema()["$defs"][ref.removeprefix("#/$defs/")])
    return node


def accepts(path: Path, value: Any) -> bool:
    """Would this value be valid at this path?"""
    field = field_schema(path)
    return field is not None and validator().evolve(schema=field).is_valid(value)
