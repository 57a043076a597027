"""verify's checks on hand-made states: what each check catches, and how it names the cause."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.access.checks import BucketCheckName, Check, Status, VerifyReport, verify
from reconciler.model import Config, LiveState
from tests.access_support import (
    SEED_IDENTITY_POLICY,
    bucket_policy_of,
    desired,
    edit_access_point,
    edit_bucket_policy,
    edit_user_policy,
    policy_of,
)
from tests.conftest import BASE_YAML, config_from

ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
ALICE_AP = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/alice-access-point"


def cells(report: VerifyReport, collaborator: str) -> dict[Check, Status]:
    row = next(r for r in report.rows if r.collaborator == collaborator)
    return dict(row.cells)


def failing(report: VerifyReport) -> set[tuple[str | None, str]]:
    return {(f.collaborator, f.check) for f in report.findings if f.status is Status.FAIL}


def bucket_check(report: VerifyReport, name: BucketCheckName) -> Status:
    return next(b.status for b in report.bucket_checks if b.name is name)


def test_the_desired_state_of_the_seed_holds_every_check(config: Config) -> None:
    report = verify(config, desired(config), source="desired")
    assert report.ok, [f.message for f in report.findings]
    assert cells(report, "alice") == {check: Status.OK for check in Check}
    # no console: true anywhere: nobody may list bucket or access point names or the top level
    assert cells(report, "partner-site")[Check.CONSOLE] is Status.OK
    assert report.findings == ()


def test_broadened_resource_is_named_with_policy_and_statement(config: Config) -> None:
    state = desired(config)
    policy = policy_of(state, "alice-access-point")
    policy["Statement"][0]["Resource"] = f"{ALICE_AP}/object/*"
    report = verify(config, edit_access_point(state, "alice-access-point", policy))
    assert failing(report) == {("alice", "other-prefix")}
    messages = [f.message for f in report.findings]
    assert any(
        m.startswith(
            "alice: other-prefix: alice can write Bob/reconciler-verify-probe (folder of bob)"
        )
        and "access point policy alice-access-point statement ReconcilerWrite" in m
        for m in messages
    )


@pytest.mark.parametrize(
    ("resource", "reached"),
    [
        ("*.csv", "Bob/.csv"),  # a wildcard before a fixed tail reaches every folder
        ("*/shared/*", "Bob/shared/x"),
        ("B*.csv", "Bob/.csv"),  # a literal, a wildcard, then a tail
        ("?ob/*", "Bob/reconciler-verify-probe"),
    ],
)
def test_a_wildcard_before_a_fixed_tail_is_caught_in_every_folder(
    config: Config, resource: str, reached: str
) -> None:
    state = desired(config)
    policy = policy_of(state, "alice-access-point")
    policy["Statement"][0]["Resource"] = [
        policy["Statement"][0]["Resource"],
        f"{ALICE_AP}/object/{resource}",
    ]
    report = verify(config, edit_access_point(state, "alice-access-point", policy))
    assert failing(report) == {("alice", "other-prefix")}
    assert any(
        f.message.startswith(f"alice: other-prefix: alice can write {reached} (folder of bob)")
        for f in report.findings
    ), [f.message for f in report.findings]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIgnoreCase": {"s3:prefix": "bOB/"}},
        {"StringLike": {"s3:prefix": "*ob/sub*"}},
    ],
)
def test_a_listing_condition_that_reaches_another_folder_is_caught(
    config: Config, condition: dict[str, object]
) -> None:
    state = desired(config)
    policy = policy_of(state, "alice-access-point")
    policy["Statement"].append(
        {
            "Sid": "ListMore",
            "Effect": "Allow",
            "Principal": policy["Statement"][0]["Principal"],
            "Action": "s3:ListBucket",
            "Resource": ALICE_AP,
            "Condition": condition,
        }
    )
    report = verify(config, edit_access_point(state, "alice-access-point", policy))
    assert failing(report) == {("alice", "other-prefix")}
    assert any(
        f.message.startswith("alice: other-prefix: alice can list Bob/")
        and "(folder of bob)" in f.message
        for f in report.findings
    ), [f.message for f in report.findings]


def test_a_subtle_broadening_outside_every_folder_is_caught(config: Config) -> None:
    """`object/A*` reaches keys like `Analysis.csv` that belong to nobody."""
    state = desired(config)
    policy = policy_of(state, "alice-access-point")
    policy["Statement"][0]["Resource"] = f"{ALICE_AP}/object/A*"
    report = verify(config, edit_access_point(state, "alice-access-point", policy))
    assert ("alice", "other-prefix") in failing(report)
    assert any("outside every collaborator's folder" in f.message for f in report.findings)


def test_seed_identity_policy_lets_users_list_the_bucket_directly(config: Config) -> None:
    """AWS-NOTES: the blog's identity policy grants s3:ListBucket on "*"."""
    state = edit_user_policy(desired(config), "Alice", "seed", SEED_IDENTITY_POLICY)
    report = verify(config, state)
    assert ("alice", "direct") in failing(report)
    assert ("alice", "other-ap") in failing(report)  # listing through bob's access point too
    direct = next(f for f in report.findings if f.check == "direct")
    assert "identity policy Alice/seed statement #1" in direct.statements


UNLISTED = BucketCheckName.UNLISTED_ACCESS_POINTS


def _legacy_access_point(config: Config) -> LiveState:
    state = desired(config)
    legacy = replace(
        state.access_points["alice-access-point"],
        name="legacy-ap",
        tags={},
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Old",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/collaborators/Alice"},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/legacy-ap/object/*",
                }
            ],
        },
    )
    return replace(state, access_points={**state.access_points, "legacy-ap": legacy})


def test_an_access_point_not_in_the_file_reaches_nothing_and_is_reported(
    config: Config,
) -> None:
    """Issue 22: the bucket delegates only to this share's access points
    (s3:DataAccessPointArn), so another access point on the bucket, whatever its policy, gets
    nothing from the bucket; verify names it (before, it admitted Alice: other-ap failed)."""
    state = _legacy_access_point(config)
    report = verify(config, state)
    assert failing(report) == set()
    check = next(
        b for b in report.bucket_checks if b.name is BucketCheckName.UNLISTED_ACCESS_POINTS
    )
    assert check.status is Status.OK
    assert "legacy-ap" in check.detail and "reach nothing" in check.detail


def test_an_access_point_not_in_the_file_that_the_bucket_delegates_to_fails(
    config: Config,
) -> None:
    """A bucket-policy statement delegating to every access point of the account (the old
    form, or a person's) lets it in: other-ap fails and unlisted-access-points names it."""
    state = _legacy_access_point(config)
    policy = bucket_policy_of(state)
    policy["Statement"].append(
        {
            "Sid": "OldDelegation",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}},
        }
    )
    report = verify(config, edit_bucket_policy(state, policy))
    assert failing(report) == {("alice", "other-ap")}
    assert any(
        "access point policy legacy-ap statement Old" in f.statements for f in report.findings
    )
    check = next(
        b for b in report.bucket_checks if b.name is BucketCheckName.UNLISTED_ACCESS_POINTS
    )
    assert check.status is Status.FAIL
    assert "legacy-ap" in check.detail and "delegates to them" in check.detail
    assert not report.ok


def test_identity_policies_the_tool_cannot_read_make_checks_unknown(config: Config) -> None:
    state = desired(config)
    users = dict(state.users)
    users["Alice"] = replace(
        users["Alice"], attached_policies=("arn:aws:iam::aws:policy/AdministratorAccess",)
    )
    report = verify(config, replace(state, users=users))
    assert not report.ok
    assert report.violations == 0 and report.unknowns > 0
    assert cells(report, "alice")[Check.DIRECT] is Status.UNKNOWN
    assert cells(report, "bob")[Check.DIRECT] is Status.OK
    assert any("AdministratorAccess" in f.message for f in report.findings)


def test_same_account_role_is_unknown_not_silently_allowed() -> None:
    config = config_from(
        BASE_YAML.replace(
            "arn:aws:iam::111122223333:role/Uploader", f"arn:aws:iam::{ACCOUNT}:role/Uploader"
        )
    )
    report = verify(config, desired(config))
    assert cells(report, "partner-site")[Check.DIRECT] is Status.UNKNOWN
    assert cells(report, "partner-site")[Check.OWN_AP] is Status.OK
    assert "not read by this tool" in report.findings[0].message


def test_dropping_the_tls_statement_fails_tls_checks(config: Config) -> None:
    state = desired(config)
    policy = bucket_policy_of(state)
    policy["Statement"] = [s for s in policy["Statement"] if "Insecure" not in s["Sid"]]
    report = verify(config, edit_bucket_policy(state, policy))
    assert bucket_check(report, BucketCheckName.TLS_ONLY) is Status.FAIL
    assert cells(report, "bob")[Check.TLS] is Status.FAIL
    assert cells(report, "bob")[Check.OWN_AP] is Status.OK


def test_narrowed_tls_statement_is_caught_per_action(config: Config) -> None:
    state = desired(config)
    policy = bucket_policy_of(state)
    tls = next(s for s in policy["Statement"] if "Insecure" in s["Sid"])
    tls["Action"] = "s3:PutObject"
    report = verify(config, edit_bucket_policy(state, policy))
    check = next(b for b in report.bucket_checks if b.name is BucketCheckName.TLS_ONLY)
    assert check.status is Status.FAIL and "s3:GetObject" in check.detail
    assert "s3:PutObject," not in check.detail


def test_bucket_settings_are_checked(config: Config) -> None:
    state = desired(config)
    bucket = replace(
        state.bucket,
        public_access_block={
            **dict(state.bucket.public_access_block or {}),
            "BlockPublicPolicy": False,
        },
        encryption=None,
        ownership_controls={"ObjectOwnership": "ObjectWriter"},
    )
    report = verify(config, replace(state, bucket=bucket))
    statuses = {b.name: b.status for b in report.bucket_checks}
    assert statuses[BucketCheckName.BLOCK_PUBLIC_ACCESS] is Status.FAIL
    assert statuses[BucketCheckName.DEFAULT_ENCRYPTION] is Status.FAIL
    assert statuses[BucketCheckName.ACLS_DISABLED] is Status.FAIL
    assert statuses[BucketCheckName.TLS_ONLY] is Status.OK
    assert report.violations == 3


def test_public_bucket_statement_fails_anonymous_and_public_checks(config: Config) -> None:
    state = desired(config)
    policy = bucket_policy_of(state)
    policy["Statement"].append(
        {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    )
    report = verify(config, edit_bucket_policy(state, policy))
    assert bucket_check(report, BucketCheckName.NO_PUBLIC_ACCESS) is Status.FAIL
    # issue 22: an unsigned request has no s3:signatureversion, so ReconcilerDenySignatureVersion2
    # denies anonymous callers whatever another statement allows; other accounts still get in
    assert all(cells(report, c)[Check.ANONYMOUS] is Status.OK for c in ("alice", "bob"))
    assert all(cells(report, c)[Check.OTHER_ACCOUNT] is Status.FAIL for c in ("alice", "bob"))
    # a same-account user with no identity grant gets it too: a direct read by Alice
    assert cells(report, "alice")[Check.DIRECT] is Status.FAIL


def test_missing_access_point_and_user_fail_the_own_checks(config: Config) -> None:
    state = desired(config)
    points = {k: v for k, v in state.access_points.items() if k != "bob-access-point"}
    users = {k: v for k, v in state.users.items() if k != "Alice"}
    report = verify(config, replace(state, access_points=points, users=users))
    assert cells(report, "bob")[Check.OWN_AP] is Status.FAIL
    assert any("access point bob-access-point does not exist" in f.message for f in report.findings)
    assert cells(report, "alice")[Check.CONSOLE] is Status.OK  # a missing user lists nothing
    assert cells(report, "alice")[Check.DIRECT] is Status.NA
    with_console = replace(config.collaborators[0], console=True)
    console_config = replace(config, collaborators=(with_console, *config.collaborators[1:]))
    report = verify(console_config, replace(desired(console_config), users=users))
    assert cells(report, "alice")[Check.CONSOLE] is Status.FAIL
    assert "alice: console: cannot s3:ListAllMyBuckets on *: the IAM user does not exist" in [
        f.message for f in report.findings
    ]


def test_overlapping_folders_break_isolation(config: Config) -> None:
    # validation refuses nested prefixes; verify must still catch them if they ever get through
    bob = replace(config.collaborators[1], prefix="Alice/Bob/")
    config = replace(config, collaborators=(config.collaborators[0], bob, config.collaborators[2]))
    report = verify(config, desired(config), source="desired")
    assert ("alice", "other-prefix") in failing(report)
    assert any("(folder of bob)" in f.message for f in report.findings)


def test_ungranted_levels_through_an_extra_action_are_caught(config: Config) -> None:
    state = desired(config)
    policy = policy_of(state, "alice-access-point")
    policy["Statement"][0]["Action"] = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
    report = verify(config, edit_access_point(state, "alice-access-point", policy))
    assert failing(report) == {("alice", "levels")}
