"""Role sufficiency (issue 22): every AWS call of every command, run end to end against a moto
server, is allowed by the role the docs assign to that command, as the policy
`reconcile iam-policy` (apply role) or `reconcile iam-policy --read-only` (plan role) prints it,
according to the independent simulator @cloud-copilot/iam-simulate, with the request context
AWS would see: the user's tags and boundary, aws:SecureTransport, SigV4, kms:ViaService for the
KMS calls S3 makes for the lock object, the bucket policy and the key policy as resource
policies (tests/role_calls.py does the mapping). Zero denials.

The share is the one issue 22's "Done when" names: SSE-KMS with the key policy managed by the
tool, a permissions boundary, an access point prefix (every access point is trial1-...),
partners in other accounts, console users and an audit trail; it applies, converges (the
second plan is empty) and verifies (test_the_done_when_share_applies_converges_and_verifies).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.lock import new_lock_info
from reconciler.aws.emulator import iam_boundaries
from reconciler.documents.boundary import boundary_policy
from tests import role_calls
from tests.conftest import config_from
from tests.e2e_support import LOCK_BUCKET, MotoServer, moto_server_session
from tests.lock_support import LOCK_KEY
from tests.test_iam_policy import give_bob_every_credential, operations_in_code

__all__ = ["moto_server_session"]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(role_calls.NODE is None, reason="node is needed for the simulator"),
]
ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "clinical-share-123456789012"
AUDIT_BUCKET = "reconciler-test-audit"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
IMPORT = f"import --bucket {BUCKET} --account {ACCOUNT} --region {REGION}"


def share_yaml(key_arn: str) -> str:
    return f"""\
version: 1
account_id: "{ACCOUNT}"
region: {REGION}
bucket:
  name: {BUCKET}
  encryption: aws:kms
  kms_key_id: {key_arn}
  manage_key_policy: true
iam_path: /collaborators/
access_point_prefix: trial1-
iam_permissions_boundary: {BOUNDARY}
audit:
  bucket: {AUDIT_BUCKET}
collaborators:
  - id: alice
    iam_user: Alice
    prefix: Alice/
    access: [write, read, list]
    console: true
  - id: bob
    iam_user: Bob
    prefix: Bob/
    access: [read, list]
  - id: carol
    iam_user: Carol
    prefix: Carol/
    access: [read]
    console: true
  - id: partner-site
    principal: arn:aws:iam::111122223333:role/Uploader
    prefix: partner-site/
    access: [write, list]
  - id: partner-lab
    principal: arn:aws:iam::444455556666:role/Reader
    prefix: partner-lab/
    access: [read, list]
"""


# an advanced event selector recording every bucket's object-level events (CloudTrail API
# Reference, AdvancedFieldSelector: no resources.ARN field means every resource of the type)
ALL_S3_DATA = {
    "Name": "S3 data events",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ],
}


BOB = """\
  - id: bob
    iam_user: Bob
    prefix: Bob/
    access: [read, list]
"""


@pytest.fixture(scope="module")
def recorded(
    moto_server_session: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[role_calls.Run]]:
    server = moto_server_session
    server.reset()
    tmp = tmp_path_factory.mktemp("roles")
    with role_calls.bucket_policies_left_to_the_simulator():
        yield scenario(server, tmp)


def scenario(server: MotoServer, tmp: Path) -> list[role_calls.Run]:
    kms = server.client("kms")
    key_arn = str(kms.create_key(Description="clinical data")["KeyMetadata"]["Arn"])
    server.client("s3").create_bucket(Bucket=AUDIT_BUCKET)
    text = share_yaml(key_arn)
    # administrators create the boundary once, before the first apply (docs/ci-setup.md)
    iam_boundaries.create_policies(
        server.client("iam"), {BOUNDARY: boundary_policy(config_from(text))}
    )
    config_file = tmp / "collaborators.yaml"
    config_file.write_text(text)
    rec = role_calls.Recorder(server, config_file, ACCOUNT, REGION, tmp)
    rec.run("plan", "--detailed-exitcode", expect=(2,))
    rec.run("apply", "--auto-approve")
    # the "Done when" share: converged (second plan empty) and verified
    rec.run("plan", "--detailed-exitcode", expect=(0,))
    rec.run("verify")
    rec.run("show", "partner-site")
    rec.run("report", expect=(0, 1, 2))
    rec.run("history")
    # out of band: Alice moved out of iam_path (the tool moves her back), Bob given every kind
    # of credential, then removed from the file (the full teardown)
    iam = server.client("iam")
    tags = iam.list_user_tags(UserName="Alice")["Tags"]
    iam.update_user(UserName="Alice", NewPath="/old/")
    iam.tag_user(UserName="Alice", Tags=tags)  # moto drops tags on a path change; AWS keeps them
    give_bob_every_credential(server)
    config_file.write_text(text.replace(BOB, ""))
    rec.run("plan", "--detailed-exitcode", expect=(2,))
    rec.run("apply", "--auto-approve", "--allow-mass-delete", expect=(0,))
    rec.run("plan", "--detailed-exitcode", expect=(0,))
    # suspend Carol (her access key is deactivated, her access point tagged), then back
    iam.create_access_key(UserName="Carol")
    without_bob = config_file.read_text()
    carol = "    access: [read]\n    console: true\n"
    config_file.write_text(without_bob.replace(carol, carol + "    status: suspended\n"))
    rec.run("plan", "--detailed-exitcode", expect=(2,))
    rec.run("apply", "--auto-approve")
    rec.run("verify")
    config_file.write_text(without_bob)
    rec.run("apply", "--auto-approve")
    rec.run("report", expect=(0, 1, 2))
    # a lock left by a killed apply: apply refuses and reads it, unlock --force removes it
    server.client("s3").put_object(Bucket=BUCKET, Key=".reconciler/apply.lock", Body=b"{")
    rec.run("apply", "--auto-approve", expect=(1, 3))
    rec.run("unlock", "--force")
    # import looks for the trail recording the bucket's data events: one made by the account's
    # administrators, with a selector of their own for every bucket (ListTrails and
    # GetEventSelectors under the read-only role)
    trails = server.client("cloudtrail")
    trails.create_trail(Name="org-audit", S3BucketName=AUDIT_BUCKET)
    trails.put_event_selectors(TrailName="org-audit", AdvancedEventSelectors=[ALL_S3_DATA])
    rec.run("import", "--bucket", BUCKET, "--account", ACCOUNT, "--region", REGION)
    imported = rec.runs[-1]
    assert ("cloudtrail", "GetEventSelectors") in {(c.service, c.operation) for c in imported.calls}
    # Carol (with an access key) removed in the same change that moves iam_path: her user lives
    # outside the new path and is torn down on the strength of its tags
    iam.create_access_key(UserName="Carol")
    # a lock a killed apply left, long expired: the next apply takes it over (PutObject with
    # If-Match) and releases it (DeleteObject with If-Match, which needs s3:GetObject too)
    killed = new_lock_info(f"arn:aws:iam::{ACCOUNT}:role/reconciler-apply", 60, LONG_AGO)
    server.client("s3").put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=killed.to_json().encode())
    carol_entry = "  - id: carol\n    iam_user: Carol\n    prefix: Carol/\n" + carol
    moved = without_bob.replace(carol_entry, "").replace("/collaborators/", "/research/")
    assert moved != without_bob.replace(carol_entry, "")
    config_file.write_text(moved)
    rec.run("apply", "--auto-approve")
    conditional = {(c.operation, "IfMatch" in c.params) for c in rec.runs[-1].calls}
    assert {("PutObject", True), ("DeleteObject", True)} <= conditional  # took over, released
    rec.run("plan", "--detailed-exitcode", expect=(0,))
    users = {u["UserName"]: u["Path"] for u in iam.list_users()["Users"]}
    assert users == {"Alice": "/research/"}
    return rec.runs


# a second share: the key named by alias (the role's key statements then match it by
# kms:ResourceAliases), the key policy only read, no boundary, no audit trail, the lock in a
# bucket of its own
ALIAS_YAML = f"""\
version: 1
account_id: "{ACCOUNT}"
region: {REGION}
bucket:
  name: {BUCKET}
  encryption: aws:kms
  kms_key_id: alias/clinical-data
iam_path: /collaborators/
lock:
  bucket: {LOCK_BUCKET}
collaborators:
  - id: alice
    iam_user: Alice
    prefix: Alice/
    access: [write, read, list]
  - id: bob
    iam_user: Bob
    prefix: Bob/
    access: [read, list]
    console: true
  - id: partner-site
    principal: arn:aws:iam::111122223333:role/Uploader
    prefix: partner-site/
    access: [write]
"""


@pytest.fixture(scope="module")
def recorded_alias(
    moto_server_session: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[role_calls.Run]]:
    server = moto_server_session
    server.reset()
    tmp = tmp_path_factory.mktemp("alias")
    with role_calls.bucket_policies_left_to_the_simulator():
        kms = server.client("kms")
        key_arn = str(kms.create_key(Description="clinical data")["KeyMetadata"]["Arn"])
        kms.create_alias(AliasName="alias/clinical-data", TargetKeyId=key_arn)
        # the key policy names the partner already (the tool only reads it here)
        config_file = tmp / "collaborators.yaml"
        config_file.write_text(ALIAS_YAML)
        rec = role_calls.Recorder(server, config_file, ACCOUNT, REGION, tmp)
        rec.run("plan", "--detailed-exitcode", expect=(2,))
        rec.run("apply", "--auto-approve")
        rec.run("plan", "--detailed-exitcode", expect=(0,))
        rec.run("verify", expect=(0, 2))  # the partner's key grant is the key owner's to add
        config_file.write_text(ALIAS_YAML.replace("    console: true\n", ""))
        rec.run("apply", "--auto-approve")
        rec.run("show", "alice")
        # adopting a user and an access point made by hand (untagged): apply --adopt tags them
        server.client("iam").create_user(UserName="Carol", Path="/collaborators/")
        server.client("s3control").create_access_point(
            AccountId=ACCOUNT, Name="carol-legacy-ap", Bucket=BUCKET
        )
        config_file.write_text(
            config_file.read_text()
            + "  - id: carol\n    iam_user: Carol\n    prefix: Carol/\n    access: [read]\n"
            + "    access_point: carol-legacy-ap\n"
        )
        rec.run("plan", "--adopt", "--detailed-exitcode", expect=(2,))
        rec.run("apply", "--adopt", "--auto-approve")
        rec.run("plan", "--detailed-exitcode", expect=(0,))
        yield rec.runs


def test_every_call_of_a_second_share_is_allowed_by_its_role(
    recorded_alias: list[role_calls.Run],
) -> None:
    asked = role_calls.questions(recorded_alias)
    denied = role_calls.denials(asked, role_calls.simulate([q.simulation for q in asked]))
    assert not denied, f"{len(denied)} calls denied:\n" + "\n".join(denied)
    assert any(q.simulation["context"].get("kms:ResourceAliases") for q in asked)
    adopt = next(r for r in recorded_alias if r.command == "apply --adopt --auto-approve")
    tagged = {
        (c.operation, c.params.get("UserName") or c.params.get("ResourceArn")) for c in adopt.calls
    }
    assert ("TagUser", "Carol") in tagged
    assert any(op == "TagResource" and "carol-legacy-ap" in str(on) for op, on in tagged)
    print(f"role sufficiency (alias share): {len(recorded_alias)} commands, {len(asked)} ok")


def test_the_done_when_share_applies_converges_and_verifies(
    recorded: list[role_calls.Run],
) -> None:
    """Issue 22, "Done when": plan shows changes, apply succeeds, the second plan is empty
    (exit 0 with --detailed-exitcode) and verify passes (exit 0): the exit codes are asserted
    as the scenario runs; here, that those runs happened in that order, and what they made."""
    commands = [r.command for r in recorded]
    assert commands[:4] == [
        "plan --detailed-exitcode",
        "apply --auto-approve",
        "plan --detailed-exitcode",
        "verify",
    ]
    made = {
        c.params["Name"]
        for r in recorded[:2]
        for c in r.calls
        if c.operation == "CreateAccessPoint"
    }
    assert made == {
        "trial1-alice-access-point",
        "trial1-bob-access-point",
        "trial1-carol-access-point",
        "trial1-partner-site-access-point",
        "trial1-partner-lab-access-point",
    }


def test_every_call_of_every_command_is_allowed_by_its_role(
    recorded: list[role_calls.Run],
) -> None:
    asked = role_calls.questions(recorded)
    answers = role_calls.simulate([q.simulation for q in asked])
    denied = role_calls.denials(asked, answers)
    assert not denied, f"{len(denied)} calls denied:\n" + "\n".join(denied)
    # what the figures cover
    by_role = {r.role for r in recorded}
    assert by_role == {role_calls.APPLY_ROLE, role_calls.READ_ONLY_ROLE}
    seen = {(c.service, c.operation) for r in recorded for c in r.calls}
    for needed in (
        ("kms", "PutKeyPolicy"),
        ("iam", "CreateUser"),
        ("iam", "DeleteUser"),
        ("iam", "UpdateUser"),
        ("s3control", "DeleteAccessPoint"),
        ("s3", "PutObject"),
        ("s3", "PutBucketPolicy"),
        ("s3control", "GetAccessPoint"),
        ("iam", "UpdateAccessKey"),
        ("iam", "DeleteAccessKey"),
        ("cloudtrail", "ListTrails"),
        ("cloudtrail", "GetEventSelectors"),
    ):
        assert needed in seen
    # the lock object lives in the SSE-KMS bucket: S3's KMS calls were judged too
    assert any(q.simulation["action"] == "kms:GenerateDataKey" for q in asked)
    print(f"role sufficiency: {len(recorded)} commands, {len(asked)} authorizations, 0 denied")


def test_known_simulator_error_kms_encryption_context(tmp_path: Path) -> None:
    """Row 2 of tests/oracle/known_simulator_errors.md: the package's validated entry point
    drops kms:EncryptionContext:aws:s3:arn. When this fails, the simulator got it right: remove
    the row and judge the KMS calls through the validated entry point too."""
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    path = tmp_path / "c.yaml"
    path.write_text(share_yaml(key))
    world = role_calls.World(ACCOUNT, REGION, bucket_keys={BUCKET: (key, True)})
    world.key_policies[key] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    call = role_calls.Call("s3", "PutObject", {"Bucket": BUCKET, "Key": ".reconciler/apply.lock"})
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/reconciler-apply/github-actions"
    policies = list(role_calls.printed_policies(path, role_calls.APPLY_ROLE))
    kms = [
        s for s in role_calls.simulations(call, world, principal, policies) if "kms:" in s["action"]
    ]
    assert len(kms) == 1
    assert role_calls.simulate([kms[0], {**kms[0], "validated": True}]) == [
        "Allowed",
        "ImplicitlyDenied",
    ]


def test_every_operation_in_the_code_is_mapped() -> None:
    """A static scan: an operation the code can call but no scenario exercised is still in the
    table (issue 21 adds calls; each must be mapped before it can be judged)."""
    in_code = operations_in_code()
    in_code |= {("kms", "DescribeKey"), ("kms", "GetKeyPolicy"), ("kms", "PutKeyPolicy")}
    in_code |= {("accessanalyzer", "ValidatePolicy")}
    assert sorted(in_code - set(role_calls.ACTIONS)) == []


def test_access_analyzer_validation_is_allowed_to_the_read_only_role(tmp_path: Path) -> None:
    """`verify --access-analyzer` calls access-analyzer:ValidatePolicy, which moto cannot serve:
    judged here on its own (the SAR lists no resource type for it)."""
    path = tmp_path / "c.yaml"
    path.write_text(share_yaml(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"))
    policies = role_calls.printed_policies(path, role_calls.READ_ONLY_ROLE)
    world = role_calls.World(ACCOUNT, REGION)
    call = role_calls.Call("accessanalyzer", "ValidatePolicy", {"policyType": "RESOURCE_POLICY"})
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/reconciler-plan/github-actions"
    sims = role_calls.simulations(call, world, principal, list(policies))
    assert role_calls.simulate(sims) == ["Allowed"]


def test_the_check_fails_when_a_permission_is_missing(recorded: list[role_calls.Run]) -> None:
    """The test can fail: the same calls, judged against policies missing one action each,
    are denied, and the denial names the call."""
    for action, expected in (
        ("iam:DeleteUser", "apply --auto-approve --allow-mass-delete: iam DeleteUser needs"),
        ("kms:PutKeyPolicy", "apply --auto-approve: kms PutKeyPolicy needs kms:PutKeyPolicy"),
        ("s3:GetBucketPolicy", "plan --detailed-exitcode: s3 GetBucketPolicy needs"),
        ("s3:GetAccessPoint", "apply --auto-approve: s3control GetAccessPoint needs"),
        ("kms:GenerateDataKey", "apply --auto-approve: s3 PutObject needs kms:GenerateDataKey"),
        ("cloudtrail:ListTrails", f"{IMPORT}: cloudtrail ListTrails needs"),
        ("cloudtrail:GetEventSelectors", f"{IMPORT}: cloudtrail GetEventSelectors needs"),
    ):
        runs = [without(run, action) for run in recorded]
        asked = role_calls.questions(runs)
        found = role_calls.denials(asked, role_calls.simulate([q.simulation for q in asked]))
        assert any(d.startswith(expected) for d in found), (action, found[:3])


def test_an_unmapped_operation_fails_by_name(recorded: list[role_calls.Run]) -> None:
    run = recorded[0]
    extra = role_calls.Call("s3", "PutBucketNewThing", {"Bucket": BUCKET})
    broken = role_calls.Run(run.command, run.role, run.policies, (*run.calls, extra), run.world)
    with pytest.raises(role_calls.UnmappedOperation, match="s3 PutBucketNewThing"):
        role_calls.questions([broken])


def without(run: role_calls.Run, action: str) -> role_calls.Run:
    policies = tuple(_drop(doc, action) for doc in run.policies)
    return role_calls.Run(run.command, run.role, policies, run.calls, run.world)


def _drop(doc: dict[str, Any], action: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for statement in doc["Statement"]:
        actions = statement.get("Action")
        if isinstance(actions, list) and action in actions and len(actions) > 1:
            actions.remove(action)
        elif actions == action or actions == [action]:
            statement["Action"] = "none:Nothing"
    return json.loads(json.dumps(doc))
