"""collaborators.yaml -> Config, or a ConfigError listing every problem with file:line:column.

Validation runs in layers (YAML, JSON Schema, then rules the schema cannot express); every
problem found is reported at once, sorted by line. Nothing here touches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.config.kms_key import kms_key_problems
from reconciler.config.lifecycle import (
    audit_settings,
    lifecycle_problems,
    lifecycle_settings,
    parse_date,
)
from reconciler.config.phi import phi_problems
from reconciler.config.policy_sizes import policy_size_problems
from reconciler.config.schema_check import schema_problems
from reconciler.config.semantic import semantic_problems
from reconciler.config.wording import describe
from reconciler.config.yaml_source import SourceDocument, check_size, decode, fail, parse
from reconciler.config.yaml_traps import ambiguous_problems
from reconciler.errors import ConfigError, ConfigProblem
from reconciler.model import (
    DEFAULT_ABORT_MULTIPART_DAYS,
    DEFAULT_LOCK_KEY,
    DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS,
    AccessLevel,
    AccessLogs,
    BucketLifecycleRules,
    BucketSpec,
    Collaborator,
    Config,
    LockSettings,
    ReportSettings,
    SafetySettings,
    Status,
    default_access_point,
)

DEFAULT_IAM_PATH = "/collaborators/"
REQUIRED_KEYS = "version, account_id, region, bucket and collaborators"


def load_config(path: str | Path) -> Config:
    return load_config_source(path)[0]


def load_config_source(path: str | Path) -> tuple[Config, SourceDocument]:
    """The Config and the document it came from (positions for problems found across files)."""
    path = Path(path)
    name = str(path)
    try:
        check_size(path.stat().st_size, name)  # before reading a huge file into memory
        raw = path.read_bytes()
    except OSError as err:
        reason = err.strerror or str(err)
        if isinstance(err, FileNotFoundError):
            reason += (
                " (give the desired-state file with -c FILE, or write a new config repository "
                "with `reconcile init`)"
            )
        raise ConfigError(
            name, [ConfigProblem(name, None, None, "", f"cannot read: {reason}")]
        ) from None
    return _load(raw, name)


def load_config_text(raw: bytes, name: str) -> Config:
    return _load(raw, name)[0]


def _load(raw: bytes, name: str) -> tuple[Config, SourceDocument]:
    doc = read_document(raw, name)
    schema = schema_problems(doc)
    dates = lifecycle_problems(doc)
    problems = [
        *doc.problems,
        *schema.problems,
        *ambiguous_problems(doc),
        *semantic_problems(doc),
        *kms_key_problems(doc),
        *phi_problems(doc),
        *dates,
    ]
    config = to_config(doc.data, name) if schema.valid and not dates else None
    if config is not None:
        problems += policy_size_problems(config, doc)
    if problems or config is None:
        raise ConfigError(name, list(dict.fromkeys(problems)))
    return config, doc


def read_document(raw: bytes, name: str) -> SourceDocument:
    """Bytes -> a YAML mapping with positions, or a ConfigError."""
    doc = parse(decode(raw, name), name)
    if doc.data is None:
        raise fail(name, 1, 1, f"the file is empty: it needs {REQUIRED_KEYS}")
    if not isinstance(doc.data, dict):
        raise ConfigError(
            name,
            [
                doc.problem(
                    (),
                    f"the top level must be a mapping (key: value lines with {REQUIRED_KEYS}), "
                    f"not {describe(doc.data)}",
                )
            ],
        )
    return doc


def to_config(data: dict[str, Any], source: str) -> Config:
    bucket = data["bucket"]
    prefix = data.get("access_point_prefix", "")
    collaborators = tuple(_collaborator(c, prefix) for c in data.get("collaborators") or [])
    return Config(
        account_id=data["account_id"],
        region=data["region"],
        bucket=BucketSpec(
            name=bucket["name"],
            encryption=bucket.get("encryption", "AES256"),
            kms_key_id=bucket.get("kms_key_id"),
            presigned_url_max_age_seconds=bucket.get(
                "presigned_url_max_age_seconds", DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS
            ),
            manage_key_policy=bucket.get("manage_key_policy", False),
            versioning=bucket.get("versioning", True),
            lifecycle=_bucket_lifecycle(bucket.get("lifecycle") or {}),
            access_logs=_access_logs(bucket),
            data_events_trail=bucket.get("data_events_trail"),
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
        iam_permissions_boundary=data.get("iam_permissions_boundary"),
        report=ReportSettings(**(data.get("report") or {})),
        access_point_prefix=prefix,
    )


def _access_logs(bucket: dict[str, Any]) -> AccessLogs | None:
    entry = bucket.get("access_logs")
    if entry is None:
        return None
    return AccessLogs(
        bucket=entry["bucket"],
        prefix=entry.get("prefix", f"{bucket['name']}/"),
        manage_policy=bool(entry.get("manage_policy", False)),
    )


def _bucket_lifecycle(entry: dict[str, Any]) -> BucketLifecycleRules:
    return BucketLifecycleRules(
        abort_incomplete_multipart_upload_days=entry.get(
            "abort_incomplete_multipart_upload_days", DEFAULT_ABORT_MULTIPART_DAYS
        ),
        noncurrent_version_expiration_days=entry.get("noncurrent_version_expiration_days"),
    )


def _collaborator(entry: dict[str, Any], access_point_prefix: str) -> Collaborator:
    cid = entry["id"]
    return Collaborator(
        id=cid,
        prefix=entry.get("prefix", f"{cid}/"),
        access=tuple(AccessLevel(a) for a in entry.get("access", ["write"])),
        access_point=entry.get("access_point", default_access_point(cid, access_point_prefix)),
        iam_user=entry.get("iam_user"),
        principal=entry.get("principal"),
        status=Status(entry.get("status", "active")),
        expires=parse_date(entry["expires"]) if "expires" in entry else None,
        console=bool(entry.get("console", False)),
    )
