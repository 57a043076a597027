"""Offline rules for the bucket's KMS key that JSON Schema cannot express: a key or alias ARN
in another Region than the bucket (SSE-KMS needs a key in the bucket's Region), and
manage_key_policy without aws:kms."""

from __future__ import annotations

from typing import Any

from reconciler.config.yaml_source import SourceDocument
from reconciler.errors import ConfigProblem


def kms_key_problems(doc: SourceDocument) -> list[ConfigProblem]:
    data = doc.data if isinstance(doc.data, dict) else {}
    bucket: Any = data.get("bucket")
    if not isinstance(bucket, dict):
        return []
    problems = []
    if bucket.get("manage_key_policy") and bucket.get("encryption") != "aws:kms":
        problems.append(
            doc.problem(
                ("bucket", "manage_key_policy"),
                "manage_key_policy is only used with encryption: aws:kms; remove it or set "
                "encryption: aws:kms with a kms_key_id",
            )
        )
    key, region = bucket.get("kms_key_id"), data.get("region")
    if isinstance(key, str) and key.startswith("arn:") and isinstance(region, str):
        parts = key.split(":")
        if len(parts) > 4 and parts[2] == "kms" and parts[3] != region:
            problems.append(
                doc.problem(
                    ("bucket", "kms_key_id"),
                    f"the KMS key is in Region {parts[3]}, the bucket in {region}: SSE-KMS needs "
                    "a key in the bucket's Region",
                )
            )
    return problems
