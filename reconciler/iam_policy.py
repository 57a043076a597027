"""The least-privilege IAM policy for the tool's own role (the one CI assumes), built from the
desired state. Pure: no AWS calls.

Two variants: read-only (enough for `reconcile plan`, for the pull-request role) and apply
(`reconcile apply`, for the default-branch role). Every action is scoped to the bucket, the
access points the YAML names, and IAM users under `iam_path`, except where AWS or the job itself
makes that impossible; each such statement says why in the comment above it, and the docs
(docs/ci-setup.md) repeat the reasons. Which API operation needs which action comes from the
Service Authorization Reference for Amazon S3, IAM and STS; tests/test_iam_policy.py checks the
policy against every call the code makes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.model import (
    BUCKET_TAG_KEY,
    MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
    POLICY_VERSION,
    Config,
)

# An IAM customer managed policy holds at most 6,144 characters, whitespace not counted
# (IAM User Guide, "IAM and AWS STS quotas").
MANAGED_POLICY_MAX_CHARS = 6144

# Lists that support no resource-level permissions: "*" is the only valid resource.
# GetAccountAuthorizationDetails reads every IAM user with its tags and inline policies in one
# paginated call; ListAccessPoints finds the access points on the bucket.
ACCOUNT_WIDE_READ = ("iam:GetAccountAuthorizationDetails", "s3:ListAccessPoints")
# HeadBucket needs s3:ListBucket.
BUCKET_READ = (
    "s3:GetBucketLocation",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
    "s3:ListBucket",
)
ACCESS_POINT_READ = ("s3:GetAccessPointPolicy", "s3:ListTagsForResource")
BUCKET_WRITE = (
    "s3:CreateBucket",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
)
# Everything the tool does to its own users, including the full teardown before DeleteUser.
# No CreateAccessKey or CreateLoginProfile: the tool never creates credentials.
USER_WRITE = (
    "iam:CreateUser",
    "iam:DeactivateMFADevice",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DeleteServiceSpecificCredential",
    "iam:DeleteSigningCertificate",
    "iam:DeleteSSHPublicKey",
    "iam:DeleteUser",
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListServiceSpecificCredentials",
    "iam:ListSigningCertificates",
    "iam:ListSSHPublicKeys",
    "iam:ListUserPolicies",
    "iam:PutUserPolicy",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:UpdateAccessKey",
    "iam:UpdateUser",
)
# Creating an access point with tags also needs s3:TagResource.
ACCESS_POINT_WRITE = (
    "s3:CreateAccessPoint",
    "s3:GetAccessPoint",
    "s3:PutAccessPointPolicy",
    "s3:TagResource",
    "s3:UntagResource",
)
ACCESS_POINT_REMOVE = ("s3:DeleteAccessPoint", "s3:DeleteAccessPointPolicy")
# The apply lock: one object, created with If-None-Match, read, deleted (HeadBucket first).
LOCK_OBJECT = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
# A user the tool created for this bucket but that lives outside iam_path (iam_path was changed)
# is moved back into it; until then its ARN is outside users_under_path(), so these calls are
# allowed on any user that carries the tool's tags for this bucket (IAM supports
# aws:ResourceTag conditions on users).
USER_MOVE = (
    "iam:DeleteUserPolicy",
    "iam:GetUser",
    "iam:PutUserPolicy",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:UpdateUser",
)
# The audit trail (YAML `audit.bucket`): apply creates one new object per run (a conditional
# write: it never overwrites); `reconcile history` lists and reads them.
AUDIT_WRITE = ("s3:PutObject",)
AUDIT_READ = ("s3:GetObject",)


@dataclass(frozen=True)
class ToolPolicy:
    document: dict[str, Any]
    notes: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2) + "\n"


def tool_policy(config: Config, *, read_only: bool) -> ToolPolicy:
    statements = read_statements(config)
    notes: list[str] = []
    if not read_only:
        statements += apply_statements(config, exact_access_points=True)
        if policy_size(_document(statements)) > MANAGED_POLICY_MAX_CHARS:
            statements = read_statements(config) + apply_statements(
                config, exact_access_points=False
            )
            notes.append(
                f"{len(config.collaborators)} exact access point ARNs do not fit in one managed "
                f"policy ({MANAGED_POLICY_MAX_CHARS} characters): access point writes are "
                f"scoped to {access_point_pattern(config)} instead"
            )
    document = _document(statements)
    if policy_size(document) > MANAGED_POLICY_MAX_CHARS:
        notes.append(
            f"the policy has {policy_size(document)} characters, over the "
            f"{MANAGED_POLICY_MAX_CHARS}-character limit of a managed policy: use it as an "
            "inline role policy (10,240 characters) or split it"
        )
    return ToolPolicy(document, tuple(notes))


def policy_size(document: dict[str, Any]) -> int:
    """Characters as IAM counts them for the quota: JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


# --- ARNs -------------------------------------------------------------------------------------


def bucket_arn(config: Config) -> str:
    return f"arn:aws:s3:::{config.bucket.name}"


def access_point_pattern(config: Config) -> str:
    return config.access_point_arn("*")


def users_under_path(config: Config) -> str:
    return f"arn:aws:iam::{config.account_id}:user{config.iam_path}*"


def _access_point_arns(config: Config) -> list[str]:
    return sorted({config.access_point_arn(c.access_point) for c in config.collaborators})


# --- statements -------------------------------------------------------------------------------


def read_statements(config: Config) -> list[dict[str, Any]]:
    """Enough for `reconcile plan`. sts:GetCallerIdentity needs no permission."""
    return [
        _allow("ReconcilerReadAccountWideLists", ACCOUNT_WIDE_READ, "*"),
        _allow("ReconcilerReadBucket", BUCKET_READ, bucket_arn(config)),
        # Every access point on the bucket is read, including those of collaborators removed
        # from the YAML (the tool must find its own tag on them to plan their deletion): their
        # names are not in the YAML, so no exact ARN can name them. Read-only.
        _allow(
            "ReconcilerReadAccessPointTagsAndPolicies",
            ACCESS_POINT_READ,
            access_point_pattern(config),
        ),
        *audit_read_statements(config),
    ]


def audit_read_statements(config: Config) -> list[dict[str, Any]]:
    """`reconcile history` (and apply's check that the audit bucket exists)."""
    if not config.audit.bucket:
        return []
    bucket = f"arn:aws:s3:::{config.audit.bucket}"
    return [
        # HeadBucket (does the audit bucket exist?) and ListObjectsV2 both need s3:ListBucket;
        # HeadBucket carries no s3:prefix, so no prefix condition can be attached
        _allow("ReconcilerListAuditRecords", ("s3:ListBucket",), bucket),
        _allow("ReconcilerReadAuditRecords", AUDIT_READ, f"{bucket}/{config.audit.prefix}*"),
    ]


def apply_statements(config: Config, *, exact_access_points: bool) -> list[dict[str, Any]]:
    """What `reconcile apply` needs on top of the read statements."""
    account = config.account_id
    writes = _access_point_arns(config) if exact_access_points else access_point_pattern(config)
    statements = [
        _allow("ReconcilerManageBucket", BUCKET_WRITE, bucket_arn(config)),
        _allow("ReconcilerManageCollaboratorUsers", USER_WRITE, users_under_path(config)),
        {
            **_allow("ReconcilerMoveOwnUsersIntoPath", USER_MOVE, f"arn:aws:iam::{account}:user/*"),
            "Condition": {
                "StringEquals": {
                    f"aws:ResourceTag/{MANAGED_TAG_KEY}": MANAGED_TAG_VALUE,
                    f"aws:ResourceTag/{BUCKET_TAG_KEY}": config.bucket.name,
                }
            },
        },
        # Teardown before DeleteUser: a virtual MFA device has its own ARN with its own path,
        # which cannot be tied to the user. No iam:RemoveUserFromGroup: it is authorised on the
        # group (any user out of any group, a deny group included), so a user in a group is a
        # plan error instead (reconciler.planner.grouped_user_error).
        _allow(
            "ReconcilerDeleteUsersMfaDevices",
            ("iam:DeleteVirtualMFADevice",),
            f"arn:aws:iam::{account}:mfa/*",
        ),
        _allow("ReconcilerManageAccessPoints", ACCESS_POINT_WRITE, writes),
        # Removing a collaborator deletes its access point, whose name the YAML no longer holds.
        # Deletes only ever remove access; the planner deletes only access points it tagged.
        _allow("ReconcilerRemoveAccessPoints", ACCESS_POINT_REMOVE, access_point_pattern(config)),
    ]
    statements += lock_statements(config)
    if config.audit.bucket:
        objects = f"arn:aws:s3:::{config.audit.bucket}/{config.audit.prefix}*"
        statements.append(_allow("ReconcilerWriteAuditRecords", AUDIT_WRITE, objects))
    return [s for s in statements if s["Resource"]]  # no access points named: nothing to write


def lock_statements(config: Config) -> list[dict[str, Any]]:
    """The apply lock object (YAML `lock:`; --lock-bucket/--lock-key overrides are not known
    here). Only that one key: the role can read or write no other object."""
    lock_object = f"arn:aws:s3:::{config.lock_bucket}/{config.lock.key}"
    statements = [_allow("ReconcilerApplyLock", LOCK_OBJECT, lock_object)]
    if config.lock_bucket != config.bucket.name:
        lock_bucket = f"arn:aws:s3:::{config.lock_bucket}"
        statements.append(_allow("ReconcilerFindLockBucket", ("s3:ListBucket",), lock_bucket))
    return statements


def _allow(sid: str, actions: tuple[str, ...], resource: str | list[str]) -> dict[str, Any]:
    single = isinstance(resource, list) and len(resource) == 1
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resource[0] if single else resource,
    }


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}
