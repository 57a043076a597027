"""Size limits, computed from the policy documents the tool would actually write.

- access point policy: 20 KB (S3 User Guide, access point restrictions and limitations)
- bucket policy: 20 KB (S3 User Guide, "Bucket policies for Amazon S3")
- a user's inline policies together: 2,048 characters, whitespace not counted
  (IAM User Guide, "IAM and AWS STS quotas")
- a KMS key policy: 32 KB, 32,768 bytes (AWS KMS Developer Guide, "Creating a key policy", key
  policy format: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html),
  measured with bucket.manage_key_policy for the statements this tool writes (one lists every
  partner principal; statements written by others are only known when the plan reads the key)

The bucket policy lists the ARN of every access point the bucket delegates to unless the file
sets access_point_prefix (issue 22); its size is measured with that list.

The bucket policy is measured with the statements this tool writes; statements written by
others are only known when the plan reads the live bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.config.yaml_source import SourceDocument
from reconciler.documents.policies import (
    access_point_policy,
    bucket_policy_document,
    delegated_access_points,
    identity_policy,
    key_policy_statements,
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
    key_policy_bytes: int = 32 * 1024


def policy_size_problems(
    config: Config, doc: SourceDocument, limits: PolicyLimits = PolicyLimits()
) -> list[ConfigProblem]:
    problems = []
    config = sized_key(config)  # an alias's key ARN is not known offline: measure a full one
    bucket = _bytes(policy_text(bucket_policy_document(config)))
    if bucket > limits.bucket_policy_bytes:
        problems.append(doc.problem(("bucket",), bucket_policy_too_large(config, bucket, limits)))
    key_policy = key_policy_bytes(config)
    if key_policy > limits.key_policy_bytes:
        problems.append(
            doc.problem(
                ("bucket", "manage_key_policy"),
                key_policy_too_large(config, key_policy, limits.key_policy_bytes),
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


def bucket_policy_too_large(config: Config, size: int, limits: PolicyLimits) -> str:
    listed = [a for a in delegated_access_points(config) if not a.endswith("*")]
    text = f"the bucket policy would be {size:,} bytes; S3 allows {limits.bucket_policy_bytes:,}"
    if len(listed) > 20:
        text += (
            f": it names each of the {len(listed)} access points the bucket delegates to; set "
            "access_point_prefix so that one pattern names them (default access point names "
            "change: docs/yaml-reference.md)"
        )
    return text


def key_policy_bytes(config: Config) -> int:
    """The size of our statements in the key policy (0 without manage_key_policy)."""
    if not (config.bucket.kms and config.bucket.manage_key_policy):
        return 0
    statements = key_policy_statements(sized_key(config))
    return _bytes(policy_text({"Version": "2012-10-17", "Statement": statements}))


def key_policy_too_large(config: Config, size: int, limit: int) -> str:
    partners = sum(1 for c in config.collaborators if c.principal is not None)
    return (
        f"the KMS key policy would be {size:,} bytes with its statements naming the "
        f"{partners} principal: collaborators (more with the statements already in it); KMS "
        f"allows {limit:,}: split the collaborators over several share files (each with its "
        "own bucket and key), or maintain the key policy yourself (bucket.manage_key_policy: "
        "false; docs/troubleshooting.md)"
    )


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _non_blank(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())
