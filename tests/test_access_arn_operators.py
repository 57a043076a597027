"""ARN matching vectors.

Condition operators ArnEquals/ArnLike/ArnNotEquals/ArnNotLike: "Case-sensitive matching of the
ARN. Each of the six colon-delimited components of the ARN is checked separately and each can
include multi-character match wildcards (*) or single-character match wildcards (?)"; ArnEquals
and ArnLike behave identically (COND_PAGE). Where the answer depends on a wildcard crossing a
colon and the page does not settle it (a pattern with fewer than six parts), the answer is MAYBE.

Resource element: wildcards work within segments, and "if the * wildcard is the last character of
a resource ARN segment, it can expand to match beyond the colon boundaries" (RESOURCE_PAGE): where
the two readings disagree, MAYBE.
"""

from __future__ import annotations

import pytest

from reconciler.access.conditions import Context, compile_clause
from reconciler.access.evaluator import Decision, evaluate
from reconciler.access.logic import Tri
from reconciler.access.patterns import compile_pattern
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import Identity, Request, role_session

COND_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "reference_policies_elements_condition_operators.html#Conditions_ARN"
)
RESOURCE_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
)
YES, NO, MAYBE = Tri.YES, Tri.NO, Tri.MAYBE
AP = "arn:aws:s3:us-east-1:123456789012:accesspoint/alice-access-point"

ARN_LIKE = [
    # (pattern, value, ArnLike's answer)
    ("arn:aws:s3:*:123456789012:accesspoint/*", AP, YES),
    ("arn:aws:s3:us-east-?:123456789012:accesspoint/*", AP, YES),
    ("arn:aws:s3:*:*:accesspoint/alice-access-point", AP, YES),
    ("arn:aws:s3:us-*-1:1234*:accesspoint/*", AP, YES),
    # a wildcard in the region part does not reach into the account part
    ("arn:aws:s3:*:accesspoint/*", AP, MAYBE),  # five parts: crossing would be needed
    ("arn:aws:s3:*:123456789012:accesspoint/*", "arn:aws:s3:us-east-1:x:123456789012:y", NO),
    ("arn:aws:s3:us-east-1?123456789012:accesspoint/*", AP, MAYBE),  # five parts, `?` for `:`
    ("arn:aws:s3:us-east-?:123456789012:accesspoint/*", AP[:-1] + ":", YES),
    ("arn:aws:s3:*:123456789012:accesspoint/bob*", AP, NO),
    # the sixth part runs to the end, colons included
    (
        "arn:aws:sns:us-east-1:123456789012:topic*",
        "arn:aws:sns:us-east-1:123456789012:topic:s1",
        YES,
    ),
    ("arn:aws:sns:*:123456789012:topic:*", "arn:aws:sns:us-east-1:123456789012:topic:s1", YES),
    # case-sensitive
    ("arn:aws:iam::111122223333:role/uploader", "arn:aws:iam::111122223333:role/Uploader", NO),
    ("arn:aws:iam::111122223333:role/Upload?r", "arn:aws:iam::111122223333:role/Uploader", YES),
    # fewer than six parts: no documented answer when only crossing a colon could match
    ("arn:aws:iam::*", "arn:aws:iam::111122223333:role/Uploader", MAYBE),
    ("*", "arn:aws:iam::111122223333:role/Uploader", MAYBE),
    ("arn:aws:ec2:*", "arn:aws:iam::111122223333:role/Uploader", NO),  # no reading matches
    ("arn:aws:iam::111122223333", "arn:aws:iam::111122223333:role/Uploader", NO),
]


@pytest.mark.parametrize(("pattern", "value", "expected"), ARN_LIKE)
@pytest.mark.parametrize("operator", ["ArnLike", "ArnEquals", "ArnLikeIfExists"])
def test_arn_like_matches_part_by_part(
    operator: str, pattern: str, value: str, expected: Tri
) -> None:
    """COND_PAGE: each of the six parts is matched separately; ArnEquals behaves as ArnLike."""
    clause = compile_clause(operator, "aws:SourceArn", pattern, variables=True)
    result, reason = clause.evaluate(
        Context({"aws:sourcearn": value}, frozenset({"aws:sourcearn"}))
    )
    assert result is expected
    if expected is MAYBE:
        assert reason is not None and "crosses a colon" in reason


@pytest.mark.parametrize(("pattern", "value", "expected"), ARN_LIKE)
@pytest.mark.parametrize("operator", ["ArnNotLike", "ArnNotEquals"])
def test_arn_not_like_is_the_negation(
    operator: str, pattern: str, value: str, expected: Tri
) -> None:
    clause = compile_clause(operator, "aws:SourceArn", pattern, variables=True)
    result, _ = clause.evaluate(Context({"aws:sourcearn": value}, frozenset({"aws:sourcearn"})))
    assert result is Tri(2 - expected)


RESOURCES = [
    ("*", AP + "/object/Alice/x", YES),  # "Resource": "*" is every resource
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b", YES),  # keys may hold colons
    (AP + "/object/Alice/*", AP + "/object/Alice/x:y", YES),
    ("arn:aws:s3:*:123456789012:accesspoint/alice-access-point/object/*", AP + "/object/x", YES),
    ("arn:aws:s3:::bucket/Alice/*", "arn:aws:s3:::bucket/Bob/x", NO),
    # a `*` ending the region segment may expand beyond the colon: both readings disagree here
    (
        "arn:aws:s3:*:123456789012:accesspoint/x/object/*",
        "arn:aws:s3:::b/k:123456789012:accesspoint/x/object/y",
        MAYBE,
    ),
    ("arn:aws:s3:*", AP + "/object/x", MAYBE),  # fewer than six segments
]


@pytest.mark.parametrize(("pattern", "value", "expected"), RESOURCES)
def test_resource_patterns(pattern: str, value: str, expected: Tri) -> None:
    """RESOURCE_PAGE."""
    assert compile_pattern(pattern, arn=True, resource=True).match(value) is expected


def test_a_five_part_principal_arn_pattern_is_never_a_confident_allow() -> None:
    """An Allow conditioned on `ArnLike aws:PrincipalArn arn:aws:iam::*` would need its `*` to
    cross colons to match any role: AWS's answer is not documented, so the decision is unknown
    (the evaluator used to allow it)."""
    policy = compile_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}},
            },
        },
        PolicyRef("bucket policy", "b"),
    )
    signer = role_session(
        "s", "arn:aws:iam::111122223333:role/Uploader", "s1", Identity(unrestricted="assumed")
    )
    result = evaluate(
        Request(signer, "s3:GetObject", "b", "123456789012", key="k"), bucket_policy=policy
    )
    assert result.decision is Decision.UNKNOWN
    assert any("crosses a colon" in r for r in result.reasons)
