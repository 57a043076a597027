"""Presigned links expire within bucket.presigned_url_max_age_seconds (default 300): a
Reconciler bucket-policy statement denies every request whose s3:signatureAge (milliseconds,
set only for presigned URLs) is greater. The gate and `verify` require it.

Pages: S3 API Reference, "Amazon S3 Signature Version 4 Authentication Specific Policy Keys"
(SIGV4_PAGE: the key, its unit, "works only for presigned URLs", and the bucket policy example
that denies presigned requests more than ten minutes old) and AWS Prescriptive Guidance,
"Presigned URL best practices: Additional guardrails" (GUARDRAIL_PAGE: NumericGreaterThan on
s3:signatureAge in a Deny)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.access.checks import BucketCheckName, Status, verify
from reconciler.access.evaluator import Decision, evaluate
from reconciler.access.gate import gate
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import Identity, Principal, Request
from reconciler.documents.policies import bucket_statements
from reconciler.errors import ConfigError
from tests.access_support import bucket_policy_of, desired, edit_bucket_policy
from tests.conftest import BASE_YAML, config_from

SIGV4_PAGE = (
    "https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html"
)
GUARDRAIL_PAGE = (
    "https://docs.aws.amazon.com/prescriptive-guidance/latest/presigned-url-best-practices/"
    "additional-guardrails.html"
)
ACCT = "123456789012"
BUCKET = "examplebucket"


def _with_age(seconds: int) -> str:
    return BASE_YAML.replace(
        "  name: clinical-share-123456789012\n",
        f"  name: clinical-share-123456789012\n  presigned_url_max_age_seconds: {seconds}\n",
    )


@pytest.mark.parametrize(("yaml_text", "millis"), [(BASE_YAML, "300000"), (_with_age(60), "60000")])
def test_the_bucket_policy_denies_signatures_older_than_the_limit(
    yaml_text: str, millis: str
) -> None:
    config = config_from(yaml_text)
    statement = {s["Sid"]: s for s in bucket_statements(config)}[
        "ReconcilerDenyLongLivedPresignedUrls"
    ]
    bucket = "arn:aws:s3:::clinical-share-123456789012"
    assert statement == {
        "Sid": "ReconcilerDenyLongLivedPresignedUrls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket, f"{bucket}/*"],
        "Condition": {"NumericGreaterThan": {"s3:signatureAge": millis}},
    }


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (0, "0 is less than the minimum of 1"),
        (604801, "604801 is greater than the maximum of 604800"),  # SigV4: at most 7 days
    ],
)
def test_the_limit_stays_within_what_sigv4_allows(seconds: int, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from(_with_age(seconds))
    assert f"collaborators.yaml:6:3: bucket.presigned_url_max_age_seconds: {message}" in str(
        err.value
    )


# --- evaluator vectors ----------------------------------------------------------------------

# SIGV4_PAGE, "Bucket policy examples using Signature Version 4 related condition keys": deny any
# presigned URL request on objects in the bucket when the signature is more than ten minutes old.
TEN_MINUTES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Deny a presigned URL request if the signature is more than 10 min old",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"NumericGreaterThan": {"s3:signatureAge": "600000"}},
        },
        {
            "Sid": "OwnerReads",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/Alice"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        },
    ],
}
ALICE = Principal("Alice", f"arn:aws:iam::{ACCT}:user/Alice", Identity())


@pytest.mark.parametrize(
    ("age_ms", "expected"),
    [
        (None, Decision.ALLOW),  # not presigned: the key is absent, NumericGreaterThan is false
        (0, Decision.ALLOW),
        (600_000, Decision.ALLOW),  # exactly ten minutes: not greater
        (600_001, Decision.DENY),
        (7 * 24 * 3600 * 1000, Decision.DENY),  # SigV4's longest presigned URL
    ],
)
def test_vector_signature_age_deny(age_ms: int | None, expected: Decision) -> None:
    """SIGV4_PAGE: s3:signatureAge is the signature's age in milliseconds, for presigned URLs."""
    policy = compile_policy(TEN_MINUTES, PolicyRef("bucket policy", BUCKET))
    request = Request(ALICE, "s3:GetObject", BUCKET, ACCT, key="a.txt", signature_age_ms=age_ms)
    result = evaluate(request, bucket_policy=policy)
    assert result.decision is expected
    if expected is Decision.DENY:
        assert [r.sid for r in result.denied_by] == [TEN_MINUTES["Statement"][0]["Sid"]]


def test_vector_signature_age_without_a_numeric_value_cannot_be_judged() -> None:
    """A non-numeric policy value is not guessed at: the deny MAYBE applies, the request is
    UNKNOWN (GUARDRAIL_PAGE writes the value as a number of milliseconds)."""
    broken: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                **TEN_MINUTES["Statement"][0],
                "Condition": {"NumericGreaterThan": {"s3:signatureAge": "ten"}},
            },
            TEN_MINUTES["Statement"][1],
        ],
    }
    policy = compile_policy(broken, PolicyRef("bucket policy", BUCKET))
    request = Request(ALICE, "s3:GetObject", BUCKET, ACCT, key="a.txt", signature_age_ms=1)
    assert evaluate(request, bucket_policy=policy).decision is Decision.UNKNOWN


# --- verify and the gate --------------------------------------------------------------------


def _check(report: Any) -> Any:
    return next(c for c in report.bucket_checks if c.name is BucketCheckName.PRESIGNED_URL_MAX_AGE)


def test_verify_passes_with_the_statement() -> None:
    config = config_from(BASE_YAML)
    report = verify(config, desired(config), source="desired")
    check = _check(report)
    assert check.status is Status.OK and "300 s" in check.detail
    assert report.ok


@pytest.mark.parametrize("edit", ["drop", "loosen"])
def test_verify_and_the_gate_require_the_statement(edit: str) -> None:
    config = config_from(BASE_YAML)
    state = desired(config)
    policy = bucket_policy_of(state)
    ours = next(
        s for s in policy["Statement"] if s["Sid"] == "ReconcilerDenyLongLivedPresignedUrls"
    )
    if edit == "drop":
        policy["Statement"].remove(ours)
    else:  # a week instead of five minutes
        ours["Condition"] = {"NumericGreaterThan": {"s3:signatureAge": "604800000"}}
    report = verify(config, edit_bucket_policy(state, policy), source="live")
    check = _check(report)
    assert check.status is Status.FAIL
    assert "s3:GetObject" in check.detail and "300000 ms" in check.detail
    assert not report.ok
    refusals, _ = gate(report)
    assert any(r.startswith("presigned-url-max-age:") for r in refusals)


def test_a_stricter_configured_limit_is_what_verify_demands() -> None:
    """The check follows the YAML: a bucket policy with the default 5 minutes does not satisfy
    a configured 60 seconds."""
    strict = config_from(_with_age(60))
    default_state = desired(config_from(BASE_YAML))
    check = _check(verify(strict, replace(default_state), source="live"))
    assert check.status is Status.FAIL and "60000 ms" in check.detail
