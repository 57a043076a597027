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

from reconciler.documents.baseline_policy import (
    baseline_apply_statements,
    baseline_read_statements,
)
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

# Actions that support no resource-level permissions (the Service Authorization Reference lists
# no resource type for them): "*" is the only valid resource.
# GetAccountAuthorizationDetails reads every IAM user with its tags and inline policies in one
# paginated call; ListAccessPoints finds the access points on the bucket; GetAccessPoint
# describes one (apply, before tagging it).
ACCOUNT_WIDE_READ = (
    "iam:GetAccountAuthorizationDetails",
    "s3:GetAccessPoint",
    "s3:ListAccessPoints",
)
# HeadBucket needs s3:ListBucket.
BUCKET_READ = (
    "s3:GetBucketLocation",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketLogging",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:ListBucket",
)
VALIDATE_POLICY = ("access-analyzer:ValidatePolicy",)
ACCESS_POINT_READ = ("s3:GetAccessPointPolicy", "s3:ListTagsForResource")
# `reconcile report` (the access review): credential metadata of the collaborators' IAM users,
# never a secret (IAM API Reference: GetUser, GetLoginProfile, ListAccessKeys,
# GetAccessKeyLastUsed; the Service Authorization Reference scopes all four to the user).
CREDENTIALS_READ = (
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:GetUser",
    "iam:ListAccessKeys",
)
BUCKET_WRITE = (
    "s3:CreateBucket",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketLogging",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
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
# With iam_permissions_boundary: the calls that can give a collaborator's user permissions are
# allowed only with that boundary (IAM User Guide, "Permissions boundaries for IAM entities",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html, the
# delegation example's CreateOrChangeOnlyWithBoundary statement). All three support the
# iam:PermissionsBoundary condition key (Service Authorization Reference, "Actions, resources,
# and condition keys for AWS Identity and Access Management"): for CreateUser and
# PutUserPermissionsBoundary it is the boundary in the request, for PutUserPolicy the boundary
# the user already has. TagUser, UpdateUser, GetUser and DeleteUser do not support it, so they
# stay in statements without that condition (a condition on a key the request lacks never
# matches). DeleteUserPolicy and DetachUserPolicy only remove permissions: left unconditioned so
# that users made before the boundary existed can still be torn down.
BOUNDED_USER_WRITE = ("iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy")
BOUNDED_USER_MOVE = ("iam:PutUserPermissionsBoundary", "iam:PutUserPolicy")
# The delegation example's NoBoundaryPolicyEdit: the boundary policy itself cannot be changed.
BOUNDARY_POLICY_EDIT = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
KEY_PERMISSIONS_BOUNDARY = "iam:PermissionsBoundary"
NO_BOUNDARY_NOTE = (
    "collaborators.yaml sets no iam_permissions_boundary: this role may write any inline policy "
    "to the users under iam_path, so whoever obtains it can give a collaborator any permission; "
    "see docs/ci-setup.md, 'Permissions boundary'"
)
# The audit trail (YAML `audit.bucket`): apply creates one new object per run (a conditional
# write: it never overwrites); `reconcile history` lists and reads them.
# A suspended (or expired) collaborator's access keys are listed so that the plan can show their
# deactivation: plan needs this for every lifecycle state, and a collaborator may expire without
# any change to the YAML, so the read-only role always has it. Key ids and status only.
USER_KEYS_READ = ("iam:ListAccessKeys",)
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
    else:
        # `reconcile verify --access-analyzer` (the read-only role); the SAR lists no resource
        # type for it
        statements.append(_allow("ReconcilerValidatePolicies", VALIDATE_POLICY, "*"))
    if not read_only and not config.iam_permissions_boundary:
        notes.append(NO_BOUNDARY_NOTE)
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
    """Enough for `reconcile plan` and `reconcile report`. sts:GetCallerIdentity needs no
    permission."""
    return [
        _allow("ReconcilerReadAccountWideLists", ACCOUNT_WIDE_READ, "*"),
        _allow("ReconcilerReadBucket", BUCKET_READ, bucket_arn(config)),
        _allow("ReconcilerReadCollaboratorKeys", USER_KEYS_READ, users_under_path(config)),
        # ... also of a user the tool tagged for this bucket that lives outside iam_path
        {
            **_allow(
                "ReconcilerReadOwnUsersKeys",
                USER_KEYS_READ,
                f"arn:aws:iam::{config.account_id}:user/*",
            ),
            "Condition": {"StringEquals": _own_user_tags(config)},
        },
        # Every access point on the bucket is read, including those of collaborators removed
        # from the YAML (the tool must find its own tag on them to plan their deletion): their
        # names are not in the YAML, so no exact ARN can name them. Read-only.
        _allow(
            "ReconcilerReadAccessPointTagsAndPolicies",
            ACCESS_POINT_READ,
            access_point_pattern(config),
        ),
        _allow("ReconcilerReadCollaboratorCredentials", CREDENTIALS_READ, users_under_path(config)),
        *audit_read_statements(config),
        *key_read_statements(config),
        *baseline_read_statements(config),
    ]


# SSE-KMS: plan resolves kms_key_id and reads the key policy (kms:DescribeKey, kms:GetKeyPolicy).
KEY_READ = ("kms:DescribeKey", "kms:GetKeyPolicy")
# The apply lock is an object in the shared bucket: S3 asks KMS for a data key to write it and
# to decrypt it to read it (S3 User Guide, "Using server-side encryption with AWS KMS keys").
LOCK_KEY_USE = ("kms:Decrypt", "kms:GenerateDataKey")


def key_statement(config: Config, sid: str, actions: tuple[str, ...]) -> dict[str, Any]:
    """On the key: its ARN when known; an alias cannot name a key in IAM, so then any key of
    the account that carries that alias (kms:ResourceAliases, AWS KMS Developer Guide,
    "Using aliases to control access to KMS keys")."""
    key = config.bucket.kms_key_id or ""
    arn = config.bucket.key_arn
    if arn is None and "alias/" not in key:  # a bare key id
        arn = f"arn:aws:kms:{config.region}:{config.account_id}:key/{key}"
    if arn is not None:
        return _allow(sid, actions, arn)
    alias = "alias/" + key.split("alias/", 1)[1]
    return {
        **_allow(sid, actions, f"arn:aws:kms:{config.region}:{config.account_id}:key/*"),
        "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}},
    }


def key_read_statements(config: Config) -> list[dict[str, Any]]:
    if not config.bucket.kms:
        return []
    return [key_statement(config, "ReconcilerReadBucketKey", KEY_READ)]


def key_apply_statements(config: Config) -> list[dict[str, Any]]:
    """The lock object on a KMS bucket (only through S3, only for that bucket), and writing our
    statements in the key policy when the tool manages it."""
    if not config.bucket.kms:
        return []
    statements = []
    if config.lock_bucket == config.bucket.name:
        lock = key_statement(config, "ReconcilerApplyLockBucketKey", LOCK_KEY_USE)
        conditions = {
            "StringEquals": {
                "kms:ViaService": f"s3.{config.region}.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": bucket_arn(config),
            }
        }
        statements.append({**lock, "Condition": {**lock.get("Condition", {}), **conditions}})
    if config.bucket.manage_key_policy:
        statements.append(key_statement(config, "ReconcilerManageKeyPolicy", ("kms:PutKeyPolicy",)))
    return statements


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
    bounded = config.iam_permissions_boundary is not None
    user_write = _without(USER_WRITE, BOUNDED_USER_WRITE) if bounded else USER_WRITE
    user_move = _without(USER_MOVE, BOUNDED_USER_MOVE) if bounded else USER_MOVE
    statements = [
        _allow("ReconcilerManageBucket", BUCKET_WRITE, bucket_arn(config)),
        _allow("ReconcilerManageCollaboratorUsers", user_write, users_under_path(config)),
        {
            **_allow("ReconcilerMoveOwnUsersIntoPath", user_move, f"arn:aws:iam::{account}:user/*"),
            "Condition": {"StringEquals": _own_user_tags(config)},
        },
        *boundary_statements(config),
        # Teardown before DeleteUser: a virtual MFA device has its own ARN with its own path,
        # which cannot be tied to the user. No iam:RemoveUserFromGroup: it is authorised on the
        # group (any user out of any group, a deny group included), so a user in a group is a
        # plan error instead (reconciler.plan.planner.grouped_user_error).
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
    statements += key_apply_statements(config)
    statements += baseline_apply_statements(config)
    if config.audit.bucket:
        objects = f"arn:aws:s3:::{config.audit.bucket}/{config.audit.prefix}*"
        statements.append(_allow("ReconcilerWriteAuditRecords", AUDIT_WRITE, objects))
    return [s for s in statements if s["Resource"]]  # no access points named: nothing to write


def _own_user_tags(config: Config) -> dict[str, str]:
    return {
        f"aws:ResourceTag/{MANAGED_TAG_KEY}": MANAGED_TAG_VALUE,
        f"aws:ResourceTag/{BUCKET_TAG_KEY}": config.bucket.name,
    }


def _without(actions: tuple[str, ...], removed: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(a for a in actions if a not in removed)


def boundary_statements(config: Config) -> list[dict[str, Any]]:
    """Users are created, and their inline policies written, only with the YAML's permissions
    boundary; no boundary can be removed or replaced, and the boundary policy cannot be edited
    (the delegation example of "Permissions boundaries for IAM entities")."""
    boundary = config.iam_permissions_boundary
    if boundary is None:
        return []
    account = config.account_id
    all_users = f"arn:aws:iam::{account}:user/*"
    with_boundary = {KEY_PERMISSIONS_BOUNDARY: boundary}
    statements = [
        {
            **_allow(
                "ReconcilerUsersOnlyWithBoundary", BOUNDED_USER_WRITE, users_under_path(config)
            ),
            "Condition": {"StringEquals": with_boundary},
        },
        {
            **_allow("ReconcilerMoveOwnUsersOnlyWithBoundary", BOUNDED_USER_MOVE, all_users),
            "Condition": {"StringEquals": {**_own_user_tags(config), **with_boundary}},
        },
        _deny("ReconcilerDenyBoundaryRemoval", ("iam:DeleteUserPermissionsBoundary",), all_users),
        {
            **_deny(
                "ReconcilerDenyOtherBoundaries", ("iam:PutUserPermissionsBoundary",), all_users
            ),
            "Condition": {"StringNotEquals": with_boundary},
        },
    ]
    if boundary.split(":")[4] != "aws":  # AWS managed policies cannot be edited anyway
        statements.append(_deny("ReconcilerDenyBoundaryPolicyEdit", BOUNDARY_POLICY_EDIT, boundary))
    return statements


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


def _deny(sid: str, actions: tuple[str, ...], resource: str) -> dict[str, Any]:
    return {**_allow(sid, actions, resource), "Effect": "Deny"}


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}
