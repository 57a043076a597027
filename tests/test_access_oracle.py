"""Differential test: our evaluator (reconciler/access/evaluator.py) against an independent IAM
policy simulator nobody here wrote, @cloud-copilot/iam-simulate (pinned in
tests/oracle/package-lock.json, run by tests/oracle/simulate.cjs in one node process).

The same seeded random policies and requests go to both: the policies the tool writes (bucket
policy, access point policies, identity policies) plus broadenings (wildcards, NotAction,
NotResource, NotPrincipal, conditions, denies, role sessions, other accounts, anonymous callers).
The simulator has no access points, so a request through one is modeled as the S3 User Guide
says ("Configuring IAM policies for using access points",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html): the access
point policy (resource: the access point ARN) AND the bucket policy (resource: the bucket ARN);
allowed only if both allow. The requester's identity policy is judged against the request's
resource, the access point ARN: for a caller from another account the bucket stage asks only
whether the bucket policy permits the request (the page's cross-account examples grant the
requester the access point ARN alone), so that stage runs with an identity policy that allows
everything. In the bucket's account both stages carry the identity policies, as before.

Every case where we answer allow or deny must agree with the simulator, except the cases in
tests/oracle/known_simulator_errors.md (KNOWN below), where the AWS documentation says the
simulator is wrong. Our "unknown" answers are counted, not compared.
"""

from __future__ import annotations

import copy
import fcntl
import json
import random
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.access import evaluator
from reconciler.access.evaluator import Decision, evaluate
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import (
    AccessPointRef,
    Details,
    Identity,
    Principal,
    Request,
    role_session,
)
from reconciler.documents.policies import partner_identity_policy
from tests.access_support import desired
from tests.conftest import BASE_YAML, ROOT, config_from

ORACLE = ROOT / "tests" / "oracle"
NODE = shutil.which("node")
SEED = 20261126
CASES = 3000
OWNER, PARTNER, OTHER = "123456789012", "111122223333", "444455556666"
BUCKET = "clinical-share-123456789012"
REGION = "us-east-1"
V = "2012-10-17"
KMS_KEY = f"arn:aws:kms:{REGION}:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FOREIGN_KEY = f"arn:aws:kms:{REGION}:{OTHER}:key/99999999-12ab-34cd-56ef-1234567890ab"
# how requests are made: signature and TLS versions, and an upload's encryption headers
DETAILS = (
    *[Details()] * 40,
    Details(signature_version="AWS"),
    Details(tls_version="1.0"),
    Details(tls_version="1.3"),
)
UPLOAD_DETAILS = (
    *[Details()] * 30,
    Details(sse="AES256"),
    Details(sse="aws:kms"),
    Details(sse="aws:kms", sse_kms_key_id=KMS_KEY),
    Details(sse="aws:kms", sse_kms_key_id=FOREIGN_KEY),
    Details(sse="aws:kms", sse_kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab"),
    Details(sse="aws:kms:dsse", sse_kms_key_id=KMS_KEY),
    Details(sse_kms_key_id=FOREIGN_KEY),
    Details(sse_customer_algorithm="AES256"),
    Details(signature_version="AWS", sse="AES256"),
)
ALLOW_ALL = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
KEYS = (
    "Alice/x",
    "Alice/sub/z.csv",
    "Bob/y.csv",
    "Bobby/k",
    "x",
    "partner-site/up",
    "Analysts/r",
    "a:b/c",
)
PREFIXES = ("", "Alice/", "Bob/", "Al", "Bob/sub/", "partner-site/", "Analysts/")

pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="node is not installed: the differential test runs @cloud-copilot/iam-simulate "
    "(tests/oracle) under Node.js 20",
)


def point_arn(name: str) -> str:
    return f"arn:aws:s3:{REGION}:{OWNER}:accesspoint/{name}"


# --- principals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """A principal as both sides see it: our Principal and the simulator's ARN and policies."""

    principal: Principal
    identity_docs: tuple[dict[str, Any], ...]
    # aws:PrincipalArn as the IAM User Guide defines it (for a role session: the role's ARN),
    # written here rather than taken from our Request, so the simulator gets it independently
    principal_arn: str | None


def who(label: str, arn: str | None, docs: list[dict[str, Any]], role: str | None = None) -> Who:
    """`arn`: the principal's ARN, or for a session of `role`, the session's name."""
    compiled = tuple(
        p
        for i, d in enumerate(docs)
        if (p := compile_policy(d, PolicyRef("identity policy", f"{label}#{i}"))) is not None
    )
    identity = Identity(compiled)
    if role is not None:
        assert arn is not None
        principal = role_session(label, role, arn, identity)
    else:
        principal = Principal(label, arn, identity)
    return Who(principal, tuple(docs), role or arn)


# --- random policy pieces ------------------------------------------------------------------

PRINCIPAL_CHOICES: tuple[Any, ...] = (
    "*",
    {"AWS": "*"},
    {"AWS": OWNER},
    {"AWS": f"arn:aws:iam::{OWNER}:root"},
    {"AWS": PARTNER},
    {"AWS": f"arn:aws:iam::{OWNER}:user/collaborators/Alice"},
    {"AWS": f"arn:aws:iam::{OWNER}:user/collaborators/Bob"},
    {"AWS": f"arn:aws:iam::{PARTNER}:role/Uploader"},
    {"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/Uploader/s1"},
    {"AWS": f"arn:aws:iam::{OWNER}:role/team/Analyst"},
    {"AWS": f"arn:aws:sts::{OWNER}:assumed-role/Analyst/s1"},
    {"AWS": f"arn:aws:iam::{OTHER}:user/Eve"},
    {"AWS": [f"arn:aws:iam::{OWNER}:user/collaborators/Alice", OTHER]},
    {"AWS": f"arn:aws:iam::{PARTNER}:role/uploader"},  # role names are case-insensitive
    {"Service": "s3.amazonaws.com"},
    {"AWS": [f"arn:aws:iam::{PARTNER}:root", f"arn:aws:iam::{OTHER}:root"]},
)
ACTION_CHOICES: tuple[Any, ...] = (
    "s3:*",
    "*",
    "s3:GetObject",
    "s3:Get*",
    "s3:*Object",
    ["s3:PutObject", "s3:AbortMultipartUpload"],
    "s3:ListBucket",
    "s3:List*",
    "S3:getobject",
    "s3:DeleteObject",
)


def resource_choices(base: str, listing: str) -> tuple[Any, ...]:
    return (
        "*",
        f"{base}*",
        f"{base}Alice/*",
        f"{base}Bob/*",
        f"{base}A*",
        f"{base}*.csv",
        f"{base}*/sub/*",
        f"{base}?ob/*",
        f"{base}Alice/x",
        listing,
        [listing, f"{base}*"],
        "arn:aws:s3:*:*:accesspoint/*",
        "arn:aws:s3:::*",
        f"{base}${{aws:username}}/*",  # a policy variable: unknown to us
        f"{base}alice/*",  # ARNs are case-sensitive
        f"{base}Alice/${{*}}",
    )


CONDITION_CHOICES: tuple[dict[str, Any], ...] = (
    {"StringLike": {"s3:prefix": ["Alice/*", "Alice/"]}},
    {"StringLike": {"s3:prefix": "Bob/*"}},
    {"StringEquals": {"s3:prefix": ""}},
    {"StringNotLike": {"s3:prefix": "Bob/*"}},
    {"StringEqualsIgnoreCase": {"s3:prefix": "alice/"}},
    {"Null": {"s3:prefix": "true"}},
    {"Null": {"s3:prefix": "false"}},
    {"StringLikeIfExists": {"s3:prefix": "Alice/*"}},
    {"StringEquals": {"s3:DataAccessPointAccount": OWNER}},
    {"StringNotEquals": {"s3:DataAccessPointAccount": OWNER}},
    {"StringLike": {"s3:DataAccessPointArn": f"arn:aws:s3:{REGION}:{OWNER}:accesspoint/*"}},
    {"ArnLike": {"s3:DataAccessPointArn": f"arn:aws:s3:*:{OWNER}:accesspoint/alice-*"}},
    {"ArnNotLike": {"s3:DataAccessPointArn": point_arn("bob-access-point")}},
    {"StringEquals": {"s3:AccessPointNetworkOrigin": "Internet"}},
    {"StringEquals": {"s3:AccessPointNetworkOrigin": "VPC"}},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"BoolIfExists": {"aws:SecureTransport": "false"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/*"}},
    {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/team/Analyst"}},
    {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:user/collaborators/Alice"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/collaborators/*"}},
    {"ArnNotLikeIfExists": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:*"}},
    {"StringLike": {"aws:PrincipalArn": f"arn:aws:sts::{PARTNER}:assumed-role/*"}},
    {"StringEquals": {"aws:PrincipalAccount": OWNER}},
    {"StringNotEquals": {"aws:PrincipalAccount": [OWNER, PARTNER]}},
    {"Null": {"aws:PrincipalArn": "true"}},
    {"NumericGreaterThan": {"s3:signatureAge": "600000"}},
    {"NumericLessThanEquals": {"s3:signatureAge": ["1000", "3600000"]}},
    {"NumericGreaterThanIfExists": {"s3:signatureAge": "3600000"}},
    {"NumericNotEquals": {"s3:signatureAge": "1000"}},
    # issue 22: the data-path statements and their keys
    {"ArnLike": {"s3:DataAccessPointArn": [point_arn("alice-access-point"), point_arn("bob-*")]}},
    {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}},
    {"StringEquals": {"s3:signatureversion": "AWS"}},
    {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    {"NumericGreaterThanEquals": {"s3:TlsVersion": "1.3"}},
    {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
    {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    },
    {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
    {
        "ArnNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY},
        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
    },
    {
        "Null": {
            "s3:x-amz-server-side-encryption": "false",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
        }
    },
    {"StringEquals": {"s3:ExistingObjectTag/team": "a"}},  # not modeled: unknown to us
    {"StringLike": {"s3:prefix": "${aws:username}/*"}},
    {"ForAnyValue:StringLike": {"s3:prefix": "Alice/*"}},
)


def random_statement(
    rng: random.Random, base: str, listing: str, resource_policy: bool
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": rng.choice(("Allow", "Allow", "Deny"))}
    action = rng.choice(ACTION_CHOICES)
    statement["NotAction" if rng.random() < 0.12 else "Action"] = action
    resource = rng.choice(resource_choices(base, listing))
    statement["NotResource" if rng.random() < 0.1 else "Resource"] = resource
    if resource_policy:
        principal = rng.choice(PRINCIPAL_CHOICES)
        # "NotPrincipal must be used with "Effect":"Deny"" (IAM User Guide, NotPrincipal)
        negate = statement["Effect"] == "Deny" and principal != "*" and rng.random() < 0.3
        statement["NotPrincipal" if negate else "Principal"] = principal
    if rng.random() < 0.5:
        condition: dict[str, Any] = {}
        for clause in rng.sample(CONDITION_CHOICES, rng.choice((1, 1, 2))):
            for operator, pairs in clause.items():
                condition.setdefault(operator, {}).update(pairs)
        statement["Condition"] = condition
    return statement


def names_of(principal: Principal) -> list[Any]:
    """Principal elements that name this principal (or cover it)."""
    if principal.arn is None:
        return ["*", {"AWS": "*"}]
    found: list[Any] = ["*", {"AWS": principal.arn}, {"AWS": principal.account}]
    if principal.role_arn is not None:
        found += [{"AWS": principal.role_arn}, {"AWS": [principal.arn, principal.role_arn]}]
    return found


def aimed(rng: random.Random, principal: Principal, base: str, listing: str) -> dict[str, Any]:
    """A statement that names the requester: grants (and denies) that could decide the case."""
    statement = random_statement(rng, base, listing, True)
    key = "NotPrincipal" if "NotPrincipal" in statement else "Principal"
    statement[key] = rng.choice(names_of(principal))
    statement["Effect"] = "Deny" if key == "NotPrincipal" or rng.random() < 0.2 else "Allow"
    if rng.random() < 0.5:
        statement.pop("Condition", None)
    if rng.random() < 0.5:
        statement.pop("NotAction", None)
        statement["Action"] = rng.choice(("s3:*", "*", "s3:*Object", ["s3:ListBucket", "s3:Get*"]))
    if rng.random() < 0.5:
        statement.pop("NotResource", None)
        statement["Resource"] = rng.choice(("*", f"{base}*", [listing, f"{base}*"]))
    return statement


def broaden(
    rng: random.Random,
    doc: dict[str, Any] | None,
    base: str,
    listing: str,
    resource_policy: bool,
    requester: Principal | None = None,
) -> dict[str, Any] | None:
    """Random edits of a policy the tool wrote: replaced parts, extra statements, removals."""
    if doc is None:
        doc = {"Version": V, "Statement": []}
    doc = copy.deepcopy(doc)
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    doc["Statement"] = statements
    # about as many edits per policy whatever its length: the bucket policy has grown to nine
    # statements (issue 22), and editing each as often as before would leave few allowed cases
    scale = max(1.0, len(statements) / 4)
    for statement in statements:
        roll = rng.random() * scale
        if roll < 0.15:
            statement["Resource"] = rng.choice(resource_choices(base, listing))
        elif roll < 0.25 and resource_policy:
            statement["Principal"] = rng.choice(PRINCIPAL_CHOICES)
        elif roll < 0.32:
            statement["Action"] = rng.choice(ACTION_CHOICES)
        elif roll < 0.37:
            statement.pop("Condition", None)
    if statements and rng.random() < 0.1:
        statements.pop(rng.randrange(len(statements)))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        statements.append(random_statement(rng, base, listing, resource_policy))
    if requester is not None and rng.random() < 0.85:
        statements.append(aimed(rng, requester, base, listing))
    return doc if statements else None


# --- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    request: Request
    access_point_policy: dict[str, Any] | None
    bucket_policy: dict[str, Any] | None
    identity_docs: tuple[dict[str, Any], ...]
    principal_arn: str | None

    def ours(self) -> Decision:
        return evaluate(
            self.request,
            access_point_policy=compile_policy(
                self.access_point_policy, PolicyRef("access point policy", "ap")
            ),
            bucket_policy=compile_policy(self.bucket_policy, PolicyRef("bucket policy", BUCKET)),
        ).decision

    def simulations(self) -> list[dict[str, Any]]:
        """One per stage: the access point (if any), then the bucket."""
        request = self.request
        context = {"aws:SecureTransport": "true" if request.secure_transport else "false"}
        if request.principal.arn is not None:
            context["aws:PrincipalAccount"] = request.principal.arn.split(":")[4]
        if self.principal_arn is not None:
            context["aws:PrincipalArn"] = self.principal_arn
        if request.prefix is not None:
            context["s3:prefix"] = request.prefix
        if request.signature_age_ms is not None:  # a presigned URL, that long after signing
            context["s3:signatureAge"] = str(request.signature_age_ms)
        details = request.details
        if request.principal.arn is not None:  # every signed request says its version
            context["s3:signatureversion"] = details.signature_version
        if request.secure_transport:
            context["s3:TlsVersion"] = details.tls_version
        for key, value in (
            ("s3:x-amz-server-side-encryption", details.sse),
            ("s3:x-amz-server-side-encryption-aws-kms-key-id", details.sse_kms_key_id),
            ("s3:x-amz-server-side-encryption-customer-algorithm", details.sse_customer_algorithm),
        ):
            if value is not None:
                context[key] = value
        if (point := request.access_point) is not None:
            context["s3:DataAccessPointArn"] = point.arn
            context["s3:DataAccessPointAccount"] = point.account
            context["s3:AccessPointNetworkOrigin"] = point.network_origin
        common = {
            "principal": request.principal.arn,
            "action": request.action,
            "identity": list(self.identity_docs),
            "context": context,
        }
        stages = []
        if request.access_point is not None:
            stages.append(
                common
                | {
                    "resource": request.access_point_resource,
                    "account": request.access_point.account,
                    "resource_policy": self.access_point_policy,
                }
            )
        bucket_stage = common | {
            "resource": request.bucket_resource,
            "account": request.bucket_account,
            "resource_policy": self.bucket_policy,
        }
        caller = request.principal.account
        if request.access_point is not None and caller not in (None, request.bucket_account):
            # the identity policy was judged against the access point ARN above
            bucket_stage["identity"] = [ALLOW_ALL]
        stages.append(bucket_stage)
        return stages

    def cross_account_through_access_point(self) -> bool:
        caller = self.request.principal.account
        return self.request.access_point is not None and caller not in (None, OWNER)

    def describe(self) -> str:
        return json.dumps(
            {
                "request": self.request.describe(),
                "principal": self.request.principal.arn,
                "principal_arn": self.request.principal.principal_arn,
                "access_point_policy": self.access_point_policy,
                "bucket_policy": self.bucket_policy,
                "identity": self.identity_docs,
            },
            indent=1,
        )


def principals(
    rng: random.Random,
    tool_identity: dict[str, list[dict[str, Any]]],
    partner_docs: list[dict[str, Any]],
) -> list[Who]:
    """Collaborators with their identity policies (as written, or broadened), role sessions of
    this and other accounts (other accounts' identity policies allow everything: the worst case
    the verifier assumes; or the partner policy `reconcile show` prints, as written or broadened,
    or the access point ARN alone, as AWS's cross-account examples grant), a user of another
    account, and anonymous."""
    alice = f"arn:aws:iam::{OWNER}:user/collaborators/Alice"
    bob = f"arn:aws:iam::{OWNER}:user/collaborators/Bob"
    analyst = f"arn:aws:iam::{OWNER}:role/team/Analyst"
    uploader = f"arn:aws:iam::{PARTNER}:role/Uploader"

    def same_account(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        roll = rng.random()
        if roll < 0.3:
            extra = broaden(rng, None, f"arn:aws:s3:::{BUCKET}/", f"arn:aws:s3:::{BUCKET}", False)
            return [*docs, extra] if extra else docs
        if roll < 0.4:
            return [*docs, ALLOW_ALL]
        return docs

    return [
        who("alice", alice, same_account(tool_identity["Alice"])),
        who("bob", bob, same_account(tool_identity["Bob"])),
        who("analyst", "s1", same_account([]), role=analyst),
        who("uploader s1", "s1", [ALLOW_ALL], role=uploader),
        who("uploader s2", "s2", [ALLOW_ALL], role=uploader),
        who("uploader s3", "s3", partner(rng, partner_docs), role=uploader),
        who("uploader s4", "s4", partner(rng, partner_docs), role=uploader),
        who("eve", f"arn:aws:iam::{OTHER}:user/Eve", [ALLOW_ALL]),
        who("anonymous", None, []),
    ]


PARTNER_SESSIONS = ("uploader s3", "uploader s4")


def partner(rng: random.Random, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A partner role's identity policy: `show`'s partner policy (for one of the two files), as
    printed or broadened, or grants on the partner's access point ARN only."""
    doc = rng.choice(docs)
    roll = rng.random()
    if roll < 0.4:
        return [doc]
    if roll < 0.7:
        point = point_arn("partner-site-ap")
        return [broaden(rng, doc, f"{point}/object/", point, False) or doc]
    point = point_arn(rng.choice(("partner-site-ap", "alice-access-point")))
    only_point = {
        "Effect": "Allow",
        "Action": rng.choice(("s3:*", ["s3:PutObject", "s3:ListBucket"], "s3:GetObject")),
        "Resource": [point, f"{point}/object/*"],
    }
    return [{"Version": V, "Statement": [only_point]}]


# the tool's policies for two files: the shared test file, and one with every level for the
# partner's role and a collaborator that is a role of this account
# Bob opens the S3 console, so he has the identity policy the tool writes for that; Alice, by
# default, has none (the access point policy names her).
CONSOLE_YAML = BASE_YAML.replace("iam_user: Bob\n", "iam_user: Bob\n    console: true\n")
WIDER_YAML = CONSOLE_YAML.replace(
    "access: [write]\n    access_point: partner-site-ap",
    "access: [read, write, list, delete]\n    access_point: partner-site-ap",
) + (
    "  - id: analysts\n"
    f"    principal: arn:aws:iam::{OWNER}:role/team/Analyst\n"
    "    prefix: Analysts/\n"
    "    access: [read, list]\n"
)


# an SSE-KMS bucket: the bucket policy carries the KMS-key statements of issue 22
KMS_YAML = WIDER_YAML.replace(
    f"  name: {BUCKET}\n", f"  name: {BUCKET}\n  encryption: aws:kms\n  kms_key_id: {KMS_KEY}\n"
)


# keys and the listing prefix in each user's own folder
OWN_FOLDERS: dict[str, tuple[tuple[str, ...], str]] = {
    "alice": (("Alice/x", "Alice/sub/z.csv"), "Alice/"),
    "bob": (("Bob/y.csv",), "Bob/"),
}


def generate(seed: int, count: int) -> list[Case]:
    rng = random.Random(seed)
    states = [desired(config_from(text)) for text in (CONSOLE_YAML, WIDER_YAML, KMS_YAML)]
    tool_identity = {
        name: [dict(policy) for policy in user.inline_policies.values()]
        for name, user in states[0].users.items()
    }
    assert tool_identity["Bob"] and not tool_identity["Alice"]
    partner_docs = []
    for text in (CONSOLE_YAML, WIDER_YAML):
        config = config_from(text)
        site = next(c for c in config.collaborators if c.id == "partner-site")
        doc = partner_identity_policy(config, site)
        assert doc is not None
        partner_docs.append(doc)
    cases = []
    for _ in range(count):
        state = rng.choice(states)
        assert state.bucket.policy is not None
        # anonymous callers less often: since issue 22 every unsigned request is denied by
        # ReconcilerDenySignatureVersion2 (no s3:signatureversion), unless a broadening edits it
        candidates = principals(rng, tool_identity, partner_docs)
        weights = [1 if c.principal.arn is None else 3 for c in candidates]
        subject = rng.choices(candidates, weights=weights)[0]
        route = rng.choice((None, *sorted(state.access_points)))
        if subject.principal.label in PARTNER_SESSIONS and rng.random() < 0.7:
            route = "partner-site-ap"  # mostly through its own access point
        # the collaborators' own journeys, half the time: their folder through their access
        # point (the requests issue 22's denies must leave alone, and those they must stop)
        own = OWN_FOLDERS.get(subject.principal.label)
        journey = own is not None and rng.random() < 0.5
        if journey:
            route = f"{subject.principal.label}-access-point"
        action = rng.choice((*OBJECT_ACTIONS, "s3:ListBucket"))
        listing = action == "s3:ListBucket"
        point = None
        ap_doc = None
        if route is not None:
            point = AccessPointRef(
                route, point_arn(route), OWNER, rng.choice(("Internet", "Internet", "VPC"))
            )
            raw = state.access_points[route].policy
            ap_doc = broaden(
                rng,
                dict(raw) if raw else None,
                point.arn + "/object/",
                point.arn,
                True,
                subject.principal,
            )
        bucket_doc = dict(state.bucket.policy)
        if rng.random() < 0.7:
            bucket_doc = (
                broaden(
                    rng,
                    bucket_doc,
                    f"arn:aws:s3:::{BUCKET}/",
                    f"arn:aws:s3:::{BUCKET}",
                    True,
                    subject.principal,
                )
                or bucket_doc
            )
        request = Request(
            subject.principal,
            action,
            BUCKET,
            OWNER,
            key=None if listing else rng.choice(own[0] if journey and own else KEYS),
            prefix=(own[1] if journey and own else rng.choice(PREFIXES)) if listing else None,
            access_point=point,
            secure_transport=rng.random() < 0.85,
            signature_age_ms=(
                rng.choice((None, None, None, None, None, 1000, 600001, 7200000))
                if subject.principal.arn is not None
                else None
            ),
            details=rng.choice(UPLOAD_DETAILS if action == "s3:PutObject" else DETAILS),
        )
        cases.append(
            Case(request, ap_doc, bucket_doc, subject.identity_docs, subject.principal_arn)
        )
    return cases


# --- the simulator -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Callable[[list[dict[str, Any]]], list[str]]:
    assert NODE is not None
    # .ci/run installs it; a local run installs it here, once even with several test workers
    with (ORACLE / "node_modules.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (ORACLE / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            npm = shutil.which("npm")
            assert npm is not None, "npm is needed to install tests/oracle (npm ci)"
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=ORACLE, capture_output=True, text=True
            )
            assert installed.returncode == 0, f"npm ci in tests/oracle failed:\n{installed.stderr}"

    def run(simulations: list[dict[str, Any]]) -> list[str]:
        done = subprocess.run(
            [NODE, str(ORACLE / "simulate.cjs")],
            input=json.dumps(simulations),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        results: list[str] = json.loads(done.stdout)
        return results

    return run


def combined(results: list[str]) -> str:
    """The simulator's decision for all stages: allowed only if every stage allows."""
    if any(r.startswith("error") for r in results):
        return "error: " + "; ".join(r for r in results if r.startswith("error"))
    return "allow" if all(r == "Allowed" for r in results) else "deny"


# --- known simulator errors ----------------------------------------------------------------


@dataclass(frozen=True)
class KnownError:
    """A case where the AWS documentation says the simulator is wrong (one row of
    tests/oracle/known_simulator_errors.md), with an example the test replays: the simulator must
    still give its wrong answer (else the row is stale) and our evaluator the documented one."""

    name: str
    doc: str  # the page saying what AWS does
    example: Case
    documented: str  # "allow" or "deny"
    validated: bool  # the example goes through the package's public runSimulation
    explains: Callable[[Case], bool]  # which disagreements of the random cases it accounts for


def _through_alice_access_point() -> Case:
    state = desired(config_from(BASE_YAML))
    alice = who(
        "alice",
        f"arn:aws:iam::{OWNER}:user/collaborators/Alice",
        [dict(policy) for policy in state.users["Alice"].inline_policies.values()],
    )
    point = AccessPointRef("alice-access-point", point_arn("alice-access-point"), OWNER)
    ap_policy = state.access_points["alice-access-point"].policy
    assert ap_policy is not None and state.bucket.policy is not None
    request = Request(
        alice.principal, "s3:PutObject", BUCKET, OWNER, key="Alice/x", access_point=point
    )
    return Case(
        request,
        dict(ap_policy),
        dict(state.bucket.policy),
        alice.identity_docs,
        alice.principal_arn,
    )


KNOWN = (
    KnownError(
        "runSimulation drops s3:DataAccessPointAccount, s3:DataAccessPointArn and "
        "s3:AccessPointNetworkOrigin when the resource is a bucket or object ARN, so a bucket "
        "policy that delegates to access points never applies",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html",
        _through_alice_access_point(),
        "allow",
        validated=True,
        explains=lambda case: False,  # the differential calls the evaluator without that step
    ),
)


# --- the test ------------------------------------------------------------------------------


def batched(cases: list[Case]) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Every case's simulations in one list, and where each case's stages are in it."""
    batch: list[dict[str, Any]] = []
    spans: list[tuple[int, int]] = []
    for case in cases:
        stages = case.simulations()
        spans.append((len(batch), len(stages)))
        batch += stages
    return batch, spans


def test_our_evaluator_agrees_with_an_independent_simulator(
    simulator: Callable[[list[dict[str, Any]]], list[str]],
) -> None:
    cases = generate(SEED, CASES)
    batch, spans = batched([*cases, *(k.example for k in KNOWN)])
    for row, (start, count) in zip(KNOWN, spans[len(cases) :], strict=True):
        for stage in batch[start : start + count]:
            stage["validated"] = row.validated
    results = simulator(batch)

    figures: Counter[str] = Counter()
    unexplained: list[str] = []
    for case, (start, count) in zip(cases, spans, strict=False):
        ours, theirs = case.ours(), combined(results[start : start + count])
        if ours is Decision.UNKNOWN:
            figures["unknown"] += 1
        elif ours.value == theirs:
            figures["agree"] += 1
            if case.cross_account_through_access_point():
                figures[f"cross-account via access point, {ours.value}"] += 1
        elif (explained := next((k for k in KNOWN if k.explains(case)), None)) is not None:
            figures["known simulator errors"] += 1
            figures[explained.name] += 1
        else:
            unexplained.append(f"ours {ours.value}, simulator {theirs}:\n{case.describe()}")
    print(
        f"oracle figures (seed {SEED}): {CASES} cases, "
        + ", ".join(f"{figures[k]} {k}" for k in ("agree", "unknown", "known simulator errors"))
        + "; of those agreeing, cross-account through an access point: "
        f"{figures['cross-account via access point, allow']} allow, "
        f"{figures['cross-account via access point, deny']} deny"
    )
    assert not unexplained, f"{len(unexplained)} disagreements, first:\n" + unexplained[0]
    assert figures["agree"] + figures["unknown"] + figures["known simulator errors"] == CASES
    # the cases must exercise both answers and stay mostly decidable
    decided = [c.ours() for c in cases]
    assert decided.count(Decision.ALLOW) > CASES // 10
    assert decided.count(Decision.DENY) > CASES // 2
    assert figures["unknown"] < CASES // 20
    # cross-account callers through access points, both answers
    assert figures["cross-account via access point, allow"] > 50
    assert figures["cross-account via access point, deny"] > 50

    for row, (start, count) in zip(KNOWN, spans[len(cases) :], strict=True):
        wrong = combined(results[start : start + count])
        assert wrong != row.documented, f"the simulator now gets this right: {row.name}"
        assert row.example.ours().value == row.documented, row.name


def test_the_comparison_catches_a_broken_evaluator(
    simulator: Callable[[list[dict[str, Any]]], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The differential can fail: an evaluator that forgets that another account needs the
    resource policy too (cross-account evaluation logic) disagrees with the simulator."""
    cases = generate(SEED + 1, 500)
    batch, spans = batched(cases)
    results = simulator(batch)
    monkeypatch.setattr(
        evaluator, "_stage_allows", lambda p, owner, i, r: r.allow if p.anonymous else i.allow
    )
    wrong = [
        c
        for c, (start, count) in zip(cases, spans, strict=True)
        if c.ours() is not Decision.UNKNOWN
        and c.ours().value != combined(results[start : start + count])
    ]
    assert len(wrong) > 10
