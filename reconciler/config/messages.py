"""Turns one JSON Schema failure into findings a person can act on.

The wording of each rule lives in the schema itself (`patternErrorMessage`, `errorMessage`,
the keywords editors show too); this module adds the value, the place and a fix: "did you
mean ...?" is offered only for a candidate that the same schema accepts.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError

from reconciler.config.contract import accepts, field_schema, validator
from reconciler.config.phi import personal_data
from reconciler.config.wording import describe, show
from reconciler.config.yaml_source import Path, SourceDocument
from reconciler.config.yaml_traps import type_hint

TYPE_NAMES = {
    "string": "text",
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


@dataclass(frozen=True)
class Finding:
    """kind: "type" (hides other findings of the same value), "rule" (merged per value into
    "<value> <rule> and <rule> (did you mean ...?)"), or "plain" (text is the whole message)."""

    path: Path
    kind: str
    text: str
    value: Any = None
    suggestion: Any = None


def did_you_mean(word: str, options: list[str], cutoff: float = 0.6) -> str | None:
    """The closest option (ties go to the one listed first), if any is close enough."""
    lowered = word.lower()
    scored = [
        (difflib.SequenceMatcher(None, lowered, o.lower()).ratio(), -i, o)
        for i, o in enumerate(options)
    ]
    best = max(scored, default=None)
    return best[2] if best is not None and best[0] >= cutoff else None


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _value(error: ValidationError) -> Any:
    return error.instance


def _expected(error: ValidationError) -> Any:
    return error.validator_value


def explain(error: ValidationError, doc: SourceDocument) -> list[Finding]:
    path = tuple(error.absolute_path)
    handler = _HANDLERS.get(str(error.validator), _fallback)
    return handler(error, path, doc)


Handler = Callable[[ValidationError, Path, SourceDocument], list[Finding]]


def _additional(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    allowed = list(_schema_of(error).get("properties", {}))
    findings = []
    for key in _value(error):
        if key in allowed:
            continue
        match = did_you_mean(str(key), allowed)
        hint = f" (did you mean {match!r}?)" if match else f"; allowed here: {', '.join(allowed)}"
        findings.append(Finding((*path, key), "plain", f"unknown key {key!r}{hint}"))
    return findings


def _required(error: ValidationError, path: Path, doc: SourceDocument) -> list[Finding]:
    findings = []
    for key in _expected(error):
        if key in _value(error):
            continue
        findings.append(Finding(path, "plain", f"missing required key {key!r}{_why(error, key)}"))
    return findings


def _why(error: ValidationError, key: str) -> str:
    """A conditional subschema (if/then) says why; otherwise show an example value."""
    if "properties" not in _schema_of(error) and "errorMessage" in _schema_of(error):
        return f": {_schema_of(error)['errorMessage']}"
    field = field_schema((*tuple(error.absolute_path), key)) or {}
    example = (field.get("examples") or [None])[0]
    if isinstance(example, str) and not isinstance(_yaml_value(example), str):
        example = json.dumps(example)  # "123456789012": unquoted, YAML reads a number
    if isinstance(example, dict):
        example = "{" + ", ".join(f"{k}: {v}" for k, v in example.items()) + "}"
    if isinstance(example, str | int):
        return f" (for example {key}: {example})"
    return ""


def _yaml_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _or_remove(path: Path) -> str:
    """Removing an empty key is a fix only where the key is optional."""
    parent = field_schema(path[:-1]) or {}
    required = path and path[-1] in parent.get("required", ())
    return "" if required else " or remove the key"


def _type(error: ValidationError, path: Path, doc: SourceDocument) -> list[Finding]:
    value = _value(error)
    expected = _expected(error)
    names = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(TYPE_NAMES.get(n, n) for n in names)
    scalar = doc.scalars.get(path)
    trap = type_hint(scalar, value) if "string" in names else None
    if trap is not None and scalar is not None:
        return [Finding(path, "type", trap + _even_quoted(path, scalar.text, doc))]
    if value is None:
        return [Finding(path, "type", f"is empty: give {wanted}{_or_remove(path)}")]
    text = f"must be {wanted}, not {describe(value)}"
    if "array" in names and isinstance(value, str) and accepts(path, [value]):
        text += f" (write it as a list: [{value}])"
    elif "array" in names and isinstance(value, dict):
        text += " (start each entry with '- ')"
    return [Finding(path, "type", text)]


def _even_quoted(path: Path, text: str, doc: SourceDocument) -> str:
    """The rules the value would still break once quoted."""
    field = field_schema(path)
    if field is None:
        return ""
    rules = [
        finding.text
        for error in validator().evolve(schema=field).iter_errors(text)
        for finding in _HANDLERS.get(str(error.validator), _fallback)(error, path, doc)
        if finding.kind == "rule"
    ]
    return f"; even quoted, {show(text)} {' and '.join(rules)}" if rules else ""


def _enum(error: ValidationError, path: Path, doc: SourceDocument) -> list[Finding]:
    value = _value(error)
    options = [o for o in _expected(error) if isinstance(o, str)]
    trap = _quoted_would_pass(path, value, doc)
    if trap is not None:
        return [Finding(path, "plain", trap)]
    rule = _schema_of(error).get("errorMessage") or "is not one of " + ", ".join(options)
    suggestion = suggest(path, value)
    if suggestion is None and isinstance(value, str):
        suggestion = did_you_mean(value, options, cutoff=0.85)
    return [Finding(path, "rule", rule, value, suggestion)]


def _const(error: ValidationError, path: Path, doc: SourceDocument) -> list[Finding]:
    rule = _schema_of(error).get("errorMessage") or f"must be {_expected(error)!r}"
    return [Finding(path, "rule", rule, _value(error))]


def _quoted_would_pass(path: Path, value: Any, doc: SourceDocument) -> str | None:
    scalar = doc.scalars.get(path)
    if scalar is None or isinstance(value, str) or not accepts(path, scalar.text):
        return None
    return type_hint(scalar, value)


def _pattern(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    rule = _schema_of(error).get("patternErrorMessage") or f"must match {_expected(error)}"
    return [Finding(path, "rule", rule, _value(error), suggest(path, _value(error)))]


def _not(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    rule = str(_schema_of(error).get("errorMessage") or "is not allowed here")
    forbidden = _expected(error).get("required") if isinstance(_expected(error), dict) else None
    if forbidden and isinstance(_value(error), dict):
        return [Finding((*path, forbidden[0]), "plain", rule)]
    return [Finding(path, "rule", rule, _value(error), suggest(path, _value(error)))]


def _length(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    limit = _expected(error)
    value = _value(error)
    if error.validator == "minLength":
        rule = f"is too short: at least {limit} character{'s' if limit != 1 else ''}"
    else:
        rule = f"is {len(value):,} characters long: at most {limit}"
    return [Finding(path, "rule", rule, value, suggest(path, value))]


def _min_items(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    items = (field_schema(path) or {}).get("items", {})
    options = items.get("enum") if isinstance(items, dict) else None
    what = f" of {', '.join(options)}" if options else ""
    return [Finding(path, "plain", f"is an empty list: list at least one{what}")]


def _unique(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    seen: list[Any] = []
    findings = []
    for index, item in enumerate(_value(error)):
        if item in seen:
            findings.append(Finding((*path, index), "plain", f"{show(item)} is listed twice"))
        else:
            seen.append(item)
    return findings


def _one_of(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    return [Finding(path, "plain", str(_schema_of(error).get("errorMessage") or error.message))]


def _fallback(error: ValidationError, path: Path, _: SourceDocument) -> list[Finding]:
    return [Finding(path, "plain", str(error.message))]


_HANDLERS: dict[str, Handler] = {
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "not": _not,
    "minLength": _length,
    "maxLength": _length,
    "minItems": _min_items,
    "uniqueItems": _unique,
    "oneOf": _one_of,
    "anyOf": _one_of,
}


# --- did you mean ----------------------------------------------------------------------------


def suggest(path: Path, value: Any) -> str | None:
    """The first simple repair of a text value that the schema accepts and that holds no
    personal data."""
    if not isinstance(value, str):
        return None
    for candidate in _candidates(value):
        if candidate != value and accepts(path, candidate) and personal_data(candidate) is None:
            return candidate
    return None


def _candidates(value: str) -> Iterator[str]:
    text = value.strip()
    yield text
    yield text + "/"
    inner = text.strip("/")
    yield inner + "/"
    yield "/" + inner + "/"
    yield re.sub(r"[\x00-\x1f\x7f]+", "", text)
    yield re.sub(r"\s+", "-", text)
    yield re.sub(r"[*?]+", "", text)
    yield re.sub(r"\$\{[^}]*\}|[$*?{}]+", "", text)
    yield text.lower()
    yield re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    yield re.sub(r"[^0-9]", "", text)
