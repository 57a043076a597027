"""Role sufficiency, the machinery: record every AWS call a `reconcile` command makes against the
moto server, map each to the IAM action(s) and resource ARN(s) AWS authorizes it as, with the
request context AWS would see, and ask the independent simulator (@cloud-copilot/iam-simulate,
tests/oracle/simulate.cjs, through the package's validated entry point, which also checks each
action against the Service Authorization Reference it ships) whether the role the docs assign
to that command allows it, using the policy `reconcile iam-policy` prints.

The calls are recorded by reconciler/aws/call_record.py (RECONCILE_TEST_RECORD_CALLS). What AWS
sees that the call's parameters do not say (the user's tags, path and permissions boundary, an
access point's tags, the bucket policy, the bucket's default encryption, the KMS key policy and
aliases) comes from the server's state, read before each command and updated call by call.

ACTIONS maps every API operation the tool may call; an operation missing from it fails the test
by name, so a new AWS call (issue 21 adds several) cannot slip through unjudged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e_support import ROOT, MotoServer, reconcile_env, run_reconcile

ORACLE = ROOT / "tests" / "oracle"
NODE = shutil.which("node")

# Which role the docs assign to each command (docs/ci-setup.md: the plan workflow runs with the
# read-only role, the apply workflow with the apply role; `verify`, `show`, `report` and
# `history` need no more than the read-only role; breaking a stale lock is an apply-role job).
APPLY_ROLE, READ_ONLY_ROLE = "apply", "read-only"
ROLE_OF_COMMAND = {
    "apply": APPLY_ROLE,
    "unlock": APPLY_ROLE,
    "plan": READ_ONLY_ROLE,
    "verify": READ_ONLY_ROLE,
    "show": READ_ONLY_ROLE,
    "report": READ_ONLY_ROLE,
    "history": READ_ONLY_ROLE,
    "import": READ_ONLY_ROLE,
}
ROLE_NAMES = {APPLY_ROLE: "reconciler-apply", READ_ONLY_ROLE: "reconciler-plan"}

# --- every API operation -> the IAM actions it is authorized as, and on what ---------------------
# Service Authorization Reference (SAR) for Amazon S3, IAM, AWS KMS, IAM Access Analyzer and STS
# (https://docs.aws.amazon.com/service-authorization/latest/reference/). Resource kinds:
# bucket, object (Bucket/Key), accesspoint (Name), arn (ResourceArn), user (UserName), mfa
# (SerialNumber), keyowner (the user owning AccessKeyId), key (KeyId), "*" (the SAR lists no
# resource type: only "*" grants it).
ACTIONS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("sts", "GetCallerIdentity"): (),  # needs no permission (STS API Reference)
    ("s3", "HeadBucket"): (("s3:ListBucket", "bucket"),),
    ("s3", "ListObjectsV2"): (("s3:ListBucket", "bucket"),),
    ("s3", "GetBucketLocation"): (("s3:GetBucketLocation", "bucket"),),
    ("s3", "GetBucketEncryption"): (("s3:GetEncryptionConfiguration", "bucket"),),
    ("s3", "GetPublicAccessBlock"): (("s3:GetBucketPublicAccessBlock", "bucket"),),
    ("s3", "GetBucketOwnershipControls"): (("s3:GetBucketOwnershipControls", "bucket"),),
    ("s3", "GetBucketPolicy"): (("s3:GetBucketPolicy", "bucket"),),
    ("s3", "GetBucketVersioning"): (("s3:GetBucketVersioning", "bucket"),),
    ("s3", "GetBucketLifecycleConfiguration"): (("s3:GetLifecycleConfiguration", "bucket"),),
    ("s3", "GetBucketLogging"): (("s3:GetBucketLogging", "bucket"),),
    ("s3", "GetBucketTagging"): (("s3:GetBucketTagging", "bucket"),),
    ("s3", "CreateBucket"): (("s3:CreateBucket", "bucket"),),
    ("s3", "PutBucketEncryption"): (("s3:PutEncryptionConfiguration", "bucket"),),
    ("s3", "PutPublicAccessBlock"): (("s3:PutBucketPublicAccessBlock", "bucket"),),
    ("s3", "PutBucketOwnershipControls"): (("s3:PutBucketOwnershipControls", "bucket"),),
    ("s3", "PutBucketPolicy"): (("s3:PutBucketPolicy", "bucket"),),
    ("s3", "PutBucketVersioning"): (("s3:PutBucketVersioning", "bucket"),),
    ("s3", "PutBucketLifecycleConfiguration"): (("s3:PutLifecycleConfiguration", "bucket"),),
    ("s3", "PutBucketLogging"): (("s3:PutBucketLogging", "bucket"),),
    # objects: the apply lock and the audit records (S3 adds the KMS call on a KMS bucket)
    ("s3", "PutObject"): (("s3:PutObject", "object"),),
    ("s3", "GetObject"): (("s3:GetObject", "object"),),
    ("s3", "HeadObject"): (("s3:GetObject", "object"),),
    ("s3", "DeleteObject"): (("s3:DeleteObject", "object"),),
    ("s3control", "ListAccessPoints"): (("s3:ListAccessPoints", "*"),),
    # the SAR lists no resource type for s3:GetAccessPoint
    ("s3control", "GetAccessPoint"): (("s3:GetAccessPoint", "*"),),
    ("s3control", "GetAccessPointPolicy"): (("s3:GetAccessPointPolicy", "accesspoint"),),
    ("s3control", "ListTagsForResource"): (("s3:ListTagsForResource", "arn"),),
    ("s3control", "CreateAccessPoint"): (
        ("s3:CreateAccessPoint", "accesspoint"),
        ("s3:TagResource", "accesspoint"),  # created with tags
    ),
    ("s3control", "PutAccessPointPolicy"): (("s3:PutAccessPointPolicy", "accesspoint"),),
    ("s3control", "DeleteAccessPointPolicy"): (("s3:DeleteAccessPointPolicy", "accesspoint"),),
    ("s3control", "DeleteAccessPoint"): (("s3:DeleteAccessPoint", "accesspoint"),),
    ("s3control", "TagResource"): (("s3:TagResource", "arn"),),
    ("s3control", "UntagResource"): (("s3:UntagResource", "arn"),),
    ("iam", "GetAccountAuthorizationDetails"): (("iam:GetAccountAuthorizationDetails", "*"),),
    ("iam", "CreateUser"): (("iam:CreateUser", "user"), ("iam:TagUser", "user")),
    ("iam", "DeleteVirtualMFADevice"): (("iam:DeleteVirtualMFADevice", "mfa"),),
    ("iam", "GetAccessKeyLastUsed"): (("iam:GetAccessKeyLastUsed", "keyowner"),),
    **{
        ("iam", op): ((f"iam:{op}", "user"),)
        for op in (
            "GetUser",
            "GetLoginProfile",
            "UpdateUser",
            "TagUser",
            "UntagUser",
            "UpdateAccessKey",
            "DeleteUser",
            "PutUserPolicy",
            "DeleteUserPolicy",
            "ListUserPolicies",
            "ListAttachedUserPolicies",
            "DetachUserPolicy",
            "ListAccessKeys",
            "DeleteAccessKey",
            "DeleteLoginProfile",
            "ListMFADevices",
            "DeactivateMFADevice",
            "ListSigningCertificates",
            "DeleteSigningCertificate",
            "ListSSHPublicKeys",
            "DeleteSSHPublicKey",
            "ListGroupsForUser",
            "ListServiceSpecificCredentials",
            "DeleteServiceSpecificCredential",
            "PutUserPermissionsBoundary",
            "DeleteUserPermissionsBoundary",
            "ListUserTags",
        )
    },
    ("kms", "DescribeKey"): (("kms:DescribeKey", "key"),),
    ("kms", "GetKeyPolicy"): (("kms:GetKeyPolicy", "key"),),
    ("kms", "PutKeyPolicy"): (("kms:PutKeyPolicy", "key"),),
    ("kms", "GetKeyRotationStatus"): (("kms:GetKeyRotationStatus", "key"),),
    ("kms", "EnableKeyRotation"): (("kms:EnableKeyRotation", "key"),),
    # the trail of bucket.data_events_trail (SAR, AWS CloudTrail: resource type trail)
    ("cloudtrail", "GetEventSelectors"): (("cloudtrail:GetEventSelectors", "trail"),),
    ("cloudtrail", "PutEventSelectors"): (("cloudtrail:PutEventSelectors", "trail"),),
    # `import` looks for the trail recording the bucket (SAR: no resource type, so "*")
    ("cloudtrail", "ListTrails"): (("cloudtrail:ListTrails", "*"),),
    ("accessanalyzer", "ValidatePolicy"): (("access-analyzer:ValidatePolicy", "*"),),
}
# S3 asks KMS on the requester's behalf when it writes or reads an object of an SSE-KMS bucket
# (S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)": PutObject needs
# kms:GenerateDataKey, GetObject kms:Decrypt), with kms:ViaService = s3.REGION.amazonaws.com and
# the encryption context aws:s3:arn: the bucket ARN with an S3 Bucket Key, else the object ARN.
# request headers S3 exposes as condition keys (Service Authorization Reference, Amazon S3)
S3_HEADER_KEYS = {
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "SSECustomerAlgorithm": "s3:x-amz-server-side-encryption-customer-algorithm",
    "IfNoneMatch": "s3:if-none-match",
    "IfMatch": "s3:if-match",  # the lock's takeover and release (PutObject, DeleteObject)
}
KMS_VIA_S3 = {"PutObject": "kms:GenerateDataKey", "GetObject": "kms:Decrypt"}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    error: str | None = None


@dataclass
class World:
    """What AWS knows when a call arrives, beyond the call's own parameters."""

    account: str
    region: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> path, tags, boundary
    key_owners: dict[str, str] = field(default_factory=dict)  # access key id -> user name
    access_point_tags: dict[str, dict[str, str]] = field(default_factory=dict)  # ARN -> tags
    bucket_policies: dict[str, Any] = field(default_factory=dict)
    bucket_keys: dict[str, tuple[str, bool]] = field(default_factory=dict)  # -> key, bucket key
    key_policies: dict[str, Any] = field(default_factory=dict)  # key ARN -> policy
    aliases: dict[str, str] = field(default_factory=dict)  # alias name / key id -> key ARN


@dataclass(frozen=True)
class Run:
    command: str
    role: str
    policies: tuple[dict[str, Any], ...]
    calls: tuple[Call, ...]
    world: World  # as it was before the command


# --- reading the server's state --------------------------------------------------------------


def snapshot(server: MotoServer, account: str, region: str) -> World:
    world = World(account, region)
    iam, s3, s3control, kms = (server.client(s) for s in ("iam", "s3", "s3control", "kms"))
    for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=["User"]):
        for user in page["UserDetailList"]:
            name = user["UserName"]
            boundary = iam.get_user(UserName=name)["User"].get("PermissionsBoundary")
            world.users[name] = {
                "path": user["Path"],
                "tags": {t["Key"]: t["Value"] for t in user.get("Tags", [])},
                "boundary": boundary["PermissionsBoundaryArn"] if boundary else None,
            }
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                world.key_owners[key["AccessKeyId"]] = name
    for point in s3control.list_access_points(AccountId=account).get("AccessPointList", []):
        arn = access_point_arn(world, point["Name"])
        tags = s3control.list_tags_for_resource(AccountId=account, ResourceArn=arn)["Tags"]
        world.access_point_tags[arn] = {t["Key"]: t["Value"] for t in tags}
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        with suppress(s3.exceptions.ClientError):
            world.bucket_policies[name] = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        try:
            rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        except s3.exceptions.ClientError:
            continue
        default = rule["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        if default["SSEAlgorithm"] == "aws:kms":
            world.bucket_keys[name] = (
                default["KMSMasterKeyID"],
                bool(rule["Rules"][0].get("BucketKeyEnabled")),
            )
    for key in kms.list_keys()["Keys"]:
        arn = key["KeyArn"]
        world.aliases[key["KeyId"]] = world.aliases[arn] = arn
        world.key_policies[arn] = json.loads(
            kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
        )
    for alias in kms.list_aliases()["Aliases"]:
        if "TargetKeyId" in alias:
            target = world.aliases.get(alias["TargetKeyId"])
            if target is not None:
                world.aliases[alias["AliasName"]] = world.aliases[alias["AliasArn"]] = target
    return world


def access_point_arn(world: World, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:s3:{world.region}:{world.account}:accesspoint/{name}"


# --- running commands ------------------------------------------------------------------------


def printed_policies(config_file: Path, role: str) -> tuple[dict[str, Any], ...]:
    """What `reconcile iam-policy` (or `--read-only`) prints for the file: one policy document,
    or several (a list, or documents one after another) when the policy is split."""
    args = ["iam-policy", "-c", str(config_file)] + (
        ["--read-only"] if role == READ_ONLY_ROLE else []
    )
    result = run_reconcile(*args, env={"PATH": os.environ.get("PATH", "/usr/bin")})
    assert result.returncode == 0, result.stderr
    return tuple(parse_documents(result.stdout))


def parse_documents(text: str) -> Iterator[dict[str, Any]]:
    decoder = json.JSONDecoder()
    index = 0
    text = text.strip()
    while index < len(text):
        value, end = decoder.raw_decode(text, index)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
        values = value if isinstance(value, list) else [value]
        for doc in values:
            if isinstance(doc, dict) and "Statement" in doc:
                yield doc
            else:  # split: {"reconciler-apply-1": document, ...}, all attached to the role
                yield from (v for v in doc.values() if isinstance(v, dict) and "Statement" in v)


@dataclass
class Recorder:
    server: MotoServer
    config_file: Path
    account: str
    region: str
    tmp: Path
    runs: list[Run] = field(default_factory=list)

    def run(self, command: str, *extra: str, expect: tuple[int, ...] = (0,)) -> str:
        role = ROLE_OF_COMMAND[command]
        record = self.tmp / f"calls-{len(self.runs)}.jsonl"
        world = snapshot(self.server, self.account, self.region)
        args = [command, *extra]
        if command != "import":
            args += ["-c", str(self.config_file)]
        env = reconcile_env(self.server, RECONCILE_TEST_RECORD_CALLS=str(record))
        # the lock lives where the YAML puts it (the shared bucket by default), as on AWS
        env.pop("RECONCILE_LOCK_BUCKET", None)
        result = run_reconcile(*args, server=self.server, env=env)
        assert result.returncode in expect, f"{command}: {result.stdout}{result.stderr}"
        lines = record.read_text().splitlines() if record.exists() else []
        calls = tuple(
            Call(d["service"], d["operation"], d["params"], d.get("error"))
            for d in map(json.loads, lines)
        )
        assert calls, f"{command} made no AWS call: {result.stderr}"
        policies = printed_policies(self.config_file, role)
        self.runs.append(Run(" ".join([command, *extra]), role, policies, calls, world))
        return result.stdout


@contextmanager
def bucket_policies_left_to_the_simulator() -> Iterator[None]:
    """moto (authentication off) applies a bucket policy's Deny statements to every object
    request, treating every condition as met (docs: /work/shared AWS notes; tests/e2e_support.py),
    so the lock object could not live in the shared bucket. Here moto checks no bucket policy at
    all: whether the bucket policy lets the role's calls through is the simulator's question."""
    from unittest import mock

    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def neutral(self: Any, action: str, resource: str) -> Any:
        return PermissionResult.NEUTRAL

    with mock.patch.object(FakeBucket, "get_permission", neutral):
        yield


# --- from calls to simulations ---------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One simulation, and the call it is for."""

    command: str
    call: str
    simulation: dict[str, Any]

    def describe(self) -> str:
        s = self.simulation
        return f"{self.command}: {self.call} needs {s['action']} on {s['resource']}"


class UnmappedOperation(AssertionError):
    pass


def questions(runs: list[Run]) -> list[Question]:
    asked: list[Question] = []
    for run in runs:
        world = _copy(run.world)
        principal = (
            f"arn:aws:sts::{world.account}:assumed-role/{ROLE_NAMES[run.role]}/github-actions"
        )
        for call in run.calls:
            asked += [
                Question(run.command, f"{call.service} {call.operation}", sim)
                for sim in simulations(call, world, principal, list(run.policies))
            ]
            update(world, call)
    return asked


def simulations(
    call: Call, world: World, principal: str, policies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    key = (call.service, call.operation)
    if key not in ACTIONS:
        raise UnmappedOperation(
            f"{call.service} {call.operation} is called but missing from ACTIONS in "
            "tests/role_calls.py: add the IAM action(s) the Service Authorization Reference "
            "lists for it, and the resource"
        )
    role_arn = (
        principal.replace(":sts:", ":iam:").replace("assumed-role/", "role/").rsplit("/", 1)[0]
    )
    base_context: dict[str, Any] = {
        "aws:SecureTransport": "true",
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": world.account,
        "aws:PrincipalType": "AssumedRole",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:TlsVersion": "1.3",
        "s3:authType": "REST-HEADER",
        "s3:ResourceAccount": world.account,
        "kms:CallerAccount": world.account,
    }
    out = []
    for action, kind in _actions(call):
        resource, resource_policy, context = _resource(kind, call, world)
        context = {**base_context, **context, **_request_context(call, action, world)}
        sim = {
            "principal": principal,
            "action": action,
            "resource": resource,
            "account": world.account,
            "identity": policies,
            "resource_policy": resource_policy,
            "context": context,
            "validated": True,
        }
        out.append(sim)
        # moving a user needs permission on the user both before and after the move (IAM User
        # Guide, "Managing IAM users", renaming a user or changing its path)
        if action == "iam:UpdateUser" and call.params.get("NewPath"):
            name, path = call.params["UserName"], call.params["NewPath"]
            moved = f"arn:aws:iam::{world.account}:user{path}{name}"
            out.append({**sim, "resource": moved})
    if call.service == "s3" and call.operation in KMS_VIA_S3:
        out += _kms_via_s3(call, world, principal, policies, base_context)
    return out


def _actions(call: Call) -> tuple[tuple[str, str], ...]:
    """A conditional delete with an ETag needs s3:GetObject as well as s3:DeleteObject (S3 User
    Guide, "How to perform conditional deletes":
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html)."""
    actions = ACTIONS[(call.service, call.operation)]
    if (call.service, call.operation) == ("s3", "DeleteObject") and call.params.get("IfMatch"):
        return (*actions, ("s3:GetObject", "object"))
    return actions


def _resource(kind: str, call: Call, world: World) -> tuple[str, Any, dict[str, Any]]:
    p = call.params
    if kind in ("bucket", "object"):
        bucket = p["Bucket"]
        arn = f"arn:aws:s3:::{bucket}" + (f"/{p['Key']}" if kind == "object" else "")
        context: dict[str, Any] = {}
        if call.operation == "ListObjectsV2":
            context["s3:prefix"] = p.get("Prefix", "")
            if "Delimiter" in p:
                context["s3:delimiter"] = p["Delimiter"]
        return arn, world.bucket_policies.get(bucket), context
    if kind in ("accesspoint", "arn"):
        arn = access_point_arn(world, p["Name"] if kind == "accesspoint" else p["ResourceArn"])
        return arn, None, _tags("aws:ResourceTag", world.access_point_tags.get(arn, {}))
    if kind == "user":
        return _user(p["UserName"], call, world)
    if kind == "keyowner":
        return _user(world.key_owners[p["AccessKeyId"]], call, world)
    if kind == "mfa":
        return p["SerialNumber"], None, {}
    if kind == "key":
        arn = world.aliases.get(p["KeyId"], p["KeyId"])
        return arn, world.key_policies.get(arn), _key_aliases(world, arn)
    if kind == "trail":
        name = p["TrailName"]
        if name.startswith("arn:"):
            return name, None, {}
        return f"arn:aws:cloudtrail:{world.region}:{world.account}:trail/{name}", None, {}
    assert kind == "*", kind
    return "*", None, {}


def _key_aliases(world: World, key_arn: str) -> dict[str, Any]:
    """kms:ResourceAliases: the aliases of the key (AWS KMS Developer Guide, "AWS KMS condition
    keys"), multi-valued."""
    names = sorted(a for a, k in world.aliases.items() if k == key_arn and a.startswith("alias/"))
    return {"kms:ResourceAliases": names} if names else {}


def _user(name: str, call: Call, world: World) -> tuple[str, Any, dict[str, Any]]:
    user = world.users.get(name)
    if call.operation == "CreateUser" or user is None:
        path = call.params.get("Path", "/") if call.operation == "CreateUser" else "/"
        context: dict[str, Any] = {}
        boundary = call.params.get("PermissionsBoundary")
    else:
        path = user["path"]
        context = _tags("aws:ResourceTag", user["tags"])
        boundary = user["boundary"]
    if call.operation == "PutUserPermissionsBoundary":
        boundary = call.params["PermissionsBoundary"]
    if boundary:
        context["iam:PermissionsBoundary"] = boundary
    return f"arn:aws:iam::{world.account}:user{path}{name}", None, context


def _request_context(call: Call, action: str, world: World) -> dict[str, Any]:
    """Keys set from the request's parameters: tags (aws:RequestTag, aws:TagKeys), and
    kms:BypassPolicyLockoutSafetyCheck (AWS KMS Developer Guide, "AWS KMS condition keys":
    the value of that parameter of CreateKey / PutKeyPolicy)."""
    p = call.params
    headers = {k: str(p[name]) for name, k in S3_HEADER_KEYS.items() if name in p}
    if headers:
        return headers
    if "BypassPolicyLockoutSafetyCheck" in p:
        return {
            "kms:BypassPolicyLockoutSafetyCheck": str(p["BypassPolicyLockoutSafetyCheck"]).lower()
        }
    tags = p.get("Tags")
    if isinstance(tags, list) and tags:
        pairs = {t["Key"]: t["Value"] for t in tags}
        return {**_tags("aws:RequestTag", pairs), "aws:TagKeys": sorted(pairs)}
    if call.operation in ("UntagUser", "UntagResource"):
        return {"aws:TagKeys": sorted(p["TagKeys"])}
    if call.operation == "PutKeyPolicy" and "BypassPolicyLockoutSafetyCheck" in p:
        # a Bool key (AWS KMS Developer Guide, kms:BypassPolicyLockoutSafetyCheck)
        bypass = str(p["BypassPolicyLockoutSafetyCheck"]).lower()
        return {"kms:BypassPolicyLockoutSafetyCheck": bypass}
    return {}


def _tags(prefix: str, tags: dict[str, str]) -> dict[str, Any]:
    return {f"{prefix}/{k}": v for k, v in tags.items()}


def _kms_via_s3(
    call: Call,
    world: World,
    principal: str,
    policies: list[dict[str, Any]],
    base_context: dict[str, Any],
) -> list[dict[str, Any]]:
    bucket = call.params["Bucket"]
    if bucket not in world.bucket_keys:
        return []
    if call.operation == "GetObject" and call.error:  # nothing there: nothing to decrypt
        return []
    key_id, bucket_key = world.bucket_keys[bucket]
    key = world.aliases.get(key_id, key_id)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    context = {
        **{k: v for k, v in base_context.items() if k.startswith(("aws:", "kms:"))},
        **_key_aliases(world, key),
        "kms:ViaService": f"s3.{world.region}.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": (
            bucket_arn if bucket_key else f"{bucket_arn}/{call.params['Key']}"
        ),
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
    }
    return [
        {
            "principal": principal,
            "action": KMS_VIA_S3[call.operation],
            "resource": key,
            "account": world.account,
            "identity": policies,
            "resource_policy": world.key_policies.get(key),
            "context": context,
            # the package's validation drops kms:EncryptionContext:aws:s3:arn (row 2 of
            # tests/oracle/known_simulator_errors.md): its evaluator is called directly, with
            # only the keys this KMS request carries
            "validated": False,
        }
    ]


def update(world: World, call: Call) -> None:
    """What the call changed, for the calls after it."""
    if call.error:
        return
    p, op = call.params, call.operation
    if op == "CreateUser":
        world.users[p["UserName"]] = {
            "path": p.get("Path", "/"),
            "tags": {t["Key"]: t["Value"] for t in p.get("Tags", [])},
            "boundary": p.get("PermissionsBoundary"),
        }
    elif op in ("UpdateUser", "TagUser", "UntagUser", "DeleteUser") or "Boundary" in op:
        user = world.users.get(p.get("UserName", ""))
        if user is None:
            return
        if op == "UpdateUser" and p.get("NewPath"):
            user["path"] = p["NewPath"]
        elif op == "TagUser":
            user["tags"].update({t["Key"]: t["Value"] for t in p["Tags"]})
        elif op == "UntagUser":
            user["tags"] = {k: v for k, v in user["tags"].items() if k not in p["TagKeys"]}
        elif op == "PutUserPermissionsBoundary":
            user["boundary"] = p["PermissionsBoundary"]
        elif op == "DeleteUserPermissionsBoundary":
            user["boundary"] = None
        elif op == "DeleteUser":
            del world.users[p["UserName"]]
    elif call.service == "s3control":
        _update_access_point(world, call)
    elif op == "PutBucketPolicy":
        world.bucket_policies[p["Bucket"]] = json.loads(p["Policy"])
    elif op == "PutBucketEncryption":
        rule = p["ServerSideEncryptionConfiguration"]["Rules"][0]
        default = rule["ApplyServerSideEncryptionByDefault"]
        if default["SSEAlgorithm"] == "aws:kms":
            world.bucket_keys[p["Bucket"]] = (
                default["KMSMasterKeyID"],
                bool(rule.get("BucketKeyEnabled")),
            )
        else:
            world.bucket_keys.pop(p["Bucket"], None)
    elif op == "PutKeyPolicy":
        world.key_policies[world.aliases.get(p["KeyId"], p["KeyId"])] = json.loads(p["Policy"])


def _update_access_point(world: World, call: Call) -> None:
    p, op = call.params, call.operation
    if op == "CreateAccessPoint":
        arn = access_point_arn(world, p["Name"])
        world.access_point_tags[arn] = {t["Key"]: t["Value"] for t in p.get("Tags", [])}
    elif op == "DeleteAccessPoint":
        world.access_point_tags.pop(access_point_arn(world, p["Name"]), None)
    elif op == "TagResource":
        tags = world.access_point_tags.setdefault(p["ResourceArn"], {})
        tags.update({t["Key"]: t["Value"] for t in p["Tags"]})
    elif op == "UntagResource":
        tags = world.access_point_tags.setdefault(p["ResourceArn"], {})
        for key in p["TagKeys"]:
            tags.pop(key, None)


def _copy(world: World) -> World:
    return World(**json.loads(json.dumps(world.__dict__)))


# --- the simulator ---------------------------------------------------------------------------


def simulate(simulations: list[dict[str, Any]]) -> list[str]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(ORACLE / "simulate.cjs")],
        input=json.dumps(simulations),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results: list[str] = json.loads(done.stdout)
    return results


def denials(asked: list[Question], answers: list[str]) -> list[str]:
    return sorted(
        {f"{q.describe()}: {a}" for q, a in zip(asked, answers, strict=True) if a != "Allowed"}
    )
