"""Permissions boundaries on collaborators' IAM users (issue 12, section 2).

- the planner: created users get the boundary, existing users without it (or with another one)
  get it as an update, and an upgrade from a file without the field changes nothing but that;
- the apply role's policy (`reconcile iam-policy`): users are created and their inline policies
  written only with the boundary, which cannot be removed or replaced, checked statement by
  statement with the condition keys each action supports;
- the boundary itself (`reconcile iam-policy --boundary`): derived from the identity policy
  builder, it allows every statement the builder can write and nothing else;
- moto's IAM, extended by reconciler/aws/emulator/iam_boundaries.py, keeps user boundaries as
  AWS does.

AWS documentation: IAM User Guide, "Permissions boundaries for IAM entities"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), the delegation
example; Service Authorization Reference, "Actions, resources, and condition keys for AWS Identity
and Access Management" (which actions support iam:PermissionsBoundary).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

import pytest
from moto import mock_aws

from reconciler.access.evaluator import Decision, evaluate
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import AccessPointRef, Identity, Principal, Request
from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients, Connection
from reconciler.aws.writer import AwsWriter
from reconciler.documents import policies
from reconciler.documents.boundary import boundary_policy, probe_collaborators
from reconciler.documents.iam_policy import NO_BOUNDARY_NOTE, tool_policy
from reconciler.documents.policy_set import policy_set
from reconciler.importer import Discovery, FoundUser, import_config
from reconciler.model import AccessLevel, Config, ResourceType, Status
from reconciler.plan.changes import Action
from reconciler.plan.planner import NO_BOUNDARY_WARNING
from tests.access_support import desired
from tests.conftest import BASE_YAML, ROOT, config_from
from tests.fake import FakeCloud
from tests.iam_conditions import conditions_met

# Service Authorization Reference (IAM): the user actions that support iam:PermissionsBoundary
from tests.test_iam_policy import BOUNDARY_KEY_ACTIONS as SUPPORTS_BOUNDARY_KEY

ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary"
BOUNDED_YAML = BASE_YAML + f"iam_permissions_boundary: {BOUNDARY}\n"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
USERS = f"arn:aws:iam::{ACCOUNT}:user/collaborators/*"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/collaborators/Alice"
ADMIN = f"arn:aws:iam::{ACCOUNT}:user/admins/Root"


@pytest.fixture
def bounded() -> Config:
    return config_from(BOUNDED_YAML)


def iam_changes(p: Any) -> list[tuple[str, str, Any, Any]]:
    return [
        (c.action.value, c.id, c.before, c.after)
        for c in p.changes
        if c.type is ResourceType.IAM_USER
    ]


# --- the planner --------------------------------------------------------------------------------


def test_created_users_get_the_boundary_and_apply_converges(bounded: Config) -> None:
    cloud = FakeCloud()
    p = plan(bounded, cloud.read(bounded))
    created = {cid: after for action, cid, _, after in iam_changes(p) if action == "create"}
    assert {u["permissions_boundary"] for u in created.values()} == {BOUNDARY}
    assert set(created) == {"Alice", "Bob"} and p.warnings == ()
    assert apply_plan(p, cloud).ok
    assert {u.get("boundary") for u in cloud.users.values()} == {BOUNDARY}
    assert plan(bounded, cloud.read(bounded)).is_empty


def test_upgrade_adds_boundaries_to_existing_users_and_nothing_else(bounded: Config) -> None:
    """A user upgrading: the current version applied without the field, then it is set."""
    cloud = FakeCloud()
    old = config_from(BASE_YAML)
    assert apply_plan(plan(old, cloud.read(old)), cloud).ok
    p = plan(bounded, cloud.read(bounded))
    assert {(c.action, c.type) for c in p.changes} == {(Action.UPDATE, ResourceType.IAM_USER)}
    for _, _, before, after in iam_changes(p):
        assert before["permissions_boundary"] is None
        assert after == {**before, "permissions_boundary": BOUNDARY}
    # the boundary is set before the (already bounded) inline policy would be written
    cloud.calls.clear()
    assert apply_plan(p, cloud).ok
    assert [name for name, _ in cloud.calls] == ["update_user", "update_user"]
    assert plan(bounded, cloud.read(bounded)).is_empty


def test_another_boundary_is_replaced_by_the_yaml_one(bounded: Config) -> None:
    cloud = FakeCloud()
    assert apply_plan(plan(bounded, cloud.read(bounded)), cloud).ok
    cloud.users["Alice"]["boundary"] = f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"
    changes = iam_changes(plan(bounded, cloud.read(bounded)))
    assert [(a, cid, after["permissions_boundary"]) for a, cid, _, after in changes] == [
        ("update", "Alice", BOUNDARY)
    ]


def test_without_the_field_boundaries_are_left_alone_and_the_risk_is_said() -> None:
    config = config_from(BASE_YAML)
    cloud = FakeCloud()
    first = plan(config, cloud.read(config))
    assert NO_BOUNDARY_WARNING in first.warnings and "any permission" in NO_BOUNDARY_WARNING
    assert apply_plan(first, cloud).ok
    cloud.users["Alice"]["boundary"] = BOUNDARY  # set by an administrator: never removed
    again = plan(config, cloud.read(config))
    assert again.is_empty and again.warnings == ()  # nothing written to users: no warning


def test_boundary_is_set_before_the_inline_policy_is_written(bounded: Config) -> None:
    """The apply role may only put inline policies on users that carry the boundary."""
    cloud = FakeCloud()
    # Alice opts in to the console: she has an inline policy to write
    console = ("    access: [write]\n", "    access: [write]\n    console: true\n")
    old = config_from(BASE_YAML.replace(*console, 1))
    bounded = config_from(BOUNDED_YAML.replace(*console, 1))
    assert apply_plan(plan(old, cloud.read(old)), cloud).ok
    cloud.users["Alice"]["policies"].clear()  # drift: Alice lost her policy as well
    cloud.calls.clear()
    assert apply_plan(plan(bounded, cloud.read(bounded)), cloud, workers=1).ok
    alice = [name for name, args in cloud.calls if args[0] == "Alice"]
    assert alice == ["update_user", "put_user_policy"]


# --- moto, extended -----------------------------------------------------------------------------


@pytest.fixture
def clients() -> Iterator[Clients]:
    with mock_aws():
        yield Clients(Connection(region="us-east-1"))


def create_boundary_policy(iam: Any, config: Config) -> str:
    document = json.dumps(boundary_policy(config))
    return str(
        iam.create_policy(PolicyName="reconciler-collaborator-boundary", PolicyDocument=document)[
            "Policy"
        ]["Arn"]
    )


def test_moto_keeps_user_boundaries_as_iam_does(clients: Clients, bounded: Config) -> None:
    iam = clients.iam
    arn = create_boundary_policy(iam, bounded)
    user = iam.create_user(UserName="A", Path="/c/", PermissionsBoundary=arn)["User"]
    expected = {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": arn,
    }
    assert user["PermissionsBoundary"] == expected
    assert iam.get_user(UserName="A")["User"]["PermissionsBoundary"] == expected
    details = iam.get_account_authorization_details(Filter=["User"])["UserDetailList"]
    assert details[0]["PermissionsBoundary"] == expected
    assert "PermissionsBoundary" not in iam.list_users()["Users"][0]  # ListUsers omits it
    iam.create_user(UserName="B")
    assert "PermissionsBoundary" not in iam.get_user(UserName="B")["User"]
    iam.put_user_permissions_boundary(UserName="B", PermissionsBoundary=arn)
    assert iam.get_user(UserName="B")["User"]["PermissionsBoundary"] == expected
    iam.delete_user_permissions_boundary(UserName="B")
    assert "PermissionsBoundary" not in iam.get_user(UserName="B")["User"]


def test_moto_refuses_what_iam_refuses(clients: Clients) -> None:
    iam = clients.iam
    missing = f"arn:aws:iam::{ACCOUNT}:policy/not-created"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.create_user(UserName="A", PermissionsBoundary=missing)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="A")  # nothing was created
    iam.create_user(UserName="A")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.put_user_permissions_boundary(UserName="A", PermissionsBoundary=missing)
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.put_user_permissions_boundary(
            UserName="A", PermissionsBoundary="this is not an ARN at all"
        )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_user_permissions_boundary(UserName="Nobody")


def test_aws_adapters_write_and_read_back_the_boundary(clients: Clients, bounded: Config) -> None:
    create_boundary_policy(clients.iam, config_from(BASE_YAML))
    reader = AwsReader(clients)
    old = config_from(BASE_YAML)
    assert apply_plan(plan(old, reader.read(old)), AwsWriter(clients, ACCOUNT)).ok
    assert {u.permissions_boundary for u in reader.read(old).users.values()} == {None}
    # upgrade: the writer adds the boundary to the existing users
    assert apply_plan(plan(bounded, reader.read(bounded)), AwsWriter(clients, ACCOUNT)).ok
    live = reader.read(bounded)
    assert {u.permissions_boundary for u in live.users.values()} == {BOUNDARY}
    assert plan(bounded, live).is_empty
    # a new user is created with it
    carol = config_from(BOUNDED_YAML.replace("collaborators:\n", "collaborators:\n" + CAROL))
    assert apply_plan(plan(carol, reader.read(carol)), AwsWriter(clients, ACCOUNT)).ok
    got = clients.iam.get_user(UserName="Carol")["User"]
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY


CAROL = "  - id: carol\n    iam_user: Carol\n    prefix: Carol/\n"


# --- the apply role's policy --------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def decide(
    policy: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]
) -> str:
    """allow / deny / implicit for one request, with the request's condition keys."""
    if action not in SUPPORTS_BOUNDARY_KEY:
        context = {k: v for k, v in context.items() if k != "iam:PermissionsBoundary"}
    matching = [
        s
        for s in policy["Statement"]
        if any(fnmatchcase(action, a) for a in _as_list(s["Action"]))
        and any(fnmatchcase(resource, r) for r in _as_list(s["Resource"]))
        and conditions_met(s.get("Condition"), context, deny=s["Effect"] == "Deny")
    ]
    if any(s["Effect"] == "Deny" for s in matching):
        return "deny"
    return "allow" if matching else "implicit"


def with_boundary(arn: str | None) -> dict[str, str]:
    return {"iam:PermissionsBoundary": arn} if arn else {}


@pytest.mark.parametrize(
    ("action", "resource", "boundary", "expected"),
    [
        # users are created, and their inline policies written, only with the boundary
        ("iam:CreateUser", ALICE, BOUNDARY, "allow"),
        ("iam:CreateUser", ALICE, None, "implicit"),
        ("iam:CreateUser", ALICE, "arn:aws:iam::aws:policy/AdministratorAccess", "implicit"),
        ("iam:PutUserPolicy", ALICE, BOUNDARY, "allow"),
        ("iam:PutUserPolicy", ALICE, None, "implicit"),
        ("iam:PutUserPolicy", ALICE, f"arn:aws:iam::{ACCOUNT}:policy/Other", "implicit"),
        # existing users get exactly this boundary, and no other
        ("iam:PutUserPermissionsBoundary", ALICE, BOUNDARY, "allow"),
        ("iam:PutUserPermissionsBoundary", ALICE, f"arn:aws:iam::{ACCOUNT}:policy/Wide", "deny"),
        ("iam:PutUserPermissionsBoundary", ADMIN, f"arn:aws:iam::{ACCOUNT}:policy/Wide", "deny"),
        # no boundary can be removed, and the boundary policy cannot be edited
        ("iam:DeleteUserPermissionsBoundary", ALICE, BOUNDARY, "deny"),
        ("iam:DeleteUserPermissionsBoundary", ADMIN, None, "deny"),
        ("iam:CreatePolicyVersion", BOUNDARY, None, "deny"),
        ("iam:SetDefaultPolicyVersion", BOUNDARY, None, "deny"),
        ("iam:DeletePolicy", BOUNDARY, None, "deny"),
        # what does not support the key stays allowed (a condition on it would never match)
        ("iam:TagUser", ALICE, BOUNDARY, "allow"),
        ("iam:GetUser", ALICE, BOUNDARY, "allow"),
        ("iam:UpdateUser", ALICE, BOUNDARY, "allow"),
        ("iam:DeleteUser", ALICE, None, "allow"),
        # removing permissions works on users made before the boundary existed
        ("iam:DeleteUserPolicy", ALICE, None, "allow"),
        ("iam:DetachUserPolicy", ALICE, None, "allow"),
        # never: credentials, or users outside iam_path
        ("iam:CreateAccessKey", ALICE, BOUNDARY, "implicit"),
        ("iam:CreateUser", ADMIN, BOUNDARY, "implicit"),
        ("iam:AttachUserPolicy", ALICE, BOUNDARY, "implicit"),
    ],
)
def test_apply_role_statements_bind_the_boundary(
    bounded: Config, action: str, resource: str, boundary: str | None, expected: str
) -> None:
    """Every user in these rows carries this bucket's tags, as the tool's users do (teardown
    actions need them, issue 22: test_untagged_users_are_never_torn_down)."""
    document = tool_policy(bounded, read_only=False).document
    context = {**own_tags(bounded), **with_boundary(boundary), **sent_tags(action)}
    assert decide(document, action, resource, context) == expected


def own_tags(config: Config) -> dict[str, str]:
    return {
        "aws:ResourceTag/reconciler:managed-by": "s3-collaborator-reconciler",
        "aws:ResourceTag/reconciler:bucket": config.bucket.name,
    }


@pytest.mark.parametrize(
    "action", ["iam:DeleteUser", "iam:DeleteAccessKey", "iam:DetachUserPolicy"]
)
def test_untagged_users_are_never_torn_down(bounded: Config, action: str) -> None:
    """Removing a user, its keys or policies needs this bucket's tags on it, under iam_path or
    not (issue 22: a user tagged for this bucket is ours wherever it lives)."""
    document = tool_policy(bounded, read_only=False).document
    elsewhere = f"arn:aws:iam::{ACCOUNT}:user/old/Alice"
    assert decide(document, action, ALICE, with_boundary(BOUNDARY)) == "implicit"
    assert decide(document, action, elsewhere, own_tags(bounded)) == "allow"
    other = {**own_tags(bounded), "aws:ResourceTag/reconciler:bucket": "another-bucket"}
    assert decide(document, action, elsewhere, other) == "implicit"


def sent_tags(action: str) -> dict[str, Any]:
    """The tags the tool sends when it creates or tags a user (the apply role may send only
    its own keys, with its own bucket's name: tests/test_safety_model.py)."""
    if action not in ("iam:CreateUser", "iam:TagUser"):
        return {}
    return {
        "aws:RequestTag/reconciler:bucket": "clinical-share-123456789012",
        "aws:TagKeys": ["reconciler:bucket", "reconciler:collaborator", "reconciler:managed-by"],
    }


def test_moving_own_users_back_into_the_path_also_needs_the_boundary(bounded: Config) -> None:
    document = tool_policy(bounded, read_only=False).document
    moved = f"arn:aws:iam::{ACCOUNT}:user/old/Alice"
    tags = {
        "aws:ResourceTag/reconciler:managed-by": "s3-collaborator-reconciler",
        "aws:ResourceTag/reconciler:bucket": bounded.bucket.name,
    }
    assert decide(document, "iam:PutUserPolicy", moved, {**tags, **with_boundary(BOUNDARY)}) == (
        "allow"
    )
    assert decide(document, "iam:PutUserPolicy", moved, tags) == "implicit"
    assert decide(document, "iam:UpdateUser", moved, tags) == "allow"


def test_boundary_conditions_are_only_on_actions_that_support_the_key(bounded: Config) -> None:
    for statement in tool_policy(bounded, read_only=False).document["Statement"]:
        keys = {k for keys in (statement.get("Condition") or {}).values() for k in keys}
        if "iam:PermissionsBoundary" in keys:
            assert set(_as_list(statement["Action"])) <= SUPPORTS_BOUNDARY_KEY, statement["Sid"]


def test_without_the_field_the_policy_is_unchanged_and_a_note_says_why_it_should_be() -> None:
    old = tool_policy(config_from(BASE_YAML), read_only=False)
    assert NO_BOUNDARY_NOTE in old.notes
    assert "PermissionsBoundary" not in json.dumps(old.document)
    assert decide(old.document, "iam:PutUserPolicy", ALICE, {}) == "allow"  # the risk
    assert NO_BOUNDARY_NOTE not in tool_policy(config_from(BASE_YAML), read_only=True).notes


def test_aws_managed_boundary_needs_no_edit_guard() -> None:
    managed = BASE_YAML + "iam_permissions_boundary: arn:aws:iam::aws:policy/ReadOnlyAccess\n"
    document = tool_policy(config_from(managed), read_only=False).document
    assert "ReconcilerDenyBoundaryPolicyEdit" not in {s["Sid"] for s in document["Statement"]}


# --- the boundary policy ------------------------------------------------------------------------


def covered(boundary: Mapping[str, Any], statement: Mapping[str, Any]) -> bool:
    """Every action on every resource of an identity Allow statement is allowed by one boundary
    statement whose conditions are a subset of its own (so they hold whenever its own do)."""
    own = statement.get("Condition") or {}
    for action in _as_list(statement["Action"]):
        for resource in _as_list(statement["Resource"]):
            if not any(
                s["Effect"] == "Allow"
                and any(fnmatchcase(action, a) for a in _as_list(s["Action"]))
                and any(fnmatchcase(resource, r) for r in _as_list(s["Resource"]))
                and all(
                    _implied(op, own.get(op, {}).get(k), v)
                    for op, keys in (s.get("Condition") or {}).items()
                    for k, v in keys.items()
                )
                for s in boundary["Statement"]
            ):
                return False
    return True


def _implied(operator: str, own: Any, boundary: Any) -> bool:
    """The boundary's condition holds whenever the statement's own does: the same values, or
    under a wildcard operator, each own value matched by a boundary pattern."""
    if own == boundary:
        return True
    if own is None or operator.lower() not in ("stringlike", "arnlike"):
        return False
    return all(any(fnmatchcase(v, p) for p in _as_list(boundary)) for v in _as_list(own))


def test_probe_collaborators_cover_every_option() -> None:
    probes = list(probe_collaborators())
    every_set = {
        frozenset(c) for n in range(1, 5) for c in itertools.combinations(list(AccessLevel), n)
    }
    assert {frozenset(p.access) for p in probes} == every_set
    assert {p.status for p in probes} == set(Status)
    assert all(p.iam_user and p.principal is None for p in probes)


def test_boundary_allows_every_identity_statement_of_every_collaborator(bounded: Config) -> None:
    boundary = boundary_policy(bounded)
    for collab in bounded.collaborators:
        if collab.iam_user:
            for variant in (collab, dataclasses.replace(collab, console=True)):
                for s in policies.identity_statements(bounded, variant):
                    assert covered(boundary, s), s


def test_boundary_allows_nothing_the_identity_policies_cannot(bounded: Config) -> None:
    """Scoped by resource: only this account and Region's access points, no data action, no
    IAM, no other service."""
    boundary = boundary_policy(bounded)
    actions = {a for s in boundary["Statement"] for a in _as_list(s["Action"])}
    assert actions == {"s3:GetAccessPoint", "s3:ListAccessPoints", "s3:ListAllMyBuckets"}
    assert all(s["Effect"] == "Allow" for s in boundary["Statement"])
    # s3:GetAccessPoint supports no resource type (SAR): "*" like the two lists
    assert {json.dumps(s["Resource"]) for s in boundary["Statement"]} == {'"*"'}


def test_boundary_follows_statements_other_engineers_add(
    bounded: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The derivation is generic: a statement the identity builder starts writing (here a KMS
    grant confined to S3, and a console listing of the collaborator's own folder) is in the
    boundary without touching reconciler/documents/boundary.py; per-collaborator parts are
    widened."""
    original = policies.identity_statements
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    def extended(config: Config, collaborator: Any) -> list[dict[str, Any]]:
        statements = original(config, collaborator)
        ap = config.access_point_arn(collaborator.access_point)
        extra = [
            {
                "Sid": "ReconcilerUseBucketKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            },
            {
                "Sid": "ReconcilerConsoleListOwnFolder",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": ap,
                "Condition": {"StringLike": {"s3:prefix": [collaborator.prefix, ""]}},
            },
        ]
        if AccessLevel.READ in collaborator.access:
            extra.append(
                {
                    "Sid": "ReconcilerConsoleRead",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"{ap}/object/{collaborator.prefix}*",
                }
            )
        return [*statements, *extra]

    monkeypatch.setattr(policies, "identity_statements", extended)
    boundary = boundary_policy(bounded)
    by_sid = {s["Sid"]: s for s in boundary["Statement"]}
    assert by_sid["ReconcilerUseBucketKey"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    # merged with the statements on the same resources (GetAccessPoint with console: true)
    listing = next(s for s in boundary["Statement"] if "s3:ListBucket" in _as_list(s["Action"]))
    assert listing["Resource"] == f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/*"
    assert "Condition" not in listing  # a per-collaborator condition is dropped, never guessed
    # emitted for some access levels only: still in the boundary (every level is probed)
    assert "s3:GetObject" in listing["Action"]  # same resources, no condition: merged
    for collab in bounded.collaborators:
        if collab.iam_user:
            for s in extended(bounded, collab):
                assert covered(boundary, s), s


@pytest.mark.parametrize("key", [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}", "alias/research"])
def test_boundary_of_a_kms_bucket_allows_the_key_only_through_s3_for_this_bucket(key: str) -> None:
    """The KMS statement the identity policies carry for SSE-KMS is in the boundary, with its
    conditions; a key given as an alias (resolved only at plan time) becomes any key of the
    account and Region, still only through S3 and for this bucket."""
    text = BOUNDED_YAML.replace(
        "  name: clinical-share-123456789012\n",
        f"  name: clinical-share-123456789012\n  encryption: aws:kms\n  kms_key_id: {key}\n",
    )
    config = config_from(text)
    boundary = boundary_policy(config)
    kms = [s for s in boundary["Statement"] if "kms:" in json.dumps(s["Action"])]
    assert len(kms) == 1
    assert sorted(_as_list(kms[0]["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms[0]["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    # issue 22: the bucket ARN (S3 Bucket Key) or any object ARN of this bucket (the identity
    # policies name each collaborator's own prefix; the boundary covers them all)
    assert kms[0]["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [
            "arn:aws:s3:::clinical-share-123456789012",
            "arn:aws:s3:::clinical-share-123456789012/*",
        ]
    }
    expected = key if key.startswith("arn:") else f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"
    assert kms[0]["Resource"] == expected
    if key.startswith("arn:"):  # with a known key every identity statement is covered
        for collab in config.collaborators:
            if collab.iam_user:
                for s in policies.identity_policy(config, collab)["Statement"]:
                    assert covered(boundary, s), s


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_iam_policy_boundary_prints_the_boundary_policy() -> None:
    """The shipped collaborators.yaml, offline: the printed document is the boundary."""
    result = run("iam-policy", "--boundary")
    assert result.returncode == 0, result.stderr
    shipped = config_from((ROOT / "collaborators.yaml").read_text())
    assert json.loads(result.stdout) == boundary_policy(shipped)
    apply_role = run("iam-policy")
    assert shipped.iam_permissions_boundary in apply_role.stdout
    assert apply_role.stderr == ""  # the shipped file sets a boundary: no note, and it fits


def test_validate_warns_when_the_field_is_absent(tmp_path: Any) -> None:
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASE_YAML)
    result = run("validate", "-c", str(path))
    assert result.returncode == 0
    assert result.stderr == f"{path}: warning: {NO_BOUNDARY_WARNING}\n"
    path.write_text(BOUNDED_YAML)
    assert run("validate", "-c", str(path)).stderr == ""


# --- evaluation: access keeps working -----------------------------------------------------------

BOUNDARIES_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
EVERYTHING = {  # what a stolen apply role would write to a collaborator's user without a boundary
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Stolen", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def alice_requests(config: Config, *, boundary: bool) -> dict[str, Decision]:
    """Alice's decisions with her identity policy plus an escalated one (s3:* on *), with or
    without the boundary: through her access point, and straight to the bucket."""
    state = desired(config)
    alice = next(c for c in config.collaborators if c.id == "alice")
    user = state.users["Alice"]
    identity = Identity(
        policies=tuple(
            p
            for name, document in [*user.inline_policies.items(), ("stolen", EVERYTHING)]
            if (p := compile_policy(document, PolicyRef("identity policy", f"Alice/{name}")))
        ),
        boundary=compile_policy(boundary_policy(config), PolicyRef("boundary", "Alice"))
        if boundary
        else None,
    )
    principal = Principal("alice", config.principal_arn(alice), identity)
    ap = AccessPointRef(
        alice.access_point, config.access_point_arn(alice.access_point), config.account_id
    )
    point_policy = compile_policy(
        state.access_points[alice.access_point].policy, PolicyRef("access point", ap.name)
    )
    bucket_policy = compile_policy(state.bucket.policy, PolicyRef("bucket policy", "b"))
    bucket = config.bucket.name

    def decide_request(action: str, key: str, via: AccessPointRef | None) -> Decision:
        request = Request(principal, action, bucket, config.account_id, key=key, access_point=via)
        return evaluate(
            request, access_point_policy=point_policy, bucket_policy=bucket_policy
        ).decision

    return {
        "write own folder via access point": decide_request("s3:PutObject", "Alice/a.csv", ap),
        "read Bob's folder directly": decide_request("s3:GetObject", "Bob/b.csv", None),
        "delete own folder directly": decide_request("s3:DeleteObject", "Alice/a.csv", None),
    }


def test_access_point_grants_are_not_limited_by_the_boundary(bounded: Config) -> None:
    """IAM User Guide, "Permissions boundaries for IAM entities" (BOUNDARIES_PAGE): within an
    account, a boundary caps identity policies but does not reduce what a resource-based policy
    (the access point policy naming Alice's user ARN) grants. So Alice keeps her access, and an
    escalated inline policy (what a stolen apply role could write) gives her nothing more."""
    without = alice_requests(bounded, boundary=False)
    assert without == {
        "write own folder via access point": Decision.ALLOW,
        "read Bob's folder directly": Decision.ALLOW,  # the risk the boundary removes
        "delete own folder directly": Decision.ALLOW,
    }
    assert alice_requests(bounded, boundary=True) == {
        "write own folder via access point": Decision.ALLOW,  # access keeps working
        "read Bob's folder directly": Decision.DENY,
        "delete own folder directly": Decision.DENY,
    }


def test_a_deny_in_the_boundary_denies_even_what_a_resource_policy_allows(bounded: Config) -> None:
    """ "An explicit deny in any of these policies overrides the allow" (BOUNDARIES_PAGE)."""
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "NoWrites", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
        ],
    }
    alice = next(c for c in bounded.collaborators if c.id == "alice")
    state = desired(bounded)
    identity = Identity(boundary=compile_policy(deny, PolicyRef("boundary", "Alice")))
    principal = Principal("alice", bounded.principal_arn(alice), identity)
    ap = AccessPointRef(
        alice.access_point, bounded.access_point_arn(alice.access_point), bounded.account_id
    )
    result = evaluate(
        Request(
            principal, "s3:PutObject", bounded.bucket.name, ACCOUNT, key="Alice/a", access_point=ap
        ),
        access_point_policy=compile_policy(
            state.access_points[alice.access_point].policy, PolicyRef("access point", ap.name)
        ),
        bucket_policy=compile_policy(state.bucket.policy, PolicyRef("bucket policy", "b")),
    )
    assert result.decision is Decision.DENY and "NoWrites" in result.because()


def test_boundary_and_read_only_are_one_or_the_other() -> None:
    result = run("iam-policy", "--boundary", "--read-only")
    assert result.returncode != 0 and result.stdout == ""
    assert "--boundary and --read-only" in result.stderr and "Traceback" not in result.stderr


def test_the_sandbox_has_the_boundary_administrators_would_have_created() -> None:
    from reconciler.aws.sandbox import sandbox
    from reconciler.cli.common import sandbox_policies

    shipped = config_from((ROOT / "collaborators.yaml").read_text())
    assert shipped.iam_permissions_boundary is not None
    with sandbox(ACCOUNT, "us-east-1", (), sandbox_policies(shipped)):
        clients = Clients(Connection(region="us-east-1"))
        arn = shipped.iam_permissions_boundary
        version = clients.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = clients.iam.get_policy_version(PolicyArn=arn, VersionId=version)
        assert document["PolicyVersion"]["Document"] == boundary_policy(shipped)
        clients.iam.create_user(UserName="Probe", PermissionsBoundary=arn)
        assert (
            clients.iam.get_user(UserName="Probe")["User"]["PermissionsBoundary"][
                "PermissionsBoundaryArn"
            ]
            == arn
        )


def test_the_boundary_statements_leave_room_for_exact_access_point_arns() -> None:
    """docs/ci-setup.md: a typical study's exact access point ARNs fit in one managed policy
    with a boundary; beyond, the policy is split (never widened to accesspoint/*) and a note
    says that access_point_prefix would keep it small (issue 22: was a fallback to a
    wildcard)."""
    head = BASE_YAML.split("collaborators:\n")[0] + f"iam_permissions_boundary: {BOUNDARY}\n"
    head += "collaborators:\n"

    def notes(count: int) -> tuple[str, ...]:
        entries = "".join(
            f"  - id: site-{i:04d}\n    iam_user: Site{i:04d}\n" for i in range(count)
        )
        return policy_set([tool_policy(config_from(head + entries), read_only=False)]).notes

    assert notes(3) == ()  # exact ARNs for a small study, boundary statements included
    assert any("set access_point_prefix" in n for n in notes(60))


# --- reconcile import ---------------------------------------------------------------------------


def discovered(config: Config, cloud: FakeCloud) -> Discovery:
    live = cloud.read(config)
    users = {
        u.name: FoundUser(u.name, u.path, permissions_boundary=u.permissions_boundary)
        for u in live.users.values()
    }
    aps = list(live.access_points.values())
    return Discovery(ACCOUNT, config.region, config.bucket.name, live.bucket.encryption, aps, users)


def test_import_keeps_a_boundary_every_user_shares(bounded: Config) -> None:
    cloud = FakeCloud()
    assert apply_plan(plan(bounded, cloud.read(bounded)), cloud).ok
    imported = import_config(discovered(bounded, cloud))
    assert f"iam_permissions_boundary: {BOUNDARY}\n" in imported.text
    again = config_from(imported.text)
    assert again.iam_permissions_boundary == BOUNDARY
    assert plan(again, cloud.read(again)).is_empty


def test_import_of_users_with_different_boundaries_says_so(bounded: Config) -> None:
    cloud = FakeCloud()
    assert apply_plan(plan(bounded, cloud.read(bounded)), cloud).ok
    cloud.users["Bob"]["boundary"] = f"arn:aws:iam::{ACCOUNT}:policy/Other"
    imported = import_config(discovered(bounded, cloud))
    assert config_from(imported.text).iam_permissions_boundary is None
    assert any("different permissions boundaries" in w for w in imported.warnings)


def test_negated_elements_naming_a_collaborator_widen_to_everything(
    bounded: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NotResource excluding another collaborator's access point allows everything else: the
    boundary cannot exclude "every other access point" without naming them, so it allows all
    (a boundary may allow more than the identity policies, never less)."""
    original = policies.identity_statements

    def with_not_resource(config: Config, collaborator: Any) -> list[dict[str, Any]]:
        extra = {
            "Sid": "ReconcilerNotOthers",
            "Effect": "Allow",
            "Action": "s3:GetAccessPointPolicyStatus",
            "NotResource": config.access_point_arn(collaborator.access_point),
        }
        return [*original(config, collaborator), extra]

    monkeypatch.setattr(policies, "identity_statements", with_not_resource)
    (widened,) = [
        s
        for s in boundary_policy(bounded)["Statement"]
        if "s3:GetAccessPointPolicyStatus" in _as_list(s.get("Action"))
    ]
    assert widened["Resource"] == "*" and "NotResource" not in widened


def test_new_collaborator_options_are_probed_too() -> None:
    """Fields other engineers add to Collaborator are covered without editing boundary.py:
    flags both ways, free-text lists empty and not, anything else at its default."""
    from reconciler.documents.boundary import _choices

    assert _choices("console", bool, False) == [False, True]
    assert _choices("extra_prefixes", tuple[str, ...], ()) == [(), ("\u2400probe-extra_prefixes",)]
    assert _choices("note", str | None, None) == ["\u2400probe-note", None]
    assert _choices("max_keys", int, 2) == [2]
    with pytest.raises(TypeError):
        _choices("max_keys", int)
