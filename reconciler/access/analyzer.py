"""IAM Access Analyzer policy validation, the pure half: which policies to send and what a
finding says. The AWS call lives in reconciler/aws/access_analyzer.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model import USER_POLICY_NAME, Config, LiveState

# ValidatePolicy findingType values that make verify fail (API reference, ValidatePolicyFinding).
BLOCKING_TYPES = frozenset({"ERROR", "SECURITY_WARNING"})


@dataclass(frozen=True)
class PolicyToValidate:
    label: str  # "bucket policy clinical-share", "access point policy alice-access-point", ...
    document: Mapping[str, Any]
    policy_type: str  # IDENTITY_POLICY or RESOURCE_POLICY
    resource_type: str | None  # AWS::S3::Bucket, AWS::S3::AccessPoint, or None


@dataclass(frozen=True)
class AnalyzerFinding:
    policy: str
    finding_type: str
    issue_code: str
    details: str
    learn_more: str = ""

    @property
    def blocking(self) -> bool:
        return self.finding_type in BLOCKING_TYPES


def policies_to_validate(config: Config, live: LiveState) -> list[PolicyToValidate]:
    """Each policy the tool writes, as it is in the state: the bucket policy, each collaborator's
    access point policy and each managed user's identity policy."""
    found: list[PolicyToValidate] = []
    if live.bucket.policy is not None:
        found.append(
            PolicyToValidate(
                f"bucket policy {live.bucket.name}",
                live.bucket.policy,
                "RESOURCE_POLICY",
                "AWS::S3::Bucket",
            )
        )
    users = {u.name.lower(): u for u in live.users.values()}
    for collab in config.collaborators:
        point = live.access_points.get(collab.access_point)
        if point is not None and point.policy is not None:
            found.append(
                PolicyToValidate(
                    f"access point policy {point.name}",
                    point.policy,
                    "RESOURCE_POLICY",
                    "AWS::S3::AccessPoint",
                )
            )
        user = users.get((collab.iam_user or "").lower())
        if user is not None and USER_POLICY_NAME in user.inline_policies:
            found.append(
                PolicyToValidate(
                    f"identity policy {user.name}/{USER_POLICY_NAME}",
                    user.inline_policies[USER_POLICY_NAME],
                    "IDENTITY_POLICY",
                    None,
                )
            )
    return found
