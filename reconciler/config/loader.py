"""collaborators.yaml -> Config, or a ConfigError listing every problem with file:line:column."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from reconciler.config.lifecycle import (
    audit_settings,
    lifecycle_problems,
    lifecycle_settings,
    parse_date,
)
from reconciler.config.yaml_source import SourceDocument, SyntaxProblem, parse
from reconciler.errors import ConfigError, ConfigProblem
from reconciler.model import (
    DEFAULT_LOCK_KEY,
    AccessLevel,
    BucketSpec,
    Collaborator,
    Config,
    LockSettings,
    SafetySettings,
    Status,
)

DEFAULT_IAM_PATH = "/collaborators/"
SCHEMA_NAME = "collaborators.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The schema ships inside the wheel; in a source checkout it is read from schema/."""
    packaged = resources.files("reconciler.config").joinpath(SCHEMA_NAME)
    if packaged.is_file():
        return dict(json.loads(packaged.read_text()))
    source = Path(__file__).resolve().parents[2] / "schema" / SCHEMA_NAME
    return dict(json.loads(source.read_text()))


def load_config(path: str | Path) -> Config:
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        reason = err.strerror or str(err)
        raise ConfigError(
            name, [ConfigProblem(name, None, None, "", f"cannot read: {reason}")]
        ) from None
    return load_config_text(raw, name)


def load_config_text(raw: bytes, name: str) -> Config:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        msg = f"not UTF-8 text (byte {err.start}): save the file as UTF-8"
        raise ConfigError(name, [ConfigProblem(name, None, None, "", msg)]) from None
    try:
        doc = parse(text, name)
    except SyntaxProblem as err:
        raise ConfigError(name, [err.problem]) from None
    if not isinstance(doc.data, dict):
        msg = "the file must be a YAML mapping with version, account_id, region, bucket, ..."
        raise ConfigError(name, [ConfigProblem(name, 1, 1, "", msg)])
    problems = schema_problems(doc)
    if problems:
        raise ConfigError(name, problems)
    problems = lifecycle_problems(doc)
    if problems:
        raise ConfigError(name, problems)
    return to_config(doc.data, name)


def schema_problems(doc: SourceDocument) -> list[ConfigProblem]:
    validator = Draft202012Validator(schema())
    problems = []
    for error in validator.iter_errors(doc.data):
        specific = _most_specific(error)
        problems.append(doc.problem(tuple(specific.absolute_path), _describe(specific)))
    return problems


def _most_specific(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, report the branch error that went deepest (like Cloud Custodian)."""
    if error.context:
        return _most_specific(best_match(error.context))
    return error


def _describe(error: ValidationError) -> str:
    return str(error.message)


def to_config(data: dict[str, Any], source: str) -> Config:
    bucket = data["bucket"]
    collaborators = tuple(_collaborator(c) for c in data.get("collaborators") or [])
    return Config(
        account_id=data["account_id"],
        region=data["region"],
        bucket=BucketSpec(
            name=bucket["name"],
            encryption=bucket.get("encryption", "AES256"),
            kms_key_id=bucket.get("kms_key_id"),
        ),
        iam_path=data.get("iam_path", DEFAULT_IAM_PATH),
        collaborators=collaborators,
        source=source,
        safety=SafetySettings(**(data.get("safety") or {})),
        lock=LockSettings(
            bucket=(data.get("lock") or {}).get("bucket"),
            key=(data.get("lock") or {}).get("key", DEFAULT_LOCK_KEY),
            ttl_seconds=(data.get("lock") or {}).get("ttl_seconds", 3600),
        ),
        lifecycle=lifecycle_settings(data),
        audit=audit_settings(data),
    )


def _collaborator(entry: dict[str, Any]) -> Collaborator:
    cid = entry["id"]
    return Collaborator(
        id=cid,
        prefix=entry.get("prefix", f"{cid}/"),
        access=tuple(AccessLevel(a) for a in entry.get("access", ["write"])),
        access_point=entry.get("access_point", f"{cid}-access-point"),
        iam_user=entry.get("iam_user"),
        principal=entry.get("principal"),
        status=Status(entry.get("status", "active")),
        expires=parse_date(entry["expires"]) if "expires" in entry else None,
    )
