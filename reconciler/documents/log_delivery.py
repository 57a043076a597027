"""The bucket-policy statement that lets Amazon S3 deliver server access logs into the log bucket
(bucket.access_logs), and the check that a log bucket's policy already allows it. Pure.

S3 User Guide, "Enabling Amazon S3 server access logging", section "Permissions for log
delivery" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html):
the destination bucket must be in the same account and Region as the source bucket; with
ACLs disabled (Object Ownership "bucket owner enforced") only a bucket policy can grant the
logging service principal `logging.s3.amazonaws.com` s3:PutObject on the destination prefix,
and the page's example limits it with `aws:SourceArn` (the source bucket) and
`aws:SourceAccount` (its account), so that no other bucket can have logs delivered there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from reconciler.model import STATEMENT_SID_PREFIX, Config

LOGGING_SERVICE = "logging.s3.amazonaws.com"
# a sample object key under the log prefix, matched against statements' Resource patterns
_PROBE_KEY = "2026-01-01-00-00-00-0123456789ABCDEF"


def log_delivery_sid(bucket: str) -> str:
    """`ReconcilerServerAccessLogsFromClinicalShare123`: one statement per source bucket, so
    several shares can log into one log bucket (Sids: letters and digits)."""
    words = re.split(r"[^A-Za-z0-9]+", bucket)
    return f"{STATEMENT_SID_PREFIX}ServerAccessLogsFrom" + "".join(w.capitalize() for w in words)


def source_arn(config: Config) -> str:
    return f"arn:aws:s3:::{config.bucket.name}"


def log_objects_arn(config: Config) -> str:
    logs = config.bucket.access_logs
    assert logs is not None
    return f"arn:aws:s3:::{logs.bucket}/{logs.prefix}*"


def log_delivery_statement(config: Config) -> dict[str, Any]:
    """As the S3 User Guide's example, for this shared bucket and prefix."""
    assert config.bucket.access_logs is not None
    return {
        "Sid": log_delivery_sid(config.bucket.name),
        "Effect": "Allow",
        "Principal": {"Service": LOGGING_SERVICE},
        "Action": "s3:PutObject",
        "Resource": log_objects_arn(config),
        "Condition": {
            "ArnLike": {"aws:SourceArn": source_arn(config)},
            "StringEquals": {"aws:SourceAccount": config.account_id},
        },
    }


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _for_logging_service(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return False
    return LOGGING_SERVICE in _listed(principal.get("Service", []))


def _puts_objects(statement: Mapping[str, Any], config: Config) -> bool:
    logs = config.bucket.access_logs
    assert logs is not None
    target = f"arn:aws:s3:::{logs.bucket}/{logs.prefix}{_PROBE_KEY}"
    actions = [str(a).lower() for a in _listed(statement.get("Action", []))]
    return any(fnmatchcase("s3:putobject", a) for a in actions) and any(
        fnmatchcase(target, str(r)) for r in _listed(statement.get("Resource", []))
    )


_SOURCE_KEYS = {"aws:sourcearn", "aws:sourceaccount"}
_OPERATORS = {"ArnLike", "ArnEquals", "StringEquals", "StringLike"}


def _limited_to_source(statement: Mapping[str, Any], config: Config) -> bool:
    """Conditions only on aws:SourceArn / aws:SourceAccount (at least one), each admitting this
    bucket and account. Any other condition cannot be judged here: not counted."""
    conditions = statement.get("Condition") or {}
    seen = False
    for operator, pairs in conditions.items():
        if operator not in _OPERATORS or not isinstance(pairs, Mapping):
            return False
        for key, values in pairs.items():
            if key.lower() not in _SOURCE_KEYS:
                return False
            expected = source_arn(config) if key.lower() == "aws:sourcearn" else config.account_id
            like = operator.endswith("Like")
            if not any(
                fnmatchcase(expected, str(v)) if like else expected == str(v)
                for v in _listed(values)
            ):
                return False
            seen = True
    return seen


def allows_log_delivery(policy: Mapping[str, Any] | None, config: Config) -> bool:
    """True when an Allow statement lets the logging service put objects under the log prefix,
    limited to this bucket (aws:SourceArn) or account (aws:SourceAccount)."""
    return any(
        statement.get("Effect") == "Allow"
        and _for_logging_service(statement)
        and _puts_objects(statement, config)
        and _limited_to_source(statement, config)
        for statement in (policy or {}).get("Statement", [])
    )
