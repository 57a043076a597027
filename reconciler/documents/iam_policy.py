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
    import_read_statements,
)
from reconciler.model import (
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    EXPIRES_TAG_KEY,
    MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
    POLICY_VERSION,
    STATUS_TAG_KEY,
    Config,
)

# An IAM customer managed policy holds at most 6,144 characters, whitespace not counted
# (IAM User Guide, "IAM and AWS STS quotas").
MANAGED_POLICY_MAX_CHARS = 6144

# Actions that support no resource-level permissions (the Service Authorization Reference lists
# no resource type for them): "*" is the only valid resource.
# GetAccountAuthorizationDetails reads every IAM user with its tags and inline policies in one
# paginated call; ListAccessPoints finds the access points on the bucket; GetAccessPoint
# describes one (apply, before tagging it). A statement naming an access point ARN would grant
# GetAccessPoint nothing on AWS. It reveals an access point's configuration (bucket, network
# origin), never its policy; ListAccessPoints on "*" already shows the same.
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
# GetAccessKeyLastUsed, ListMFADevices for console users (issue 21); the Service Authorization
# Reference scopes all five to the user).
CREDENTIALS_READ = (
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:ListMFADevices",
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
# What the tool does to its own users under iam_path, besides the teardown (USER_TEARDOWN below,
# allowed only on users tagged for this bucket). No CreateAccessKey or CreateLoginProfile: the
# tool never creates credentials.
USER_WRITE = (
    "iam:CreateUser",
    "iam:DeleteUserPolicy",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:PutUserPolicy",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:UpdateAccessKey",
    "iam:UpdateUser",
)
# Tags written on users (CreateUser with tags needs iam:TagUser too) and on access points: only
# the tool's own keys, and only with this bucket's name (see tag_denies).
USER_TAGGING = ("iam:CreateUser", "iam:TagUser", "iam:UntagUser")
ACCESS_POINT_TAGGING = ("s3:CreateAccessPoint", "s3:TagResource", "s3:UntagResource")
# Every tag key the tool writes on users and access points (reconciler.plan.planner).
OWN_TAG_KEYS = (
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    EXPIRES_TAG_KEY,
    MANAGED_TAG_KEY,
    STATUS_TAG_KEY,
)
# Creating an access point with tags also needs s3:TagResource.
ACCESS_POINT_WRITE = (
    "s3:CreateAccessPoint",
    "s3:PutAccessPointPolicy",
    "s3:TagResource",
    "s3:UntagResource",
)
ACCESS_POINT_REMOVE = ("s3:DeleteAccessPoint", "s3:DeleteAccessPointPolicy")
OTHER_BUCKETS_DENY = "ReconcilerDenyTagsOfOtherBuckets"
ACCESS_POINT_WRITES = "ReconcilerManageAccessPoints"  # the Sid of the statement that names them
# The apply lock: one object, created with If-None-Match, read, deleted (HeadBucket first).
LOCK_OBJECT = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
# Removing a user: its credentials and policies first, then the user. Only ever for a user that
# carries this bucket's tags (the planner deletes no other), wherever it lives: a collaborator
# removed in the same change that moves iam_path loses her user, keys and password as she would
# under the path. So these are allowed only with aws:ResourceTag conditions, which the Service
# Authorization Reference lists for the IAM user resource type (every action on a user).
USER_TEARDOWN = (
    "iam:DeactivateMFADevice",
    "iam:DeleteAccessKey",
    "iam:DeleteLoginProfile",
    "iam:DeleteServiceSpecificCredential",
    "iam:DeleteSigningCertificate",
    "iam:DeleteSSHPublicKey",
    "iam:DeleteUser",
    "iam:DetachUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListMFADevices",
    "iam:ListServiceSpecificCredentials",
    "iam:ListSigningCertificates",
    "iam:ListSSHPublicKeys",
    "iam:ListUserPolicies",
)
# A user the tool created for this bucket but that lives outside iam_path (iam_path was changed)
# is moved back into it; until then its ARN is outside users_under_path(), so these calls are
# allowed on any user that carries the tool's tags for this bucket (IAM supports
# aws:ResourceTag conditions on users). Its access keys are listed by ReconcilerReadOwnUsersKeys.
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
    # said when the exact access point ARNs make the policy need more managed policies than
    # one accesspoint/<prefix>* pattern would (reconciler.documents.policy_set decides)
    scope_note: str | None = None

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2) + "\n"


def tool_policy(config: Config, *, read_only: bool) -> ToolPolicy:
    statements = read_statements(config)
    notes: list[str] = []
    if not read_only:
        statements += apply_statements(config)
    else:
        # `reconcile verify --access-analyzer` (the read-only role); the SAR lists no resource
        # type for it
        statements.append(_allow("ReconcilerValidatePolicies", VALIDATE_POLICY, "*"))
        # `reconcile import` looks for the trail of bucket.data_events_trail (baseline_policy)
        statements += import_read_statements(config)
    if not read_only and not config.iam_permissions_boundary:
        notes.append(NO_BOUNDARY_NOTE)
    exact = not read_only and not config.access_point_prefix
    scope_note = access_point_scope_note(config) if exact else None
    return ToolPolicy(_document(statements), tuple(notes), scope_note)


def access_point_scope_note(config: Config) -> str:
    return (
        "no access_point_prefix, so the apply role names each of the "
        f"{len(config.collaborators)} access points by its exact ARN, and they take managed "
        f"policies ({MANAGED_POLICY_MAX_CHARS} characters each) of their own; a wildcard "
        "would reach every access point of the account, so the tool never uses one: set "
        "access_point_prefix to scope them as accesspoint/<prefix>* (docs/ci-setup.md)"
    )


def policy_size(document: dict[str, Any]) -> int:
    """Characters as IAM counts them for the quota: JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


# --- ARNs -------------------------------------------------------------------------------------


def bucket_arn(config: Config) -> str:
    return f"arn:aws:s3:::{config.bucket.name}"


def access_point_pattern(config: Config) -> str:
    """Every access point of the account in the Region: only for reads (the read-only role
    must find every access point on the bucket, also those no longer in the file)."""
    return config.access_point_arn("*")


def users_under_path(config: Config) -> str:
    return f"arn:aws:iam::{config.account_id}:user{config.iam_path}*"


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
# ... and whether its automatic rotation is on (kms:GetKeyRotationStatus, issue 21)
KEY_READ = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus")
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
        # never with the lockout safety check turned off (the writer always sends False):
        # kms:BypassPolicyLockoutSafetyCheck is listed for kms:PutKeyPolicy in the Service
        # Authorization Reference ("Actions defined by AWS Key Management Service")
        manage = key_statement(config, "ReconcilerManageKeyPolicy", ("kms:PutKeyPolicy",))
        no_bypass = {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}}
        statements.append({**manage, "Condition": {**manage.get("Condition", {}), **no_bypass}})
        # with manage_key_policy the tool also turns automatic key rotation on (issue 21)
        statements.append(
            key_statement(config, "ReconcilerEnableKeyRotation", ("kms:EnableKeyRotation",))
        )
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


def apply_statements(config: Config) -> list[dict[str, Any]]:
    """What `reconcile apply` needs on top of the read statements. No statement reaches an
    access point, IAM user, key or bucket of another share (docs/safety.md)."""
    account = config.account_id
    bounded = config.iam_permissions_boundary is not None
    user_write = _without(USER_WRITE, BOUNDED_USER_WRITE) if bounded else USER_WRITE
    user_move = _without(USER_MOVE, BOUNDED_USER_MOVE) if bounded else USER_MOVE
    own_users = tuple(sorted({*user_move, *USER_TEARDOWN}))
    statements = [
        _allow("ReconcilerManageBucket", BUCKET_WRITE, bucket_arn(config)),
        # iam_path may be shared with other shares: a user tagged for another bucket is not
        # ours (aws:ResourceTag is listed for the IAM `user` resource type); untagged users
        # under the path are created or, with --adopt, taken over
        {
            **_allow("ReconcilerManageCollaboratorUsers", user_write, users_under_path(config)),
            "Condition": _not_another_shares(config),
        },
        {
            **_allow("ReconcilerManageOwnTaggedUsers", own_users, f"arn:aws:iam::{account}:user/*"),
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
        *access_point_statements(config),
        *tag_denies(config),
    ]
    statements += lock_statements(config)
    statements += key_apply_statements(config)
    statements += baseline_apply_statements(config)
    if config.audit.bucket:
        objects = f"arn:aws:s3:::{config.audit.bucket}/{config.audit.prefix}*"
        statements.append(_allow("ReconcilerWriteAuditRecords", AUDIT_WRITE, objects))
    return [s for s in statements if s["Resource"]]  # no access points named: nothing to write


def access_point_resources(config: Config) -> list[str]:
    """The access points this share may write: `accesspoint/<access_point_prefix>*` for the
    default names when the file has a prefix, and the exact ARN of every other name the file
    gives. Never `accesspoint/*`: that is every access point of the account in the Region."""
    prefix = config.access_point_prefix
    exact = {c.access_point for c in config.collaborators if not prefix}
    exact |= {
        c.access_point
        for c in config.collaborators
        if prefix and not c.access_point.startswith(prefix)
    }
    pattern = [config.access_point_arn(prefix + "*")] if prefix else []
    return pattern + sorted(config.access_point_arn(name) for name in exact)


def access_point_statements(config: Config) -> list[dict[str, Any]]:
    """Writes on this share's access points (exact ARNs or the prefix); deletes of access points
    tagged for this bucket (the names of removed collaborators are no longer in the file).
    s3:DeleteAccessPoint and s3:DeleteAccessPointPolicy list aws:ResourceTag, and
    s3:CreateAccessPoint and s3:TagResource list aws:RequestTag and aws:TagKeys in the Service
    Authorization Reference ("Actions defined by Amazon S3"); s3:PutAccessPointPolicy lists no
    tag key, so it is scoped by name only. The denies make every tag this role writes on an
    access point one of the tool's keys, with this bucket's name: no other share's access point
    can be marked as this share's (and so deleted by this role)."""
    anywhere = config.access_point_arn("*")
    return [
        _allow(ACCESS_POINT_WRITES, ACCESS_POINT_WRITE, access_point_resources(config)),
        {
            **_allow("ReconcilerRemoveOwnAccessPoints", ACCESS_POINT_REMOVE, anywhere),
            "Condition": {"StringEquals": _own_user_tags(config)},
        },
    ]


def tag_denies(config: Config) -> list[dict[str, Any]]:
    """Tags this role writes (on create, tag or untag) are only the tool's own keys, and those
    that name a bucket name this one: no user or access point of another share can be marked
    as this share's (and then changed or deleted by this role). As denies, so that no other
    grant can lift them; `ForAnyValue:StringNotEquals aws:TagKeys` is the negation of
    `ForAllValues:StringEquals` (IAM User Guide, "Set operators for multivalued context
    keys"). aws:TagKeys is listed for all six actions, aws:RequestTag for the create and tag
    actions (Service Authorization Reference, IAM and Amazon S3)."""
    own_keys = {"aws:TagKeys": sorted(OWN_TAG_KEYS)}
    tagging = USER_TAGGING + ACCESS_POINT_TAGGING
    with_tags = tuple(a for a in tagging if ":Untag" not in a)
    resource = "*"  # a deny: wider than the users and access points costs nothing
    return [
        {
            **_deny(OTHER_BUCKETS_DENY, with_tags, resource),
            "Condition": {
                "StringNotEquals": {f"aws:RequestTag/{BUCKET_TAG_KEY}": [config.bucket.name]}
            },
        },
        {
            **_deny("ReconcilerDenyForeignTags", tagging, resource),
            "Condition": {"ForAnyValue:StringNotEquals": own_keys},
        },
    ]


def _not_another_shares(config: Config) -> dict[str, Any]:
    """A user without the bucket tag passes (not created by any share, or being created);
    one tagged for another bucket does not."""
    return {"StringEqualsIfExists": {f"aws:ResourceTag/{BUCKET_TAG_KEY}": config.bucket.name}}


def _own_user_tags(config: Config) -> dict[str, str]:
    """The tags the tool puts on its users and access points for this bucket (as resource
    tags in a condition)."""
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
            "Condition": {"StringEquals": with_boundary, **_not_another_shares(config)},
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


def _deny(sid: str, actions: tuple[str, ...], resource: str | list[str]) -> dict[str, Any]:
    return {**_allow(sid, actions, resource), "Effect": "Deny"}


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}
