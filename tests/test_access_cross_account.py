"""A caller from another account through an access point (issue 22).

AWS judges the requester's identity policy against the request's resource, the access point
ARN, and the bucket must permit the request through its policy (S3 User Guide, "Configuring IAM
policies for using access points",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html; its
cross-account examples grant the requester only the access point ARN). The evaluator once
demanded an identity grant on the bucket ARN too: a DENY where AWS allows. The differential test
(tests/test_access_oracle.py) checks the same cases against the independent simulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.access.evaluator import Decision, evaluate
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import AccessPointRef, Identity, Request, role_session
from reconciler.documents.policies import partner_identity_policy
from tests.access_support import desired
from tests.conftest import BASE_YAML, config_from

OWNER, PARTNER = "123456789012", "111122223333"
BUCKET = "clinical-share-123456789012"
POINT = f"arn:aws:s3:us-east-1:{OWNER}:accesspoint/partner-site-ap"
ONLY_THE_ACCESS_POINT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": [POINT, f"{POINT}/object/*"]}],
}


def decide(identity_doc: dict[str, Any], action: str, key: str, *, through: bool) -> Decision:
    config = config_from(BASE_YAML)
    state = desired(config)
    compiled = compile_policy(identity_doc, PolicyRef("identity policy", "partner"))
    assert compiled is not None
    uploader = role_session(
        "partner-site", f"arn:aws:iam::{PARTNER}:role/Uploader", "s1", Identity((compiled,))
    )
    point = AccessPointRef("partner-site-ap", POINT, OWNER) if through else None
    ap_policy = state.access_points["partner-site-ap"].policy
    assert ap_policy is not None and state.bucket.policy is not None
    request = Request(uploader, action, BUCKET, OWNER, key=key, access_point=point)
    return evaluate(
        request,
        access_point_policy=compile_policy(dict(ap_policy), PolicyRef("ap", "partner-site-ap")),
        bucket_policy=compile_policy(dict(state.bucket.policy), PolicyRef("bucket", BUCKET)),
    ).decision


def printed_partner_policy() -> dict[str, Any]:
    config = config_from(BASE_YAML)
    policy = partner_identity_policy(config, config.collaborators[2])
    assert policy is not None
    return policy


@pytest.mark.parametrize("identity", [ONLY_THE_ACCESS_POINT, printed_partner_policy()])
def test_partner_writes_through_its_access_point(identity: dict[str, Any]) -> None:
    assert decide(identity, "s3:PutObject", "partner-site/x", through=True) is Decision.ALLOW


@pytest.mark.parametrize("identity", [ONLY_THE_ACCESS_POINT, printed_partner_policy()])
def test_partner_gets_nothing_else(identity: dict[str, Any]) -> None:
    # a level it does not have, another folder, and the bucket directly (the bucket policy
    # delegates to access points only)
    assert decide(identity, "s3:GetObject", "partner-site/x", through=True) is Decision.DENY
    assert decide(identity, "s3:PutObject", "Alice/x", through=True) is Decision.DENY
    assert decide(identity, "s3:PutObject", "partner-site/x", through=False) is Decision.DENY


def test_identity_policy_without_the_access_point_denies() -> None:
    """An identity policy on the bucket ARN only does not cover a request whose resource is the
    access point ARN."""
    bucket_only = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
        ],
    }
    assert decide(bucket_only, "s3:PutObject", "partner-site/x", through=True) is Decision.DENY
