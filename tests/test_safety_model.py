"""The threat model of docs/safety.md, asked of an independent IAM simulator.

Every "cannot" that docs/safety.md says about a holder of the apply role, the read-only role, a
collaborator's user or a partner is a request here that @cloud-copilot/iam-simulate
(tests/oracle/simulate.cjs) must deny, given the policies `reconcile iam-policy` prints (every
managed policy of the split set) and the documents the tool writes. The "can"s that matter for
the threat model (a stolen apply role rewrites its own access point policies) are asserted too,
so that the document cannot drift from the policies.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from reconciler.documents import policies
from reconciler.documents.boundary import boundary_policy
from reconciler.documents.iam_policy import tool_policy
from reconciler.documents.policy_set import policy_set
from reconciler.model import Config
from tests.conftest import ROOT, config_from
from tests.e2e_support import run_reconcile

ORACLE = ROOT / "tests" / "oracle"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="node is not installed: the threat-model tests run @cloud-copilot/iam-simulate "
    "(tests/oracle) under Node.js 20",
)

ACCOUNT = "123456789012"
REGION = "eu-west-2"
BUCKET = f"onco-share-{ACCOUNT}"
OTHER_BUCKET = f"cardio-share-{ACCOUNT}"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary"
OTHER_BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/cardio-boundary"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/reconciler-apply"
PARTNER_ROLE = "arn:aws:iam::111122223333:role/Uploader"


def share_yaml(bucket: str, prefix: str, boundary: str, *, ids: tuple[str, ...]) -> str:
    entries = "".join(
        f"  - id: {i}\n    iam_user: {i.capitalize()}\n    access: [read, write, list]\n"
        + ("    console: true\n" if i == "alice" else "")
        for i in ids
    )
    return f"""\
version: 1
account_id: "{ACCOUNT}"
region: {REGION}
bucket:
  name: {bucket}
  encryption: aws:kms
  kms_key_id: {KEY}
  manage_key_policy: true
iam_path: /collaborators/
iam_permissions_boundary: {boundary}
access_point_prefix: {prefix}
collaborators:
{entries}  - id: partner-site
    principal: {PARTNER_ROLE}
    access: [write, list]
    access_point: {prefix}partner
"""


ONCO = share_yaml(BUCKET, "onco-", BOUNDARY, ids=("alice", "bob"))
CARDIO = share_yaml(OTHER_BUCKET, "cardio-", OTHER_BOUNDARY, ids=("carol",))


def ap(name: str) -> str:
    return f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/{name}"


def user(name: str, path: str = "/collaborators/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def tags(kind: str, bucket: str, **extra: str) -> dict[str, Any]:
    values = {"reconciler:managed-by": "s3-collaborator-reconciler", "reconciler:bucket": bucket}
    values.update(extra)
    found: dict[str, Any] = {f"aws:{kind}/{k}": v for k, v in values.items()}
    if kind == "RequestTag":
        found["aws:TagKeys"] = sorted(values)
    return found


OURS = tags("ResourceTag", BUCKET)
THEIRS = tags("ResourceTag", OTHER_BUCKET)


@cache
def printed(path: Path, *flags: str) -> tuple[dict[str, Any], ...]:
    """Every managed policy `reconcile iam-policy --split` prints for the files."""
    result = run_reconcile("iam-policy", str(path), "--split", *flags)
    assert result.returncode == 0, result.stderr
    return tuple(json.loads(result.stdout).values())


@pytest.fixture(scope="module")
def shares(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shares")
    (folder / "onco.yaml").write_text(ONCO)
    return folder


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("both")
    (folder / "onco.yaml").write_text(ONCO)
    (folder / "cardio.yaml").write_text(CARDIO)
    return folder


def simulate(cases: list[dict[str, Any]]) -> list[str]:
    done = subprocess.run(
        [NODE or "node", str(ORACLE / "simulate.cjs")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout))


def case(
    principal: str | None,
    identity: tuple[Mapping[str, Any], ...],
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
    resource_policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "principal": principal,
        "action": action,
        "resource": resource,
        "account": ACCOUNT,
        "identity": list(identity),
        "resource_policy": resource_policy,
        "context": {"aws:SecureTransport": "true", **(context or {})},
    }


def decide(cases: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    return dict(zip([n for n, _ in cases], simulate([c for _, c in cases]), strict=True))


# --- the apply role --------------------------------------------------------------------------

# what a holder of the apply role cannot do (docs/safety.md, "The apply role")
APPLY_CANNOT = [
    # another share's access points: not named, not under this prefix
    (
        "write another share's access point policy",
        "s3:PutAccessPointPolicy",
        ap("cardio-carol-access-point"),
        {},
    ),
    (
        "create an access point outside its names",
        "s3:CreateAccessPoint",
        ap("evil"),
        tags("RequestTag", BUCKET),
    ),
    (
        "delete another share's access point",
        "s3:DeleteAccessPoint",
        ap("cardio-carol-access-point"),
        THEIRS,
    ),
    ("delete an untagged access point", "s3:DeleteAccessPoint", ap("someone-elses"), {}),
    (
        "delete another share's access point policy",
        "s3:DeleteAccessPointPolicy",
        ap("cardio-x"),
        THEIRS,
    ),
    (
        "mark its own access point as another bucket's",
        "s3:TagResource",
        ap("onco-alice-access-point"),
        tags("RequestTag", OTHER_BUCKET),
    ),
    (
        "put a foreign tag key on an access point",
        "s3:TagResource",
        ap("onco-alice-access-point"),
        {"aws:RequestTag/owner": "x", "aws:TagKeys": ["owner"]},
    ),
    (
        "create an access point tagged for another bucket",
        "s3:CreateAccessPoint",
        ap("onco-new-access-point"),
        tags("RequestTag", OTHER_BUCKET),
    ),
    # another share's users under the same iam_path
    ("delete another share's user", "iam:DeleteUser", user("Carol"), THEIRS),
    (
        "write another share's user's policy",
        "iam:PutUserPolicy",
        user("Carol"),
        {**THEIRS, "iam:PermissionsBoundary": BOUNDARY},
    ),
    (
        "take over another share's user by tagging it",
        "iam:TagUser",
        user("Carol"),
        {**THEIRS, **tags("RequestTag", BUCKET)},
    ),
    (
        "tag a user with a foreign key",
        "iam:TagUser",
        user("Alice"),
        {**OURS, "aws:RequestTag/admin": "yes", "aws:TagKeys": ["admin"]},
    ),
    (
        "untag another key of a user",
        "iam:UntagUser",
        user("Alice"),
        {**OURS, "aws:TagKeys": ["admin"]},
    ),
    (
        "touch a user outside iam_path that is not its own",
        "iam:UpdateUser",
        user("Root", "/admins/"),
        {},
    ),
    # credentials and escalation
    ("create an access key", "iam:CreateAccessKey", user("Alice"), OURS),
    ("create a console password", "iam:CreateLoginProfile", user("Alice"), OURS),
    (
        "attach a managed policy to a user",
        "iam:AttachUserPolicy",
        user("Alice"),
        {**OURS, "iam:PermissionsBoundary": BOUNDARY},
    ),
    (
        "take a user out of a group",
        "iam:RemoveUserFromGroup",
        f"arn:aws:iam::{ACCOUNT}:group/quarantine",
        {},
    ),
    (
        "create a user without the boundary",
        "iam:CreateUser",
        user("Mallory"),
        tags("RequestTag", BUCKET),
    ),
    ("write a policy of a user without the boundary", "iam:PutUserPolicy", user("Alice"), OURS),
    (
        "remove a boundary",
        "iam:DeleteUserPermissionsBoundary",
        user("Alice"),
        {**OURS, "iam:PermissionsBoundary": BOUNDARY},
    ),
    (
        "set another boundary",
        "iam:PutUserPermissionsBoundary",
        user("Alice"),
        {**OURS, "iam:PermissionsBoundary": OTHER_BOUNDARY},
    ),
    ("edit the boundary policy", "iam:CreatePolicyVersion", BOUNDARY, {}),
    (
        "change the key policy with the lockout check off",
        "kms:PutKeyPolicy",
        KEY,
        {"kms:BypassPolicyLockoutSafetyCheck": "true"},
    ),
    # data and other buckets
    ("read a collaborator's object", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/Alice/x.csv", {}),
    ("write a collaborator's object", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/Alice/x.csv", {}),
    ("delete a collaborator's object", "s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/Alice/x.csv", {}),
    ("change another bucket's policy", "s3:PutBucketPolicy", f"arn:aws:s3:::{OTHER_BUCKET}", {}),
    ("delete the bucket", "s3:DeleteBucket", f"arn:aws:s3:::{BUCKET}", {}),
]
# what it can do, and what makes "a stolen apply role cannot empower collaborators" false
APPLY_CAN = [
    (
        "rewrite its own access point policies",
        "s3:PutAccessPointPolicy",
        ap("onco-alice-access-point"),
        {},
    ),
    ("rewrite the bucket policy", "s3:PutBucketPolicy", f"arn:aws:s3:::{BUCKET}", {}),
    (
        "rewrite the key policy (lockout check on)",
        "kms:PutKeyPolicy",
        KEY,
        {"kms:BypassPolicyLockoutSafetyCheck": "false"},
    ),
    ("delete its own access points", "s3:DeleteAccessPoint", ap("onco-bob-access-point"), OURS),
    ("delete its own users", "iam:DeleteUser", user("Bob"), OURS),
    (
        "write its users' policies within the boundary",
        "iam:PutUserPolicy",
        user("Alice"),
        {**OURS, "iam:PermissionsBoundary": BOUNDARY},
    ),
    (
        "create users with the boundary and its tags",
        "iam:CreateUser",
        user("Dave"),
        {**tags("RequestTag", BUCKET), "iam:PermissionsBoundary": BOUNDARY},
    ),
]


# the key policy that lets IAM policies of the account grant use of the key (AWS KMS Developer
# Guide, "Default key policy"): without one, no identity policy grants anything on a KMS key
KEY_POLICY = {
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


def _row(
    name: str, action: str, resource: str, context: dict[str, Any], role: tuple[Any, ...]
) -> tuple[str, dict[str, Any]]:
    key_policy = KEY_POLICY if action.startswith("kms:") else None
    return name, case(ROLE, role, action, resource, context, key_policy)


def test_a_holder_of_the_apply_role_cannot(shares: Path) -> None:
    role = printed(shares)
    assert len(role) >= 1
    decided = decide([_row(n, a, r, c, role) for n, a, r, c in APPLY_CANNOT])
    assert {n: d for n, d in decided.items() if d == "Allowed"} == {}


def test_a_holder_of_the_apply_role_can(shares: Path) -> None:
    role = printed(shares)
    decided = decide([_row(n, a, r, c, role) for n, a, r, c in APPLY_CAN])
    assert {n: d for n, d in decided.items() if d != "Allowed"} == {}


def test_one_role_for_two_shares_allows_both_boundaries_and_no_third(both: Path) -> None:
    """Two separate "deny every other boundary" statements would together deny both; the
    printed set merges them."""
    role = printed(both)
    sids = [s["Sid"] for d in role for s in d["Statement"]]
    assert len(sids) == len(set(sids)), "a Sid twice"
    third = f"arn:aws:iam::{ACCOUNT}:policy/Wide"
    rows = [  # (what, the user's share, the boundary requested, expected)
        ("onco user, onco boundary", OURS, BOUNDARY, "Allowed"),
        ("cardio user, cardio boundary", THEIRS, OTHER_BOUNDARY, "Allowed"),
        ("onco user, cardio boundary", OURS, OTHER_BOUNDARY, "ImplicitlyDenied"),
        ("onco user, a third boundary", OURS, third, "ExplicitlyDenied"),
        ("cardio user, a third boundary", THEIRS, third, "ExplicitlyDenied"),
    ]
    cases = [
        (
            n,
            case(
                ROLE,
                role,
                "iam:PutUserPermissionsBoundary",
                user("Alice"),
                {**t, "iam:PermissionsBoundary": b},
            ),
        )
        for n, t, b, _ in rows
    ]
    assert decide(cases) == {n: e for n, _, _, e in rows}


def test_concatenated_single_share_policies_deny_every_boundary(tmp_path: Path) -> None:
    """Why the merge matters: each share's policy alone, attached together, deny both."""
    docs = []
    for name, text in (("onco", ONCO), ("cardio", CARDIO)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        docs += printed(path)
    result = decide(
        [
            (
                b,
                case(
                    ROLE,
                    tuple(docs),
                    "iam:PutUserPermissionsBoundary",
                    user("Alice"),
                    {**OURS, "iam:PermissionsBoundary": b},
                ),
            )
            for b in (BOUNDARY, OTHER_BOUNDARY)
        ]
    )
    assert set(result.values()) == {"ExplicitlyDenied"}


# --- the read-only role ----------------------------------------------------------------------

WRITES = sorted(
    {
        (a, r if isinstance(r, str) else r[0])
        for d in [tool_policy(config_from(ONCO), read_only=False).document]
        for s in d["Statement"]
        if s["Effect"] == "Allow"
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        for r in [s["Resource"]]
        if not a.split(":")[1].startswith(("Get", "List", "Describe"))
    }
)


def test_a_holder_of_the_read_only_role_cannot_write_anything(shares: Path) -> None:
    role = printed(shares, "--read-only")
    context = {**OURS, **tags("RequestTag", BUCKET), "iam:PermissionsBoundary": BOUNDARY}
    context["kms:BypassPolicyLockoutSafetyCheck"] = "false"
    cases = [(f"{a} {r}", case(ROLE, role, a, r.replace("*", "x"), context)) for a, r in WRITES]
    assert len(cases) > 20
    decided = decide(cases)
    assert {n: d for n, d in decided.items() if d == "Allowed"} == {}


def test_the_read_only_role_reads_every_access_point_policy_and_user_policy(shares: Path) -> None:
    """What a holder of the read-only role sees (docs/safety.md): every access point policy of
    the account in the Region and every IAM user's inline policies; no object."""
    role = printed(shares, "--read-only")
    decided = decide(
        [
            (
                "any access point policy",
                case(ROLE, role, "s3:GetAccessPointPolicy", ap("cardio-x")),
            ),
            ("every user's policies", case(ROLE, role, "iam:GetAccountAuthorizationDetails", "*")),
            ("an object", case(ROLE, role, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/Alice/x.csv")),
            # `import` looks for the trail recording the bucket: every trail of the account in
            # the Region, read only; no trail of another Region
            ("the trails", case(ROLE, role, "cloudtrail:ListTrails", "*")),
            ("a trail's selectors", case(ROLE, role, "cloudtrail:GetEventSelectors", trail())),
            (
                "a trail's selectors written",
                case(ROLE, role, "cloudtrail:PutEventSelectors", trail()),
            ),
            (
                "another Region's trail",
                case(ROLE, role, "cloudtrail:GetEventSelectors", trail("us-east-1")),
            ),
        ]
    )
    assert decided == {
        "any access point policy": "Allowed",
        "every user's policies": "Allowed",
        "an object": "ImplicitlyDenied",
        "the trails": "Allowed",
        "a trail's selectors": "Allowed",
        "a trail's selectors written": "ImplicitlyDenied",
        "another Region's trail": "ImplicitlyDenied",
    }


def trail(region: str = REGION, name: str = "org-audit") -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"


# --- a collaborator's user and a partner -----------------------------------------------------


def _identity(config: Config, cid: str) -> tuple[dict[str, Any], ...]:
    collab = next(c for c in config.collaborators if c.id == cid)
    doc = policies.identity_policy(config, collab)
    return (doc,) if doc else ()


def test_a_collaborator_cannot_reach_another_collaborators_access_point() -> None:
    config = config_from(ONCO)
    alice, bob = (next(c for c in config.collaborators if c.id == i) for i in ("alice", "bob"))
    bob_ap = config.access_point_arn(bob.access_point)
    alice_ap = config.access_point_arn(alice.access_point)
    bob_policy = policies.access_point_policy(config, bob)
    identity = _identity(config, "alice")
    boundary = boundary_policy(config)
    decided = decide(
        [
            (
                "bob's folder through bob's access point",
                case(
                    user("Alice"),
                    identity,
                    "s3:GetObject",
                    f"{bob_ap}/object/bob/x",
                    resource_policy=bob_policy,
                ),
            ),
            (
                "bob's folder through her own",
                case(
                    user("Alice"),
                    identity,
                    "s3:GetObject",
                    f"{alice_ap}/object/bob/x",
                    resource_policy=policies.access_point_policy(config, alice),
                ),
            ),
            (
                "an access key for herself",
                case(user("Alice"), identity, "iam:CreateAccessKey", user("Alice")),
            ),
            (
                "anything beyond the boundary",
                case(user("Alice"), (boundary,), "s3:GetObject", f"arn:aws:s3:::{BUCKET}/Alice/x"),
            ),
        ]
    )
    assert set(decided.values()) == {"ImplicitlyDenied"}, decided


def test_a_partner_cannot_reach_another_collaborators_access_point() -> None:
    config = config_from(ONCO)
    partner = next(c for c in config.collaborators if c.id == "partner-site")
    bob = next(c for c in config.collaborators if c.id == "bob")
    identity = policies.partner_identity_policy(config, partner)
    assert identity is not None
    bob_ap = config.access_point_arn(bob.access_point)
    decided = decide(
        [
            (
                "bob's access point",
                case(
                    PARTNER_ROLE,
                    (identity,),
                    "s3:GetObject",
                    f"{bob_ap}/object/bob/x",
                    resource_policy=policies.access_point_policy(config, bob),
                ),
            ),
            (
                "the bucket directly",
                case(
                    PARTNER_ROLE,
                    (identity,),
                    "s3:GetObject",
                    f"arn:aws:s3:::{BUCKET}/bob/x",
                    resource_policy=policies.bucket_policy_document(config),
                ),
            ),
        ]
    )
    assert set(decided.values()) != {"Allowed"} and "Allowed" not in decided.values(), decided


def test_the_apply_policy_set_is_what_iam_policy_prints(shares: Path) -> None:
    merged = policy_set([tool_policy(config_from(ONCO), read_only=False)])
    assert printed(shares) == merged.documents


def test_every_test_docs_safety_names_exists() -> None:
    """docs/safety.md backs each "cannot" with a test it names: those tests exist."""
    text = (ROOT / "docs" / "safety.md").read_text()
    names = set(re.findall(r"(tests/[a-z_]+\.py)::([a-z_]+)", text))
    names |= {("tests/test_safety_model.py", n) for n in re.findall(r"`(test_[a-z_]+)`", text)}
    assert len(names) >= 7
    for path, name in sorted(names):
        assert f"\ndef {name}(" in (ROOT / path).read_text(), f"{path}::{name}"
