"""Evaluator vectors for the KMS call S3 makes with SSE-KMS. Each cites the page its policies and
expected outcome come from.

KEYS_PAGE: AWS KMS Developer Guide, "Key policies in AWS KMS" (no principal can use a key unless
the key policy allows it; the account root statement delegates to IAM policies).
DEFAULT_PAGE: "Default key policy" (the "Enable IAM User Permissions" statement).
XACCT_PAGE: "Allowing users in other accounts to use a KMS key" (the key policy must name the
other account or principal, and that account's IAM policy must allow too).
VIA_PAGE: "kms:ViaService" condition key; CONTEXT_PAGE: "kms:EncryptionContext:context-key";
BUCKET_KEY_PAGE: S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys" (with a
Bucket Key the encryption context is the bucket ARN).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.access.evaluator import Decision, evaluate_kms
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import Identity, KmsRequest, Principal

KEYS_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
DEFAULT_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
XACCT_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html"
VIA_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service"
CONTEXT_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context"
BUCKET_KEY_PAGE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html"

ALLOW, DENY = Decision.ALLOW, Decision.DENY
ACCT, OTHER = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-west-2:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_ARN = "arn:aws:s3:::amzn-s3-demo-bucket"
VIA = "s3.us-west-2.amazonaws.com"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ROOT = {  # DEFAULT_PAGE
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
S3_ONLY = {"StringEquals": {"kms:ViaService": VIA, "kms:EncryptionContext:aws:s3:arn": BUCKET_ARN}}
USER_USES_KEY = doc(  # an identity policy, as the tool writes it
    {
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": KEY,
        "Condition": S3_ONLY,
    }
)


def principal(arn: str, *identity: dict[str, Any], unrestricted: bool = False) -> Principal:
    policies = tuple(
        p for d in identity if (p := compile_policy(d, PolicyRef("identity policy", arn)))
    )
    return Principal(arn, arn, Identity(policies, unrestricted="assumed" if unrestricted else None))


ALICE = principal(f"arn:aws:iam::{ACCT}:user/Alice", USER_USES_KEY)
ALICE_NO_IAM = principal(f"arn:aws:iam::{ACCT}:user/Alice")
PARTNER = principal(f"arn:aws:iam::{OTHER}:role/Uploader", unrestricted=True)
ANONYMOUS = Principal("anonymous", None)


def request(
    who: Principal,
    action: str = "kms:Decrypt",
    *,
    via: str | None = VIA,
    context: str | None = BUCKET_ARN,
) -> KmsRequest:
    return KmsRequest(who, action, KEY, via_service=via, s3_context=context)


CASES = [
    # (page, who, key policy, request kwargs, expected)
    (DEFAULT_PAGE, ALICE, doc(ROOT), {}, ALLOW),  # root delegates; the IAM policy allows
    (KEYS_PAGE, ALICE_NO_IAM, doc(ROOT), {}, DENY),  # delegated, but no IAM policy allows
    (KEYS_PAGE, ALICE, doc(), {}, DENY),  # IAM allows, the key policy neither names nor delegates
    (
        KEYS_PAGE,
        ALICE_NO_IAM,
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ALICE.arn},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ),
        {},
        ALLOW,  # the key policy naming the principal is enough in its own account
    ),
    (XACCT_PAGE, PARTNER, doc(ROOT), {}, DENY),  # the other account is not named
    (
        XACCT_PAGE,
        PARTNER,
        doc(
            ROOT,
            {
                "Effect": "Allow",
                "Principal": {"AWS": PARTNER.arn},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": S3_ONLY,
            },
        ),
        {},
        ALLOW,  # named, and its own account's IAM policy (assumed) allows
    ),
    (
        XACCT_PAGE,
        PARTNER,
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ),
        {},
        ALLOW,  # naming the other account delegates to its IAM policies
    ),
    (
        VIA_PAGE,
        ALICE,
        doc(ROOT),
        {"via": None, "context": None},
        DENY,
    ),  # direct call: no ViaService
    (VIA_PAGE, ALICE, doc(ROOT), {"via": "ec2.us-west-2.amazonaws.com"}, DENY),
    (CONTEXT_PAGE, ALICE, doc(ROOT), {"context": "arn:aws:s3:::another-bucket"}, DENY),
    # without a Bucket Key the context is the object ARN, which the bucket-ARN condition misses
    (BUCKET_KEY_PAGE, ALICE, doc(ROOT), {"context": f"{BUCKET_ARN}/Alice/a.csv"}, DENY),
    (
        KEYS_PAGE,
        ANONYMOUS,
        doc({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}),
        {},
        DENY,
    ),
    (
        KEYS_PAGE,
        ALICE,
        doc(ROOT, {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}),
        {},
        DENY,  # an explicit deny in the key policy wins
    ),
]


@pytest.mark.parametrize(("page", "who", "key_policy", "kwargs", "expected"), CASES)
def test_kms_vector(
    page: str,
    who: Principal,
    key_policy: dict[str, Any],
    kwargs: dict[str, Any],
    expected: Decision,
) -> None:
    compiled = compile_policy(key_policy, PolicyRef("key policy", KEY))
    result = evaluate_kms(request(who, **kwargs), key_policy=compiled, key_account=ACCT)
    assert result.decision is expected, (page, result.because())


def test_an_unread_key_policy_is_unknown_not_a_guess() -> None:
    result = evaluate_kms(request(ALICE), key_policy=None, key_account=ACCT)
    assert result.decision is Decision.UNKNOWN
    assert result.reasons == (f"the key policy of {KEY} was not read",)
