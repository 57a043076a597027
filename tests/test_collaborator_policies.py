"""The exact statements a collaborator gets, per level, with and without `console: true`, for an
IAM user, a principal of this account and a partner in another account (issue 13, sections 3
and 4; issue 12, section 3: nothing granted to a collaborator reveals other collaborators).

AWS facts these rest on:
- S3 User Guide, "Configuring IAM policies for using access points": the access point policy and
  the bucket policy must both permit a request; the list level is s3:ListBucket on the access
  point ARN with an s3:prefix condition.
- IAM User Guide, "Policy evaluation for requests within a single account": a resource policy
  naming the user's ARN is enough; "Cross-account policy evaluation logic": another account's
  principal also needs its own identity policy to allow the request.
- IAM User Guide, "Amazon S3: Allows IAM users access to their S3 home directory,
  programmatically and in the console": the console's top-level listing is s3:ListBucket with
  s3:prefix "" and s3:delimiter "/"; s3:ListAllMyBuckets and s3:ListAccessPoints take only "*".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.access.checks import Check, Status, verify
from reconciler.access.desired import desired_state
from reconciler.documents.policies import (
    access_point_policy,
    identity_policy,
    partner_identity_policy,
)
from reconciler.model import AccessLevel, Collaborator, Config
from tests.conftest import BASE_YAML, config_from

AP = "arn:aws:s3:us-east-1:123456789012:accesspoint/alice-access-point"
ALICE = "arn:aws:iam::123456789012:user/collaborators/Alice"
PARTNER_AP = "arn:aws:s3:us-east-1:123456789012:accesspoint/partner-site-ap"
LEVEL_STATEMENTS = {
    "write": {
        "Sid": "ReconcilerWrite",
        "Effect": "Allow",
        "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
        "Resource": f"{AP}/object/Alice/*",
    },
    "read": {
        "Sid": "ReconcilerRead",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"{AP}/object/Alice/*",
    },
    "delete": {
        "Sid": "ReconcilerDelete",
        "Effect": "Allow",
        "Action": "s3:DeleteObject",
        "Resource": f"{AP}/object/Alice/*",
    },
    "list": {
        "Sid": "ReconcilerList",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": AP,
        "Condition": {"StringLike": {"s3:prefix": "Alice/*"}},
    },
}
CONSOLE_TOP_LEVEL = {
    "Sid": "ReconcilerConsoleTopLevel",
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": AP,
    "Condition": {"StringEquals": {"s3:delimiter": "/", "s3:prefix": ""}},
}
# s3:GetAccessPoint on "*": the SAR lists no resource type for it, so on the access point ARN
# it granted nothing on AWS (issue 22; tests/test_sar_conformance.py)
CONSOLE_IDENTITY = [
    {
        "Sid": "ReconcilerConsoleListBucketsAndAccessPoints",
        "Effect": "Allow",
        "Action": ["s3:GetAccessPoint", "s3:ListAccessPoints", "s3:ListAllMyBuckets"],
        "Resource": "*",
    },
]


def alice(config: Config, *levels: str, console: bool = False) -> Collaborator:
    access = tuple(AccessLevel(level) for level in levels)
    return replace(config.collaborators[0], access=access, console=console)


def with_principal(statement: dict[str, object], arn: str = ALICE) -> dict[str, object]:
    return {**statement, "Principal": {"AWS": arn}}


@pytest.mark.parametrize("level", ["write", "read", "list", "delete"])
def test_each_level_is_exactly_one_statement_and_the_user_needs_no_policy(
    config: Config, level: str
) -> None:
    collab = alice(config, level)
    assert access_point_policy(config, collab)["Statement"] == [
        with_principal(LEVEL_STATEMENTS[level])
    ]
    # the AWS CLI needs nothing else in this account: no inline policy, nothing that lists
    # bucket or access point names (issue 12, section 3)
    assert identity_policy(config, collab) is None


def test_all_levels_together_sorted_by_sid(config: Config) -> None:
    collab = alice(config, "write", "read", "list", "delete")
    statements = access_point_policy(config, collab)["Statement"]
    assert statements == [
        with_principal(LEVEL_STATEMENTS[level]) for level in ("delete", "list", "read", "write")
    ]


def test_console_adds_the_top_level_listing_and_the_console_identity_policy(
    config: Config,
) -> None:
    collab = alice(config, "write", console=True)
    assert access_point_policy(config, collab)["Statement"] == [
        with_principal(CONSOLE_TOP_LEVEL),
        with_principal(LEVEL_STATEMENTS["write"]),
    ]
    assert identity_policy(config, collab) == {
        "Version": "2012-10-17",
        "Statement": CONSOLE_IDENTITY,
    }


def test_console_without_any_level_grants_nothing(config: Config) -> None:
    collab = alice(config, console=True)
    assert access_point_policy(config, collab)["Statement"] == []
    assert identity_policy(config, collab) is None


def test_partner_policy_is_the_access_point_statements_without_principal(config: Config) -> None:
    """...on the access point ARN (what AWS judges a cross-account requester's identity policy
    against) and on the same place in the bucket (issue 22: it works under either reading)."""
    partner = replace(
        config.collaborators[2],
        access=(AccessLevel.WRITE, AccessLevel.LIST),
        console=True,
    )
    policy = partner_identity_policy(config, partner)
    assert policy is not None
    bucket = "arn:aws:s3:::clinical-share-123456789012"
    assert policy["Statement"] == [
        {**CONSOLE_TOP_LEVEL, "Resource": [bucket, PARTNER_AP]},
        {
            **LEVEL_STATEMENTS["list"],
            "Resource": [bucket, PARTNER_AP],
            "Condition": {"StringLike": {"s3:prefix": "partner-site/*"}},
        },
        {
            **LEVEL_STATEMENTS["write"],
            "Resource": [f"{bucket}/partner-site/*", f"{PARTNER_AP}/object/partner-site/*"],
        },
    ]
    assert all("Principal" not in s for s in policy["Statement"])
    ap_statements = access_point_policy(config, partner)["Statement"]
    on_access_point = [
        {**s, "Resource": next(r for r in s["Resource"] if ":accesspoint/" in r)}
        for s in policy["Statement"]
    ]
    assert [{k: v for k, v in s.items() if k != "Principal"} for s in ap_statements] == (
        on_access_point
    )


def test_no_partner_policy_for_this_account(config: Config) -> None:
    same_account = replace(
        config.collaborators[2], principal="arn:aws:iam::123456789012:role/Uploader"
    )
    assert partner_identity_policy(config, same_account) is None
    assert partner_identity_policy(config, config.collaborators[0]) is None  # an IAM user


def test_no_collaborator_in_the_shipped_setup_can_list_names(config: Config) -> None:
    """verify's console check: without console: true, s3:ListAllMyBuckets, s3:ListAccessPoints
    and the access point's top level are denied to every collaborator."""
    report = verify(config, desired_state(config), source="desired")
    assert report.ok
    assert all(row.status(Check.CONSOLE) is Status.OK for row in report.rows)


def test_verify_fails_a_hand_added_list_permission_without_console(config: Config) -> None:
    from tests.access_support import SEED_IDENTITY_POLICY, edit_user_policy

    state = edit_user_policy(desired_state(config), "Alice", "seed", SEED_IDENTITY_POLICY)
    report = verify(config, state)
    messages = [f.message for f in report.findings if f.check == "console"]
    assert "alice: console: can s3:ListAllMyBuckets on * without console: true" in messages[0]
    assert any("s3:ListAccessPoints" in m for m in messages)


def test_console_collaborators_verify_and_open_their_top_level_only() -> None:
    config = config_from(
        BASE_YAML.replace("    access: [write]\n", "    access: [write]\n    console: true\n", 1)
    )
    report = verify(config, desired_state(config), source="desired")
    assert report.ok, [f.message for f in report.findings]
    assert report.rows[0].status(Check.CONSOLE) is Status.OK
    # the console's top-level listing is not an other-prefix violation, but a listing of the
    # root without the delimiter (every key) still is denied: probe it by hand
    from reconciler.access.checks import access_state
    from reconciler.access.state import LISTING, Target
    from reconciler.access.subjects import collaborator_subject

    state = access_state(config, desired_state(config))
    subject = collaborator_subject(config, config.collaborators[0], state)
    everything = state.evaluate(
        subject.principal, "s3:ListBucket", Target(LISTING, ""), "alice-access-point"
    )
    top = state.evaluate(
        subject.principal, "s3:ListBucket", Target(LISTING, "", "/"), "alice-access-point"
    )
    bob_folder = state.evaluate(
        subject.principal, "s3:ListBucket", Target(LISTING, "Bob/", "/"), "alice-access-point"
    )
    assert (everything.decision, top.decision, bob_folder.decision) == ("deny", "allow", "deny")


def test_suspended_console_collaborator_verifies_as_granted_nothing() -> None:
    config = config_from(
        BASE_YAML.replace(
            "    access: [write]\n",
            "    access: [write]\n    console: true\n    status: suspended\n",
            1,
        )
    )
    from reconciler.plan import lifecycle

    report = verify(lifecycle.granted(config), desired_state(config), source="desired")
    assert report.ok, [f.message for f in report.findings]
    assert report.rows[0].status(Check.CONSOLE) is Status.OK


def test_verify_says_which_checks_depend_on_the_partner_policy(config: Config) -> None:
    report = verify(config, desired_state(config), source="desired")
    assert report.assumptions == (
        "partner-site: own-ap assumes that account 111122223333 attaches to "
        "arn:aws:iam::111122223333:role/Uploader the identity policy `reconcile show "
        "partner-site` prints; the other checks hold whatever it attaches",
    )
    from reconciler.render.verify import render_verify_markdown, render_verify_text

    assert "Depends on partner accounts:\n  - partner-site: own-ap assumes" in (
        render_verify_text(report)
    )
    assert "#### Depends on partner accounts" in render_verify_markdown(report)
