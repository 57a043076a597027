"""Size limits, computed from the policy documents the tool would actually write.

- access point policy: 20 KB (S3 User Guide, access point restrictions and limitations)
- bucket policy: 20 KB (S3 User Guide, "Bucket policies for Amazon S3")
- a user's inline policies together: 2,048 characters, whitespace not counted
  (IAM User Guide, "IAM and AWS STS quotas")

The bucket policy is measured with the statements this tool writes; statements written by
others are only known when the plan reads the live bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.config.yaml_source import SourceDocument
from reconciler.documents.policies import (
    access_point_policy,
    bucket_policy_document,
    identity_policy,
    policy_text,
    sized_key,
)
from reconciler.errors import ConfigProblem
from reconciler.model import Config


@dataclass(frozen=True)
class PolicyLimits:
    access_point_policy_bytes: int = 20 * 1024
    bucket_policy_bytes: int = 20 * 1024
    user_inline_policy_chars: int = 2_048


def policy_size_problems(
    config: Config, doc: SourceDocument, limits: PolicyLimits = PolicyLimits()
) -> list[ConfigProblem]:
    problems = []
    config = sized_key(config)  # an alias's key ARN is not known offline: measure a full one
    bucket = _bytes(policy_text(bucket_policy_document(config)))
    if bucket > limits.bucket_policy_bytes:
        problems.append(
            doc.problem(
                ("bucket",),
                f"the bucket policy would be {bucket:,} bytes; "
                f"S3 allows {limits.bucket_policy_bytes:,}",
            )
        )
    for index, collab in enumerate(config.collaborators):
        size = _bytes(policy_text(access_point_policy(config, collab)))
        if size > limits.access_point_policy_bytes:
            problems.append(
                doc.problem(
                    ("collaborators", index),
                    f"the access point policy would be {size:,} bytes; S3 allows "
                    f"{limits.access_point_policy_bytes:,}: shorten the prefix or principal",
                )
            )
        user_policy = identity_policy(config, collab)
        if collab.iam_user is None or user_policy is None:
            continue
        chars = _non_blank(policy_text(user_policy))
        if chars > limits.user_inline_policy_chars:
            problems.append(
                doc.problem(
                    ("collaborators", index, "iam_user"),
                    f"the inline policy of IAM user {collab.iam_user!r} would be {chars:,} "
                    f"characters without whitespace; IAM allows "
                    f"{limits.user_inline_policy_chars:,} per user",
                )
            )
    return problems


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _non_blank(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())
