"""Issue 22, section 2: the collaborator journeys, request by request, decided by our evaluator
AND by the independent simulator @cloud-copilot/iam-simulate (tests/oracle), on the policies the
tool writes. The journeys' exact requests must stay allowed; the attacks must be denied.

Request shapes: `aws s3 cp` uploads with PutObject, large files with CreateMultipartUpload,
UploadPart and CompleteMultipartUpload (all authorized as s3:PutObject; AbortMultipartUpload on
failure), downloads with GetObject, `aws s3 ls` and the console list with ListBucket (s3:prefix,
s3:delimiter "/"); SigV4 over TLS 1.2 with no encryption header (S3 User Guide, "Multipart upload
API and permissions"; S3 API Reference, "Amazon S3 Signature Version 4 Authentication Specific
Policy Keys"). A partner of another account is evaluated with an identity policy that allows
everything (what verify assumes), so the resource policies alone decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.access.evaluator import Decision, evaluate_kms
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import (
    AccessPointRef,
    Details,
    Identity,
    KmsRequest,
    Principal,
    Request,
    role_session,
)
from tests.access_support import desired
from tests.conftest import BASE_YAML, config_from
from tests.test_access_oracle import (  # noqa: F401  (the simulator fixture)
    ALLOW_ALL,
    NODE,
    Case,
    combined,
    simulator,
)

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (tests/oracle)")

OWNER, PARTNER = "123456789012", "111122223333"
BUCKET = "clinical-share-123456789012"
REGION = "us-east-1"
KEY = f"arn:aws:kms:{REGION}:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FOREIGN_KEY = f"arn:aws:kms:{REGION}:444455556666:key/99999999-12ab-34cd-56ef-1234567890ab"
SSE_S3_YAML = BASE_YAML.replace("    iam_user: Bob\n", "    iam_user: Bob\n    console: true\n")
SSE_KMS_YAML = SSE_S3_YAML.replace(
    f"  name: {BUCKET}\n",
    f"  name: {BUCKET}\n  encryption: aws:kms\n  kms_key_id: {KEY}\n  manage_key_policy: true\n",
)
ALLOW, DENY = "allow", "deny"


def point(name: str) -> AccessPointRef:
    return AccessPointRef(name, f"arn:aws:s3:{REGION}:{OWNER}:accesspoint/{name}", OWNER)


def bob(state: Any) -> tuple[Principal, tuple[dict[str, Any], ...]]:
    docs = tuple(dict(p) for p in state.users["Bob"].inline_policies.values())
    compiled = tuple(
        p for i, d in enumerate(docs) if (p := compile_policy(d, PolicyRef("identity", f"b{i}")))
    )
    return Principal(
        "bob", f"arn:aws:iam::{OWNER}:user/collaborators/Bob", Identity(compiled)
    ), docs


def partner() -> tuple[Principal, tuple[dict[str, Any], ...]]:
    compiled = compile_policy(ALLOW_ALL, PolicyRef("identity", "partner"))
    assert compiled is not None
    role = f"arn:aws:iam::{PARTNER}:role/Uploader"
    return role_session("partner", role, "s1", Identity((compiled,))), (ALLOW_ALL,)


PARTNER_AP = "partner-site-ap"
BOB_FILE, PARTNER_FILE = "Bob/a.csv", "partner-site/up.csv"
PLAIN = Details()  # what `aws s3 cp` sends without --sse options


@dataclass(frozen=True)
class Row:
    """One request of a journey or an attack, and what both evaluators must answer. The defaults
    are Bob's plain `aws s3 cp` of one file through his access point."""

    journey: str
    action: str
    expected: str
    details: Details = PLAIN
    who: str = "bob"
    key: str | None = BOB_FILE
    prefix: str | None = None
    delimiter: str | None = None
    ap: str = "bob-access-point"


def by_partner(journey: str, expected: str, details: Details = PLAIN) -> Row:
    """The partner of another account uploads through its own access point."""
    return Row(journey, "s3:PutObject", expected, details, "partner", PARTNER_FILE, ap=PARTNER_AP)


def listing(journey: str, prefix: str, expected: str, details: Details = PLAIN) -> Row:
    """`aws s3 ls` and the console list with a prefix and the delimiter "/"."""
    return Row(journey, "s3:ListBucket", expected, details, key=None, prefix=prefix, delimiter="/")


S3_CASES = [
    Row("aws s3 cp upload", "s3:PutObject", ALLOW),
    Row("aws s3 cp download", "s3:GetObject", ALLOW),
    Row("multipart: create, parts, complete", "s3:PutObject", ALLOW, key="Bob/big.bin"),
    Row("multipart: abort", "s3:AbortMultipartUpload", ALLOW, key="Bob/big.bin"),
    listing("aws s3 ls Bob/", "Bob/", ALLOW),
    listing("console opens the access point", "", ALLOW),
    Row("upload naming the bucket's algorithm", "s3:PutObject", ALLOW, Details(sse="{own}")),
    Row("TLS 1.3", "s3:GetObject", ALLOW, Details(tls_version="1.3")),
    by_partner("partner upload through its access point", ALLOW),
    # attacks
    Row("SSE-C upload", "s3:PutObject", DENY, Details(sse_customer_algorithm="AES256")),
    Row(
        "upload with a foreign KMS key",
        "s3:PutObject",
        DENY,
        Details(sse="aws:kms", sse_kms_key_id=FOREIGN_KEY),
    ),
    Row(
        "upload with the AWS managed key (aws:kms, no key id)",
        "s3:PutObject",
        DENY,
        Details(sse="aws:kms"),
    ),
    Row(
        "upload with DSSE",
        "s3:PutObject",
        DENY,
        Details(sse="aws:kms:dsse", sse_kms_key_id=KEY),
    ),
    by_partner("partner upload with SSE-C", DENY, Details(sse_customer_algorithm="AES256")),
    Row("SigV2 download", "s3:GetObject", DENY, Details(signature_version="AWS")),
    by_partner("SigV2 partner upload", DENY, Details(signature_version="AWS")),
    Row("TLS 1.0 download", "s3:GetObject", DENY, Details(tls_version="1.0")),
    listing("TLS 1.1 listing", "Bob/", DENY, Details(tls_version="1.1")),
    Row(
        "read through a foreign access point",
        "s3:GetObject",
        DENY,
        who="partner",
        ap="rogue-access-point",
    ),
]
ROGUE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                f"arn:aws:s3:{REGION}:{OWNER}:accesspoint/rogue-access-point",
                f"arn:aws:s3:{REGION}:{OWNER}:accesspoint/rogue-access-point/object/*",
            ],
        }
    ],
}


def s3_case(text: str, row: Row) -> tuple[str, Case, str]:
    config = config_from(text)
    state = desired(config)
    details = row.details
    if details.sse == "{own}":
        own = config.bucket.encryption
        details = Details(sse=own, sse_kms_key_id=KEY if config.bucket.kms else None)
    principal, docs = bob(state) if row.who == "bob" else partner()
    ap = row.ap
    ap_policy = ROGUE_POLICY if ap == "rogue-access-point" else state.access_points[ap].policy
    request = Request(
        principal,
        row.action,
        BUCKET,
        OWNER,
        key=row.key,
        prefix=row.prefix,
        delimiter=row.delimiter,
        access_point=point(ap),
        details=details,
    )
    assert state.bucket.policy is not None
    case = Case(
        request,
        dict(ap_policy) if ap_policy else None,
        dict(state.bucket.policy),
        docs,
        principal.principal_arn,
    )
    return row.journey, case, row.expected


@pytest.mark.parametrize("text", [SSE_S3_YAML, SSE_KMS_YAML], ids=["sse-s3", "sse-kms"])
def test_journeys_work_and_attacks_are_denied_by_both_evaluators(
    text: str,
    simulator: Callable[[list[dict[str, Any]]], list[str]],  # noqa: F811 (the fixture)
) -> None:
    cases = [s3_case(text, row) for row in S3_CASES]
    batch: list[dict[str, Any]] = []
    spans = []
    for _, case, _ in cases:
        stages = case.simulations()
        for stage in stages:
            if case.request.delimiter is not None:
                stage["context"]["s3:delimiter"] = case.request.delimiter
        spans.append((len(batch), len(stages)))
        batch += stages
    results = simulator(batch)
    wrong = []
    for (journey, case, expected), (start, count) in zip(cases, spans, strict=True):
        ours, theirs = case.ours().value, combined(results[start : start + count])
        if (ours, theirs) != (expected, expected):
            wrong.append(f"{journey}: expected {expected}, ours {ours}, simulator {theirs}")
    assert not wrong, wrong


def test_kms_calls_through_s3_for_both_encryption_contexts(
    simulator: Callable[[list[dict[str, Any]]], list[str]],  # noqa: F811 (the fixture)
) -> None:
    """With the Bucket Key the context is the bucket ARN, without it the object ARN; Bob's
    identity policy (and, for the partner, the key policy) allows both, the object form only
    under the collaborator's own prefix."""
    config = config_from(SSE_KMS_YAML)
    state = desired(config)
    assert state.kms_key is not None and state.kms_key.policy is not None
    key_policy = dict(state.kms_key.policy)
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    via = f"s3.{REGION}.amazonaws.com"
    rows = [
        ("bob", "kms:Decrypt", bucket_arn, ALLOW),
        ("bob", "kms:GenerateDataKey", bucket_arn, ALLOW),
        ("bob", "kms:Decrypt", f"{bucket_arn}/Bob/old.csv", ALLOW),
        ("bob", "kms:Decrypt", f"{bucket_arn}/Alice/x.csv", DENY),
        ("bob", "kms:Decrypt", "arn:aws:s3:::another-bucket", DENY),
        ("partner", "kms:GenerateDataKey", f"{bucket_arn}/partner-site/up.csv", ALLOW),
        ("partner", "kms:Decrypt", bucket_arn, ALLOW),
    ]
    compiled = compile_policy(key_policy, PolicyRef("key policy", KEY))
    batch, expected, ours = [], [], []
    for who, action, context, want in rows:
        principal, docs = bob(state) if who == "bob" else partner()
        request = KmsRequest(principal, action, KEY, via_service=via, s3_context=context)
        ours.append(evaluate_kms(request, key_policy=compiled, key_account=OWNER).decision)
        sim_context = {
            "aws:SecureTransport": "true",
            "aws:PrincipalAccount": principal.account or "",
            "aws:PrincipalArn": principal.principal_arn or "",
            "kms:CallerAccount": principal.account or "",
            "kms:ViaService": via,
            "kms:EncryptionContext:aws:s3:arn": context,
        }
        batch.append(
            {
                "principal": principal.arn,
                "action": action,
                "resource": KEY,
                "account": OWNER,
                "identity": list(docs),
                "resource_policy": key_policy,
                "context": sim_context,
            }
        )
        expected.append(want)
    results = simulator(batch)
    for row, mine, theirs, want in zip(rows, ours, results, expected, strict=True):
        assert mine.value == want, (row, mine)
        assert ("allow" if theirs == "Allowed" else "deny") == want, (row, theirs)
    assert Decision.ALLOW in ours
