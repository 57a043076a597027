"""Builds the policy documents the tool writes, from the desired model. Pure functions.

Authorization through an access point needs both the access point policy and the bucket policy
to allow the request (S3 User Guide, "Configuring IAM policies for using access points"). The
bucket policy therefore only delegates to access points of this account; each access point policy
grants one principal its access levels under its own prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.model import (
    POLICY_VERSION,
    AccessLevel,
    Collaborator,
    Config,
    canonical_policy,
)

# write = PutObject + AbortMultipartUpload, read = GetObject, delete = DeleteObject,
# list = ListBucket on the access point ARN with an s3:prefix condition.
OBJECT_ACTIONS: dict[AccessLevel, tuple[str, ...]] = {
    AccessLevel.WRITE: ("s3:AbortMultipartUpload", "s3:PutObject"),
    AccessLevel.READ: ("s3:GetObject",),
    AccessLevel.DELETE: ("s3:DeleteObject",),
}
LIST_ACTION = "s3:ListBucket"
ALL_DELEGATED_ACTIONS = tuple(
    sorted({a for actions in OBJECT_ACTIONS.values() for a in actions} | {LIST_ACTION})
)

# With SSE-KMS, S3 calls KMS on the requester's behalf: PutObject needs kms:GenerateDataKey,
# GetObject kms:Decrypt, and a multipart upload both (S3 User Guide, "Using server-side encryption
# with AWS KMS keys (SSE-KMS)", https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html,
# and "Multipart upload API and permissions",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
# `write` includes multipart uploads (AbortMultipartUpload; the AWS CLI splits large files).
KMS_ACTIONS: dict[AccessLevel, tuple[str, ...]] = {
    AccessLevel.WRITE: ("kms:Decrypt", "kms:GenerateDataKey"),
    AccessLevel.READ: ("kms:Decrypt",),
}
KMS_VIA_SERVICE = "kms:ViaService"
# The encryption context S3 sends to KMS is the bucket ARN when the object is encrypted with an
# S3 Bucket Key, and the object ARN when it is not (S3 User Guide, "Reducing the cost of SSE-KMS
# with Amazon S3 Bucket Keys", "Changes to note before enabling an S3 Bucket Key":
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html; "Encryption context":
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context).
# The tool turns the Bucket Key on, but objects written before (an adopted bucket) and a PUT with
# `x-amz-server-side-encryption-bucket-key-enabled: false` use the object ARN: statements allow
# both, the object form only under the collaborator's own prefix (`kms_conditions`).
KMS_CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"
SID_KMS = "ReconcilerUseBucketKeyThroughS3"
SID_KEY_POLICY_PREFIX = "ReconcilerPrincipals"
SID_DELEGATE = "ReconcilerDelegateToAccessPoints"
SID_DENY_INSECURE = "ReconcilerDenyInsecureTransport"
SID_DENY_OLD_SIGNATURES = "ReconcilerDenyLongLivedPresignedUrls"
SID_DENY_SIGV2 = "ReconcilerDenySignatureVersion2"
SID_DENY_OLD_TLS = "ReconcilerDenyTlsBefore12"
SID_DENY_OTHER_ENCRYPTION = "ReconcilerDenyOtherEncryption"
SID_DENY_OTHER_KMS_KEYS = "ReconcilerDenyOtherKmsKeys"
SID_DENY_DEFAULT_KMS_KEY = "ReconcilerDenyAwsManagedKmsKey"
SID_DENY_CUSTOMER_KEYS = "ReconcilerDenyCustomerProvidedKeys"
# Every Sid bucket_statements() writes, now or in an earlier version: the planner replaces only
# these in a bucket policy and keeps any other statement, "Reconciler..." Sids included (a
# newer version's, or a person's). A new bucket statement's Sid must be added here (a test
# checks it).
BUCKET_STATEMENT_SIDS = frozenset(
    {
        SID_DELEGATE,
        SID_DENY_INSECURE,
        SID_DENY_OLD_SIGNATURES,
        SID_DENY_SIGV2,
        SID_DENY_OLD_TLS,
        SID_DENY_OTHER_ENCRYPTION,
        SID_DENY_OTHER_KMS_KEYS,
        SID_DENY_DEFAULT_KMS_KEY,
        SID_DENY_CUSTOMER_KEYS,
    }
)
# s3:DataAccessPointArn is of type ARN in the Service Authorization Reference; ArnLike matches
# each part of the ARN apart, and a trailing "*" in the resource part matches every access
# point name starting with the prefix (IAM User Guide, condition operators, "Amazon Resource
# Name (ARN) condition operators"; S3 User Guide, "Configuring IAM policies for using access
# points", condition keys: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html#access-points-condition-keys).
AP_ARN_KEY = "s3:DataAccessPointArn"
# Signature Version 2: "AWS"; Signature Version 4: "AWS4-HMAC-SHA256". With SigV2,
# s3:signatureAge is always 0, so the presigned-URL cap never applies (S3 API Reference, "Amazon
# S3 Signature Version 4 Authentication Specific Policy Keys",
# https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html).
SIGNATURE_VERSION_KEY = "s3:signatureversion"
SIGV4 = "AWS4-HMAC-SHA256"
# s3:TlsVersion is numeric; absent without TLS (ReconcilerDenyInsecureTransport denies those).
# The statement follows AWS re:Post, "How can I enforce TLS version 1.2 or later for my Amazon S3
# buckets?" (https://repost.aws/knowledge-center/s3-enforce-modern-tls).
TLS_VERSION_KEY = "s3:TlsVersion"
MIN_TLS_VERSION = "1.2"
# The encryption headers an upload may carry; each is a condition key of s3:PutObject (Service
# Authorization Reference for Amazon S3), the action S3 authorizes for PutObject, CopyObject (the
# destination), CreateMultipartUpload and UploadPart(Copy) (S3 User Guide, "Multipart upload API
# and permissions": https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions;
# CopyObject API Reference, "Permissions": s3:GetObject on the source, s3:PutObject on the
# destination, https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html; the SAR
# lists s3:x-amz-copy-source among PutObject's condition keys).
# A header that is absent makes StringNotEquals true, so each Deny first requires the header to
# be present (Null "false"): an upload with no header keeps the bucket default and is allowed.
SSE_KEY = "s3:x-amz-server-side-encryption"
SSE_KMS_KEY_ID_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_CUSTOMER_KEY = "s3:x-amz-server-side-encryption-customer-algorithm"
# s3:signatureAge is in milliseconds and is set only for presigned URLs (S3 API Reference,
# "Amazon S3 Signature Version 4 Authentication Specific Policy Keys",
# https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html; the
# Deny with NumericGreaterThan follows AWS Prescriptive Guidance, "Presigned URL best practices:
# Additional guardrails", Guardrail for s3:signatureAge).
SIGNATURE_AGE_KEY = "s3:signatureAge"


# `console: true`: the S3 console opens an access point by listing it from its root with
# delimiter "/" (no s3:prefix, or an empty one), which the s3:prefix condition of the list level
# denies. This statement allows exactly that request: the top level only (prefix "" and
# delimiter "/", the form of the IAM User Guide's example "Amazon S3: Allows IAM users access to
# their S3 home directory, programmatically and in the console"), never a listing without the
# delimiter, which would show every key. It shows the bucket's top-level folder names.
SID_CONSOLE_TOP_LEVEL = "ReconcilerConsoleTopLevel"
CONSOLE_TOP_LEVEL_CONDITION = {"StringEquals": {"s3:prefix": "", "s3:delimiter": "/"}}
# ...and the console lists buckets and access points before the user can pick one, and
# describes the access point it opens (s3:GetAccessPoint). None of the three supports
# resource-level permissions: the Service Authorization Reference for Amazon S3 lists no
# resource type for them, so "*" is the only resource that grants them (a statement naming the
# access point ARN grants nothing on AWS; tests/test_sar_conformance.py). So they show every
# bucket name in the account, and every access point's name and configuration (bucket, network
# origin; never its policy) in the Region. The AWS CLI needs none of them
# (docs/collaborators.md).
CONSOLE_ACCOUNT_ACTIONS = ("s3:GetAccessPoint", "s3:ListAccessPoints", "s3:ListAllMyBuckets")
SID_CONSOLE_LISTS = "ReconcilerConsoleListBucketsAndAccessPoints"


def access_sid(level: AccessLevel) -> str:
    return f"Reconciler{level.value.capitalize()}"


def level_statements(config: Config, collaborator: Collaborator) -> list[dict[str, Any]]:
    """The collaborator's levels (and with `console: true` the top-level listing) as statements
    on its access point, without a Principal: the access point policy names the principal; a
    partner's identity policy is these statements as they stand."""
    ap_arn = config.access_point_arn(collaborator.access_point)
    statements: list[dict[str, Any]] = []
    for level in sorted(collaborator.access, key=lambda lv: lv.value):
        statement: dict[str, Any] = {"Sid": access_sid(level), "Effect": "Allow"}
        if level is AccessLevel.LIST:
            statement["Action"] = LIST_ACTION
            statement["Resource"] = ap_arn
            statement["Condition"] = {"StringLike": {"s3:prefix": f"{collaborator.prefix}*"}}
        else:
            statement["Action"] = list(OBJECT_ACTIONS[level])
            statement["Resource"] = f"{ap_arn}/object/{collaborator.prefix}*"
        statements.append(statement)
    if collaborator.console and collaborator.access:
        statements.append(
            {
                "Sid": SID_CONSOLE_TOP_LEVEL,
                "Effect": "Allow",
                "Action": LIST_ACTION,
                "Resource": ap_arn,
                "Condition": CONSOLE_TOP_LEVEL_CONDITION,
            }
        )
    return statements


def access_point_policy(config: Config, collaborator: Collaborator) -> dict[str, Any]:
    """The collaborator's principal gets exactly its levels, under its prefix, via its AP."""
    principal = {"AWS": config.principal_arn(collaborator)}
    statements = [
        {**statement, "Principal": principal}
        for statement in level_statements(config, collaborator)
    ]
    return _document(statements)


def identity_statements(config: Config, collaborator: Collaborator) -> list[dict[str, Any]]:
    """What a managed user's own inline policy must allow, on top of its access point policy.

    The AWS CLI needs nothing here: through an access point, the access point policy and the
    bucket policy must both permit a request ("Configuring IAM policies for using access
    points"); in the same account, a resource policy that names the user's ARN is enough and the
    user's identity policy may be silent ("Policy evaluation for requests within a single
    account"). So by default the user gets no S3 permission of its own, and in particular
    nothing that lists bucket or access point names. With `console: true` it gets what the S3
    console needs to reach its access point.
    """
    kms = kms_statement(config, collaborator)
    statements = [kms] if kms else []
    if collaborator.console and collaborator.access:
        statements += [
            {
                "Sid": SID_CONSOLE_LISTS,
                "Effect": "Allow",
                "Action": list(CONSOLE_ACCOUNT_ACTIONS),
                "Resource": "*",
            },
        ]
    return statements


def identity_policy(config: Config, collaborator: Collaborator) -> dict[str, Any] | None:
    """The managed user's inline policy, or None when it needs none (the default on an SSE-S3
    bucket)."""
    statements = identity_statements(config, collaborator)
    return _document(statements) if statements else None


def partner_identity_policy(config: Config, collaborator: Collaborator) -> dict[str, Any] | None:
    """The identity policy the administrator of a partner account attaches to the collaborator's
    principal there; None for a principal in this account (a resource policy naming it is
    enough there). Across accounts the requester's identity policy AND the resource policies
    must allow a request (IAM User Guide, "Cross-account policy evaluation logic"): these are
    the access point policy's statements, for the same actions on the same resources, and on an
    SSE-KMS bucket the KMS statement for the bucket's key."""
    if collaborator.principal is None or not is_other_account(config, collaborator):
        return None
    kms = kms_statement(config, collaborator)
    levels = [_with_bucket_resource(config, s) for s in level_statements(config, collaborator)]
    statements = [*levels, *([kms] if kms else [])]
    return _document(statements) if statements else None


def _with_bucket_resource(config: Config, statement: dict[str, Any]) -> dict[str, Any]:
    """The statement on the access point ARN and on the same place in the bucket. AWS judges
    the requester's identity policy against the access point ARN (S3 User Guide, "Configuring
    IAM policies for using access points",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html, whose
    cross-account examples grant only that); the bucket ARN makes the policy work under a
    reading that also judges it against the bucket. Harmless: the bucket policy admits the
    bucket's data only through this share's access points, whose policies name the principal."""
    bucket = f"arn:aws:s3:::{config.bucket.name}"
    resource = str(statement["Resource"])
    _, _, key_pattern = resource.partition("/object/")
    in_bucket = f"{bucket}/{key_pattern}" if key_pattern else bucket
    return {**statement, "Resource": [resource, in_bucket]}


def is_other_account(config: Config, collaborator: Collaborator) -> bool:
    return config.principal_arn(collaborator).split(":")[4] != config.account_id


def kms_actions(collaborator: Collaborator) -> tuple[str, ...]:
    """The KMS actions its levels need on the bucket's key (none without read or write)."""
    return tuple(sorted({a for lv in collaborator.access for a in KMS_ACTIONS.get(lv, ())}))


def key_resource(config: Config) -> str:
    """The key ARN; offline, before an alias is resolved, every key of the account in the
    Region (what a permissions boundary derived from these statements must allow; plan always
    writes the resolved ARN, and size checks measure a full-length ARN: `sized_key`)."""
    arn = config.bucket.key_arn
    if arn is not None:
        return arn
    return f"arn:aws:kms:{config.region}:{config.account_id}:key/*"


def sized_key(config: Config) -> Config:
    """The config with a stand-in key ARN as long as any real one (a 36-character key id), for
    measuring policies before an alias is resolved."""
    if not config.bucket.kms or config.bucket.key_arn is not None:
        return config
    stand_in = f"arn:aws:kms:{config.region}:{config.account_id}:key/{'0' * 36}"
    return replace(config, bucket=replace(config.bucket, kms_key_arn=stand_in))


def kms_conditions(config: Config, prefix: str | None = None) -> dict[str, Any]:
    """Only through S3 in the bucket's Region, only for this bucket: the bucket ARN (objects
    encrypted with the Bucket Key) or the ARN of an object under `prefix` (objects encrypted
    without it); None: any object of the bucket (the key policy, one statement for every
    partner; S3 has already authorized the request for its prefix before it calls KMS)."""
    bucket_arn = f"arn:aws:s3:::{config.bucket.name}"
    objects = f"{bucket_arn}/{prefix if prefix is not None else ''}*"
    return {
        "StringEquals": {KMS_VIA_SERVICE: f"s3.{config.region}.amazonaws.com"},
        "StringLike": {KMS_CONTEXT_KEY: [bucket_arn, objects]},
    }


def kms_statement(config: Config, collaborator: Collaborator) -> dict[str, Any] | None:
    """The identity-policy statement that lets S3 use the bucket's key for its levels (SSE-KMS
    only). Also what a partner's administrator attaches in the partner's account."""
    actions = kms_actions(collaborator)
    if not config.bucket.kms or not actions:
        return None
    return {
        "Sid": SID_KMS,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": key_resource(config),
        "Condition": kms_conditions(config, collaborator.prefix),
    }


def key_policy_statements(config: Config) -> list[dict[str, Any]]:
    """Our statements in the key policy (bucket.manage_key_policy): every `principal:`
    collaborator is named, since this tool writes no identity policy for it. A principal of
    another account than the key's needs the key policy to name it (AWS KMS Developer Guide,
    "Allowing users in other accounts to use a KMS key"); one of the key's account is then
    allowed by the key policy alone ("Key policies in AWS KMS"). Users this tool creates get
    their KMS statement in their identity policy and rely on the key policy's delegation to
    IAM. One statement per set of actions; suspended collaborators are left out."""
    if not config.bucket.kms or config.bucket.key_arn is None:
        return []
    by_actions: dict[tuple[str, ...], set[str]] = {}
    for collab in config.collaborators:
        principal = config.principal_arn(collab)
        actions = kms_actions(collab)
        if actions and not collab.suspended and collab.principal is not None:
            by_actions.setdefault(actions, set()).add(principal)
    return [
        {
            "Sid": SID_KEY_POLICY_PREFIX + "".join(a.split(":")[1] for a in actions),
            "Effect": "Allow",
            "Principal": {"AWS": _one_or_list(sorted(principals))},
            "Action": list(actions),
            "Resource": "*",
            "Condition": kms_conditions(config),
        }
        for actions, principals in sorted(by_actions.items())
    ]


def _one_or_list(values: list[str]) -> str | list[str]:
    """As the canonical form writes it, so a second plan finds nothing to change."""
    return values[0] if len(values) == 1 else values


def delegated_access_points(config: Config) -> list[str]:
    """The access point ARNs the bucket delegates to (ArnLike values): with
    access_point_prefix, `accesspoint/<prefix>*`; every access point of the file that the prefix
    does not cover (a name given with access_point:), exactly. Suspended collaborators' access
    points are included: they stay, without a policy, and the statement does not change on
    every suspension."""
    base = config.access_point_arn("")
    prefix = config.access_point_prefix
    values = [f"{base}{prefix}*"] if prefix else []
    values += sorted(
        {
            config.access_point_arn(c.access_point)
            for c in config.collaborators
            if not (prefix and c.access_point.startswith(prefix))
        }
    )
    return values


def delegate_statement(config: Config) -> dict[str, Any] | None:
    """Allow everyone, but only through this share's access points: a request through any
    other access point of the account (one anybody with s3:CreateAccessPoint could attach to this
    bucket, with any policy) gets nothing from the bucket. None without access points."""
    access_points = delegated_access_points(config)
    if not access_points:
        return None
    bucket_arn = f"arn:aws:s3:::{config.bucket.name}"
    return {
        "Sid": SID_DELEGATE,
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": list(ALL_DELEGATED_ACTIONS),
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"ArnLike": {AP_ARN_KEY: _one_or_list(access_points)}},
    }


def _deny(sid: str, action: str, resources: list[str] | str, condition: Any) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resources,
        "Condition": condition,
    }


def encryption_statements(config: Config) -> list[dict[str, Any]]:
    """Uploaders cannot choose the encryption: a PutObject (upload, copy, multipart upload) that
    names another algorithm, another KMS key, no key on an SSE-KMS bucket (S3 would use the AWS
    managed key aws/s3: PutObject API Reference, x-amz-server-side-encryption-aws-kms-key-id), or
    a customer-provided key (SSE-C) is denied. An upload with no encryption header keeps the
    bucket default. On an SSE-KMS bucket the algorithm must be aws:kms: dual-layer aws:kms:dsse
    is refused too (no Bucket Key, another price; the tool writes aws:kms). The KMS key is named
    by its ARN (S3 compares the header as sent: a key id or alias is refused)."""
    objects = f"arn:aws:s3:::{config.bucket.name}/*"
    put = "s3:PutObject"
    statements = [
        _deny(
            SID_DENY_OTHER_ENCRYPTION,
            put,
            objects,
            {"StringNotEquals": {SSE_KEY: config.bucket.encryption}, "Null": {SSE_KEY: "false"}},
        ),
        _deny(SID_DENY_CUSTOMER_KEYS, put, objects, {"Null": {SSE_CUSTOMER_KEY: "false"}}),
    ]
    if config.bucket.kms:
        statements += [
            _deny(
                SID_DENY_OTHER_KMS_KEYS,
                put,
                objects,
                {
                    # a string comparison: S3 compares the header as sent, so a key id or an
                    # alias of the right key is refused too (only the key ARN passes); "Like"
                    # for the offline stand-in `key/*` before an alias is resolved
                    "StringNotLike": {SSE_KMS_KEY_ID_KEY: key_resource(config)},
                    "Null": {SSE_KMS_KEY_ID_KEY: "false"},
                },
            ),
            _deny(
                SID_DENY_DEFAULT_KMS_KEY,
                put,
                objects,
                {"Null": {SSE_KEY: "false", SSE_KMS_KEY_ID_KEY: "true"}},
            ),
        ]
    return statements


def bucket_statements(config: Config) -> list[dict[str, Any]]:
    """Our statements in the bucket policy: delegate to this share's access points, TLS 1.2 or
    later only, Signature Version 4 only, presigned URLs valid for at most
    bucket.presigned_url_max_age_seconds, uploads only with the bucket's encryption."""
    bucket_arn = f"arn:aws:s3:::{config.bucket.name}"
    resources = [bucket_arn, f"{bucket_arn}/*"]
    max_age_ms = config.bucket.presigned_url_max_age_seconds * 1000
    delegate = delegate_statement(config)
    return [
        *([delegate] if delegate else []),
        _deny(SID_DENY_INSECURE, "s3:*", resources, {"Bool": {"aws:SecureTransport": "false"}}),
        _deny(
            SID_DENY_OLD_SIGNATURES,
            "s3:*",
            resources,
            {"NumericGreaterThan": {SIGNATURE_AGE_KEY: str(max_age_ms)}},
        ),
        # absent only for unsigned (anonymous) requests, which are denied with it
        _deny(
            SID_DENY_SIGV2, "s3:*", resources, {"StringNotEquals": {SIGNATURE_VERSION_KEY: SIGV4}}
        ),
        _deny(
            SID_DENY_OLD_TLS,
            "s3:*",
            resources,
            {"NumericLessThan": {TLS_VERSION_KEY: MIN_TLS_VERSION}},
        ),
        *encryption_statements(config),
    ]


def bucket_policy_document(config: Config) -> dict[str, Any]:
    """The bucket policy as this tool would write it to an empty bucket (our statements only)."""
    return _document(bucket_statements(config))


def policy_text(document: Mapping[str, Any]) -> str:
    """The exact JSON text the writer sends to AWS for a policy document."""
    return json.dumps(document)


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    doc = canonical_policy({"Version": POLICY_VERSION, "Statement": statements})
    assert doc is not None
    return doc
