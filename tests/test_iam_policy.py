"""The policy `reconcile iam-policy` prints covers every AWS call the tool makes, and no more
than it must.

The calls are recorded, not listed by hand: a scenario runs the real `reconcile` command with
-v against a moto server (create, drift, a user moved between paths, an access point replaced,
a collaborator removed with every kind of credential the teardown deletes) and each logged call
is mapped to the IAM actions it needs (Service Authorization Reference) and checked against the
printed policy with a small evaluator. A static scan of reconciler/aws/ makes sure no operation
the code can call escapes the table.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from reconciler.aws.emulator import iam_boundaries
from reconciler.documents.boundary import boundary_policy
from reconciler.documents.iam_policy import (
    MANAGED_POLICY_MAX_CHARS,
    NO_BOUNDARY_NOTE,
    policy_size,
    tool_policy,
)
from reconciler.documents.policy_set import policy_set
from reconciler.model import Config
from tests.conftest import BASE_YAML, config_from
from tests.e2e_support import (
    LOCK_BUCKET,
    MotoServer,
    moto_server,
    moto_server_session,
    run_reconcile,
)
from tests.iam_conditions import Context, conditions_met, key_met
from tests.role_calls import ACTIONS

__all__ = ["moto_server", "moto_server_session"]
ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
OUR_TAGS = {
    "aws:ResourceTag/reconciler:managed-by": "s3-collaborator-reconciler",
    "aws:ResourceTag/reconciler:bucket": BUCKET,
}
# the end-to-end tests keep the apply lock in a bucket of its own (see tests/e2e_support.py)
AUDIT_BUCKET = "reconciler-test-audit"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary"
# bob opts in to the console, so that he has an inline policy to drift and to tear down
# the log bucket of bucket.access_logs (issue 21), which must exist before the first apply
LOG_BUCKET = "reconciler-test-access-logs"
# the trail of bucket.data_events_trail (issue 21), also made before the first apply
TRAIL = "reconciler-test-trail"
SCENARIO_YAML = (
    BASE_YAML.replace("list]\n", "list]\n    console: true\n").replace(
        f"  name: {BUCKET}\n",
        f"  name: {BUCKET}\n  access_logs:\n    bucket: {LOG_BUCKET}\n    manage_policy: true\n"
        f"  data_events_trail: {TRAIL}\n",
    )
    + f"lock:\n  bucket: {LOCK_BUCKET}\n"
    + f"audit:\n  bucket: {AUDIT_BUCKET}\n"
    + f"iam_permissions_boundary: {BOUNDARY}\n"
)
# Service Authorization Reference (IAM): user actions whose requests carry iam:PermissionsBoundary
# (the boundary requested for CreateUser / PutUserPermissionsBoundary, else the user's own)
BOUNDARY_KEY_ACTIONS = {
    "iam:AttachUserPolicy",
    "iam:CreateUser",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteUserPolicy",
    "iam:DetachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
}
AWS_PACKAGE = Path(__file__).resolve().parents[1] / "reconciler" / "aws"

# --- which IAM actions each API operation needs, and on what ------------------------------------
# One table for the whole suite: tests/role_calls.py maps every operation to the actions the
# Service Authorization Reference names for it, and the kind of resource they apply to.

# Called only after DeleteUser fails with DeleteConflict, which moto never returns (it does not
# implement service-specific credentials); covered by the static check below.
NOT_EXERCISED = {
    ("iam", "ListServiceSpecificCredentials"),
    ("iam", "DeleteServiceSpecificCredential"),
}
# Called only by `reconcile import` (looking for the trail of bucket.data_events_trail), which
# this scenario does not run: tests/test_role_sufficiency.py records it and judges it against
# the read-only role; here, the read-only policy allows it (below).
IMPORT_ONLY = {("cloudtrail", "ListTrails")}


# --- a small IAM evaluator: wildcards, StringEquals / StringNotEquals, Deny wins ---------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(s: Mapping[str, Any], action: str, resource: str, ctx: Context) -> bool:
    return (
        any(fnmatchcase(action.lower(), a.lower()) for a in _as_list(s["Action"]))
        and any(fnmatchcase(resource, r) for r in _as_list(s["Resource"]))
        and conditions_met(s.get("Condition"), ctx, deny=s["Effect"] == "Deny")
    )


def allowed(policy: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    statements = policy["Statement"]
    assert all(s["Effect"] in ("Allow", "Deny") for s in statements)
    if action not in BOUNDARY_KEY_ACTIONS:  # the request carries no iam:PermissionsBoundary
        context = {k: v for k, v in context.items() if k != "iam:PermissionsBoundary"}
    matching = [s for s in statements if _matches(s, action, resource, context)]
    return bool(matching) and all(s["Effect"] == "Allow" for s in matching)


def test_operators_follow_the_user_guide() -> None:
    ctx: dict[str, str | list[str]] = {"k": "a", "aws:TagKeys": ["x", "y"]}
    assert key_met("StringEquals", "k", ["a", "b"], ctx)
    assert not key_met("StringEquals", "missing", "a", ctx)
    assert key_met("StringNotEquals", "missing", "a", ctx)
    assert key_met("StringEqualsIfExists", "missing", "a", ctx)
    assert not key_met("StringEqualsIfExists", "k", "b", ctx)
    assert key_met("ForAllValues:StringEquals", "aws:TagKeys", ["x", "y", "z"], ctx)
    assert not key_met("ForAllValues:StringEquals", "aws:TagKeys", ["x"], ctx)
    assert key_met("ForAllValues:StringEquals", "missing", ["x"], ctx)
    assert key_met("ForAnyValue:StringNotEquals", "aws:TagKeys", ["x"], ctx)
    assert not key_met("ForAnyValue:StringNotEquals", "missing", ["x"], ctx)
    assert key_met("Bool", "b", "false", {"b": "false"})
    assert key_met("NumericLessThan", "k", "1", ctx) is None


def test_evaluator_denies_what_it_should() -> None:
    policy = tool_policy(config_from(BASE_YAML), read_only=False).document
    ap = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/alice-access-point"
    assert allowed(policy, "s3:PutAccessPointPolicy", ap, {})
    assert not allowed(policy, "s3:PutAccessPointPolicy", ap.replace("alice", "mallory"), {})
    assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/x", {})
    assert not allowed(
        policy, "iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/collaborators/A", {}
    )
    outside = f"arn:aws:iam::{ACCOUNT}:user/admins/Root"
    assert not allowed(policy, "iam:UpdateUser", outside, {})
    assert allowed(policy, "iam:UpdateUser", outside, OUR_TAGS)
    # issue 22: a user tagged for this bucket is removed wherever it lives; an untagged one,
    # under iam_path or not, never
    assert allowed(policy, "iam:DeleteUser", outside, OUR_TAGS)
    assert not allowed(policy, "iam:DeleteUser", outside, {})
    under_path = f"arn:aws:iam::{ACCOUNT}:user/collaborators/Untagged"
    assert not allowed(policy, "iam:DeleteUser", under_path, {})
    assert not allowed(policy, "iam:DeleteAccessKey", under_path, {})


# --- recording the calls ----------------------------------------------------------------------

CALL = re.compile(r"^aws (\S+) (\S+) (.*) -> \S+(?: \S+)? in \d+ ms$")


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, str]


def parse_calls(stderr: str) -> list[Call]:
    calls = []
    for line in stderr.splitlines():
        match = CALL.match(line)
        if match:
            params = dict(p.split("=", 1) for p in match.group(3).split() if "=" in p)
            calls.append(Call(match.group(1), match.group(2), params))
    return calls


@dataclass
class Recorder:
    server: MotoServer
    config_file: Path
    runs: list[tuple[str, list[Call], Config]]

    def run(self, command: str, *extra: str, expect: tuple[int, ...] = (0, 2)) -> None:
        args = [command, "-v", "-c", str(self.config_file), *extra]
        if command == "apply":
            args.append("--auto-approve")
        if command in ("plan", "apply"):
            # the scenario puts back drift on half the collaborators at once (a mass grant)
            args.append("--allow-mass-grant")
        result = run_reconcile(*args, server=self.server)
        assert result.returncode in expect, result.stdout + result.stderr
        calls = parse_calls(result.stderr)
        assert calls, result.stderr
        config = config_from(self.config_file.read_text())
        self.runs.append((command, calls, config))


def resource_arn(kind: str, call: Call, config: Config, user_paths: Mapping[str, str]) -> str:
    p = call.params
    if kind == "bucket":
        return f"arn:aws:s3:::{p['Bucket']}"
    if kind == "object":
        return f"arn:aws:s3:::{p['Bucket']}/{p['Key']}"
    if kind == "accesspoint":
        return config.access_point_arn(p["Name"])
    if kind == "arn":
        return p["ResourceArn"]
    if kind == "user":
        path = user_paths.get(p["UserName"], config.iam_path)
        return f"arn:aws:iam::{ACCOUNT}:user{path}{p['UserName']}"
    if kind == "group":
        return f"arn:aws:iam::{ACCOUNT}:group/{p['GroupName']}"
    if kind == "mfa":
        return p["SerialNumber"]
    if kind == "trail":
        return f"arn:aws:cloudtrail:{config.region}:{ACCOUNT}:trail/{p['TrailName']}"
    if kind == "keyowner":
        return f"arn:aws:iam::{ACCOUNT}:user{config.iam_path}Alice"
    assert kind == "*"
    return "*"


def self_signed_certificate() -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    ssh = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), ssh.decode()


WIDE_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


def drift_out_of_band(server: MotoServer) -> None:
    s3, s3control, iam = (server.client(s) for s in ("s3", "s3control", "iam"))
    iam.delete_user_policy(UserName="Bob", PolicyName="reconciler-access-point-access")
    iam.put_user_policy(
        UserName="Alice",
        PolicyName="extra",
        PolicyDocument=WIDE_POLICY,
    )
    tags = iam.list_user_tags(UserName="Alice")["Tags"]
    iam.update_user(UserName="Alice", NewPath="/old/")  # as if iam_path had been changed
    iam.tag_user(UserName="Alice", Tags=tags)  # moto drops tags on a path change; AWS keeps them
    arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/bob-access-point"
    s3control.tag_resource(
        AccountId=ACCOUNT, ResourceArn=arn, Tags=[{"Key": "reconciler:collaborator", "Value": "x"}]
    )
    # its policy drifts too: an access point in sync is planned without reading its tags
    # (docs/performance.md), so only a policy change makes the plan see (and fix) the tag
    s3control.delete_access_point_policy(AccountId=ACCOUNT, Name="bob-access-point")
    s3control.create_access_point(AccountId=ACCOUNT, Name="legacy-ap", Bucket=BUCKET)
    s3.delete_bucket_encryption(Bucket=BUCKET)
    # the bucket baseline (issue 21), changed by hand: put back by the next apply
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={})
    s3.delete_bucket_lifecycle(Bucket=BUCKET)
    iam.delete_user_permissions_boundary(UserName="Bob")  # by an administrator: put back
    # partner-site-ap, ours, now only reachable from a VPC: it must be replaced
    partner = "partner-site-ap"
    ap_tags = s3control.list_tags_for_resource(
        AccountId=ACCOUNT, ResourceArn=f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{partner}"
    )["Tags"]
    s3control.delete_access_point(AccountId=ACCOUNT, Name=partner)
    s3control.create_access_point(
        AccountId=ACCOUNT,
        Name=partner,
        Bucket=BUCKET,
        VpcConfiguration={"VpcId": "vpc-0123456789abcdef0"},
        Tags=ap_tags,
    )


def give_bob_every_credential(server: MotoServer) -> None:
    iam = server.client("iam")
    iam.create_access_key(UserName="Bob")
    iam.create_login_profile(UserName="Bob", Password="Not-a-real-password-1!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-mfa")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="Bob",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    certificate, ssh_key = self_signed_certificate()
    iam.upload_signing_certificate(UserName="Bob", CertificateBody=certificate)
    iam.upload_ssh_public_key(UserName="Bob", SSHPublicKeyBody=ssh_key)
    policy_arn = iam.create_policy(
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
                ],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="Bob", PolicyArn=policy_arn)


@pytest.fixture
def recorded(moto_server: MotoServer, tmp_path: Path) -> list[tuple[str, list[Call], Config]]:
    """Every run of the scenario: (command, calls logged by -v, the config in effect)."""
    moto_server.client("s3").create_bucket(Bucket=AUDIT_BUCKET)
    moto_server.client("s3").create_bucket(Bucket=LOG_BUCKET)
    moto_server.client("cloudtrail").create_trail(Name=TRAIL, S3BucketName=LOG_BUCKET)
    # administrators create the boundary once, before the first apply (docs/ci-setup.md)
    iam_boundaries.create_policies(
        moto_server.client("iam"), {BOUNDARY: boundary_policy(config_from(SCENARIO_YAML))}
    )
    config_file = tmp_path / "collaborators.yaml"
    config_file.write_text(SCENARIO_YAML)
    rec = Recorder(moto_server, config_file, [])
    rec.run("plan")
    rec.run("apply")
    drift_out_of_band(moto_server)
    rec.run("plan", expect=(0, 2, 3))  # restoring bob's and partner-site's grants widens 2 of 4
    rec.run("apply", "--allow-mass-grant")
    give_bob_every_credential(moto_server)
    config_file.write_text(
        SCENARIO_YAML.replace(
            "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n"
            "    console: true\n",
            "",
        )
    )
    rec.run("plan")
    rec.run("apply")
    # a lock left by a killed apply: apply refuses and reads it, unlock --force removes it
    moto_server.client("s3").put_object(Bucket=LOCK_BUCKET, Key=".reconciler/apply.lock", Body=b"{")
    rec.run("apply", expect=(1, 3))
    rec.run("unlock", "--force")
    rec.run("plan", "--detailed-exitcode")
    # suspend Alice (her access key is deactivated), then re-activate her (tags removed); the
    # read-only role plans the suspension (it lists her keys) and verifies the suspended state
    moto_server.client("iam").create_access_key(UserName="Alice")
    without_bob = config_file.read_text()
    alice = "    access: [write]\n"
    # (with the expires date used below already set: the tool tags users with it)
    suspended = alice + "    status: suspended\n    expires: 2020-01-01\n"
    config_file.write_text(without_bob.replace(alice, suspended, 1))
    rec.run("plan", "--detailed-exitcode", expect=(2,))
    rec.run("apply")
    rec.run("verify", expect=(0,))  # suspended: granted nothing, and verify passes
    # expired (no status change in the YAML): the same calls, judged by date
    config_file.write_text(without_bob.replace(alice, alice + "    expires: 2020-01-01\n", 1))
    rec.run("plan", "--detailed-exitcode", expect=(0,))
    rec.run("verify", expect=(0,))
    rec.run("show", "alice", expect=(0,))
    config_file.write_text(without_bob)
    rec.run("apply")
    rec.run("history")
    rec.run("report")  # the access review: Alice has an (inactive) access key
    with pytest.raises(moto_server.client("iam").exceptions.NoSuchEntityException):
        moto_server.client("iam").get_user(UserName="Bob")
    return rec.runs


def check_runs(runs: list[tuple[str, list[Call], Config]]) -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    problems = []
    for command, calls, config in runs:
        read_only = command in READ_ONLY_COMMANDS  # unlock: the apply policy
        policy = tool_policy(config, read_only=read_only).document
        user_paths: dict[str, str] = {"Alice": "/old/"} if _moves_alice(calls) else {}
        for call in calls:
            key = (call.service, call.operation)
            seen.add(key)
            assert key in ACTIONS, f"{key} is called but missing from the table"
            for action, kind in ACTIONS[key]:
                arn = resource_arn(kind, call, config, user_paths)
                context = request_context(action, kind, config)
                if not allowed(policy, action, arn, context):
                    problems.append(f"{command}: {key} needs {action} on {arn}")
            if key == ("iam", "UpdateUser"):
                # moving needs the destination too; afterwards the user is under iam_path
                dest = f"arn:aws:iam::{ACCOUNT}:user{config.iam_path}{call.params['UserName']}"
                if not allowed(policy, "iam:UpdateUser", dest, user_context(config)):
                    problems.append(f"{command}: UpdateUser needs the destination {dest}")
                user_paths.pop(call.params["UserName"], None)
    assert problems == []
    return seen


# The tags the tool sends (reconciler.plan.planner.user_tags / access_point_tags): what the
# requests that write tags carry as aws:RequestTag and aws:TagKeys. Untagging removes the
# suspension marker (and for users, an expiry date).
SENT_TAGS = {
    "aws:RequestTag/reconciler:managed-by": "s3-collaborator-reconciler",
    "aws:RequestTag/reconciler:bucket": BUCKET,
    "aws:RequestTag/reconciler:collaborator": "alice",
    "aws:TagKeys": ["reconciler:bucket", "reconciler:collaborator", "reconciler:managed-by"],
}
TAGGING = {"iam:CreateUser", "iam:TagUser", "s3:TagResource", "s3:CreateAccessPoint"}
UNTAGGING = {"iam:UntagUser", "s3:UntagResource"}


def request_context(action: str, kind: str, config: Config) -> dict[str, str | list[str]]:
    """The condition keys of one recorded request: the resource's tags (every user and access
    point of the scenario is the tool's, for this bucket), and the tags it sends."""
    context: dict[str, str | list[str]] = {}
    if kind == "user":
        context.update(user_context(config))
    if kind in ("accesspoint", "arn") and action not in ("s3:CreateAccessPoint",):
        context.update(OUR_TAGS)
    if action in TAGGING:
        context.update(SENT_TAGS)
    if action in UNTAGGING:
        context["aws:TagKeys"] = ["reconciler:status"]
    return context


def user_context(config: Config) -> dict[str, str]:
    """Every user in the scenario carries the tool's tags and, when the config names one, its
    boundary: the tool sets it before writing a policy (a user whose boundary was removed out of
    band gets it back first; see tests/test_boundary.py for the order)."""
    boundary = config.iam_permissions_boundary
    return {**OUR_TAGS, **({"iam:PermissionsBoundary": boundary} if boundary else {})}


def _moves_alice(calls: list[Call]) -> bool:
    return any(c.operation == "UpdateUser" and c.params.get("UserName") == "Alice" for c in calls)


def operations_in_code() -> set[tuple[str, str]]:
    """Every boto3 client method named anywhere under reconciler/aws/, as (service, Operation).

    A name that several services share (S3 Control repeats some bucket operations for Outposts)
    counts for the first service here that has it: the code calls S3 for buckets. The sandbox
    (sandbox.py) and the emulator extensions (emulator/) only ever talk to the in-process
    emulator, never to AWS with the tool's role: they are left out."""
    files = [p for p in AWS_PACKAGE.glob("*.py") if p.name != "sandbox.py"]
    source = "\n".join(p.read_text() for p in files)
    words = set(re.findall(r"\b[a-z][a-z0-9_]+\b", source))
    session = botocore.session.get_session()
    found: dict[str, tuple[str, str]] = {}
    for service in ("s3", "iam", "sts", "s3control", "cloudtrail"):
        for operation in session.get_service_model(service).operation_names:
            name = xform_name(operation)
            if name in words:
                found.setdefault(name, (service, operation))
    return set(found.values())


@pytest.mark.e2e
def test_printed_policy_covers_every_recorded_call(
    recorded: list[tuple[str, list[Call], Config]],
) -> None:
    # plan runs are checked against the read-only policy, apply runs against the apply policy
    commands = [command for command, _, _ in recorded]
    assert commands == ["plan", "apply"] * 3 + ["apply", "unlock", "plan"] + [
        "plan",
        "apply",
        "verify",
        "plan",
        "verify",
        "show",
        "apply",
        "history",
        "report",
    ]
    suspended_plan = recorded[-9][1]
    assert any(c.operation == "ListAccessKeys" for c in suspended_plan)
    seen = check_runs(recorded)
    in_code = operations_in_code()
    assert in_code - seen == NOT_EXERCISED | IMPORT_ONLY, (
        "operations in the code that no scenario exercised"
    )
    assert seen <= in_code
    read_only = tool_policy(config_from(BASE_YAML), read_only=True).document
    for key in IMPORT_ONLY:
        for action, kind in ACTIONS[key]:
            assert kind == "*" and allowed(read_only, action, "*", {})
    # the ones moto cannot exercise are still covered by the apply policy
    config = config_from(BASE_YAML)
    policy = tool_policy(config, read_only=False).document
    for key in NOT_EXERCISED:
        for action, kind in ACTIONS[key]:
            assert kind == "user"
            call = Call(key[0], key[1], {"UserName": "Bob"})  # a user the tool tagged
            assert allowed(policy, action, resource_arn(kind, call, config, {}), OUR_TAGS)
    # every write the teardown does was recorded
    for operation in (
        "DeleteAccessKey",
        "DeleteLoginProfile",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "DeleteSigningCertificate",
        "DeleteSSHPublicKey",
        "DetachUserPolicy",
        "DeleteUser",
        "UpdateUser",
        "TagUser",
    ):
        assert ("iam", operation) in seen
    for operation in (
        "DeleteAccessPoint",
        "DeleteAccessPointPolicy",
        "TagResource",
        "GetAccessPoint",
    ):
        assert ("s3control", operation) in seen


# --- the policy's shape -----------------------------------------------------------------------


READ_ONLY_COMMANDS = ("plan", "history", "report", "verify", "show")
WRITE_VERBS = ("Create", "Put", "Delete", "Tag", "Update", "Remove", "Deactivate", "Detach")


def test_apply_policy_cannot_take_users_out_of_groups(config: Config) -> None:
    """RemoveUserFromGroup is authorised on the group: it would let the role take any user out
    of any group (a deny or quarantine group too). A user in a group is a plan error instead."""
    doc = tool_policy(config, read_only=False).document
    assert not allowed(doc, "iam:RemoveUserFromGroup", f"arn:aws:iam::{ACCOUNT}:group/deny", {})
    assert not [s for s in doc["Statement"] if ":group/" in json.dumps(s)]


def test_read_only_policy_has_no_write_action(config: Config) -> None:
    doc = tool_policy(config, read_only=True).document
    actions = [a for s in doc["Statement"] for a in s["Action"]]
    assert actions and not [a for a in actions if a.split(":")[1].startswith(WRITE_VERBS)]


def test_only_unscopable_actions_use_a_wildcard_resource(config: Config) -> None:
    doc = tool_policy(config, read_only=False).document
    # (denies may use "*": they only take away)
    star = [
        s["Action"] for s in doc["Statement"] if s["Resource"] == "*" and s["Effect"] == "Allow"
    ]
    assert star == [
        [
            "iam:GetAccountAuthorizationDetails",
            "s3:GetAccessPoint",  # the SAR lists no resource type for it (issue 22)
            "s3:ListAccessPoints",
        ]
    ]
    writes = next(s for s in doc["Statement"] if s["Sid"] == "ReconcilerManageAccessPoints")
    assert writes["Resource"] == [
        f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}"
        for name in ("alice-access-point", "bob-access-point", "partner-site-ap")
    ]
    users = next(s for s in doc["Statement"] if s["Sid"] == "ReconcilerManageCollaboratorUsers")
    assert users["Resource"] == f"arn:aws:iam::{ACCOUNT}:user/collaborators/*"
    assert "iam:CreateAccessKey" not in users["Action"]
    assert "iam:CreateLoginProfile" not in users["Action"]


def test_large_configs_are_split_never_widened_and_say_why() -> None:
    """Issue 22: no fallback to accesspoint/* (every access point of the account); a policy
    too large for one managed policy is split into several, and a note says that
    access_point_prefix would keep it small."""
    head = BASE_YAML.split("collaborators:\n")[0] + "collaborators:\n"
    entries = "".join(f"  - id: site-{i:04d}\n    iam_user: Site{i:04d}\n" for i in range(200))
    policy = tool_policy(config_from(head + entries), read_only=False)
    assert not unconditioned_writes_on_every_access_point(policy.document)
    parts = policy_set([policy])
    assert len(parts.documents) > 1
    assert all(policy_size(d) <= MANAGED_POLICY_MAX_CHARS for d in parts.documents)
    named = {r for d in parts.documents for s in allows(d) for r in _as_list(s["Resource"])}
    assert {
        f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/site-{i:04d}-access-point" for i in range(200)
    } <= named
    assert parts.notes[0] == NO_BOUNDARY_NOTE  # BASE_YAML sets no iam_permissions_boundary
    assert "set access_point_prefix" in parts.notes[1]
    assert "printed as" in parts.notes[-1]


def test_with_a_prefix_the_policy_does_not_grow() -> None:
    head = BASE_YAML.split("collaborators:\n")[0] + "access_point_prefix: onco-\ncollaborators:\n"

    def size(count: int) -> int:
        entries = "".join(
            f"  - id: site-{i:04d}\n    iam_user: Site{i:04d}\n" for i in range(count)
        )
        return policy_size(tool_policy(config_from(head + entries), read_only=False).document)

    assert size(10) == size(1000)
    doc = tool_policy(config_from(head + "  - id: a\n    iam_user: A\n"), read_only=False).document
    writes = next(s for s in doc["Statement"] if s["Sid"] == "ReconcilerManageAccessPoints")
    assert writes["Resource"] == f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/onco-*"


def unconditioned_writes_on_every_access_point(document: Mapping[str, Any]) -> list[str]:
    """Sids of Allow statements that write to accesspoint/* without a condition on this
    bucket's tag."""
    return [
        s["Sid"]
        for s in allows(document)
        if any(r.endswith(":accesspoint/*") for r in _as_list(s["Resource"]))
        and [a for a in _as_list(s["Action"]) if not a.startswith(("s3:Get", "s3:List"))]
        and "aws:ResourceTag/reconciler:bucket" not in json.dumps(s.get("Condition"))
    ]


def test_no_write_reaches_every_access_point(config: Config) -> None:
    doc = tool_policy(config, read_only=False).document
    assert unconditioned_writes_on_every_access_point(doc) == []
    broken = {
        **doc,
        "Statement": [
            *doc["Statement"],
            {
                **allows(doc)[0],
                "Sid": "X",
                "Action": ["s3:PutAccessPointPolicy"],
                "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/*",
            },
        ],
    }
    assert unconditioned_writes_on_every_access_point(broken) == ["X"]


def allows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if s["Effect"] == "Allow"]


def test_iam_policy_command_prints_json_offline(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BASE_YAML)
    result = run_reconcile("iam-policy", "--read-only", "-c", str(path), env={"PATH": "/usr/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == tool_policy(config_from(BASE_YAML), read_only=True).document
    assert result.stderr == ""


def _share(tmp: Path, name: str, bucket: str, prefix: str) -> None:
    text = BASE_YAML.replace(BUCKET, bucket) + f"access_point_prefix: {prefix}\n"
    text = text.replace("Alice", f"{name}a").replace("Bob", f"{name}b")
    text += f"iam_permissions_boundary: arn:aws:iam::{ACCOUNT}:policy/{name}-boundary\n"
    (tmp / f"{name}.yaml").write_text(text.replace("partner-site-ap", f"{prefix}partner"))


def test_iam_policy_takes_a_folder_and_prints_one_policy_set(tmp_path: Path) -> None:
    """Issue 22: one role for several shares of one account: unique Sids, one merged deny of
    other boundaries (tests/test_safety_model.py asks the simulator what it allows)."""
    _share(tmp_path, "onco", "onco-share", "onco-")
    _share(tmp_path, "cardio", "cardio-share", "cardio-")
    result = run_reconcile("iam-policy", str(tmp_path), "--split", env={"PATH": "/usr/bin"})
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    assert list(documents) == [f"reconciler-apply-{i}" for i in range(1, len(documents) + 1)]
    statements = [s for d in documents.values() for s in d["Statement"]]
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids))
    denies = [s for s in statements if s["Sid"].startswith("ReconcilerDenyOtherBoundaries")]
    assert len(denies) == 1
    assert denies[0]["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"] == [
        f"arn:aws:iam::{ACCOUNT}:policy/cardio-boundary",
        f"arn:aws:iam::{ACCOUNT}:policy/onco-boundary",
    ]
    writes = {
        r
        for s in statements
        if s["Sid"].startswith("ReconcilerManageAccessPoints")
        for r in _as_list(s["Resource"])
    }
    assert writes == {
        f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/onco-*",
        f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/cardio-*",
    }
    assert all(policy_size(d) <= MANAGED_POLICY_MAX_CHARS for d in documents.values())
    part = run_reconcile("iam-policy", str(tmp_path), "--part", "1", env={"PATH": "/usr/bin"})
    assert json.loads(part.stdout) == documents["reconciler-apply-1"]


def test_iam_policy_refuses_shares_of_several_accounts(tmp_path: Path) -> None:
    _share(tmp_path, "onco", "onco-share", "onco-")
    other = BASE_YAML.replace(ACCOUNT, "210987654321").replace(BUCKET, "other-share")
    (tmp_path / "other.yaml").write_text(other)
    result = run_reconcile("iam-policy", str(tmp_path), env={"PATH": "/usr/bin"})
    assert result.returncode != 0
    assert "a role serves one account" in result.stderr
    assert "Traceback" not in result.stderr
