"""A role is a principal through its sessions (IAM User Guide, "AWS JSON policy elements:
Principal": IAM role principals, role session principals). A Principal naming
`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` grants or denies that session only; one naming the
role ARN covers every session; `aws:PrincipalArn` of a session is the role ARN. verify and the
security gate see grants to a session of a collaborator's role."""

from __future__ import annotations

from typing import Any

from reconciler.access.checks import Status, verify
from reconciler.access.evaluator import Decision, evaluate
from reconciler.access.gate import gate
from reconciler.access.policy import PolicyRef, compile_policy
from reconciler.access.requests import Identity, Principal, Request, role_session
from reconciler.access.review import reviewed_plan
from reconciler.model import Config
from tests.access_support import bucket_policy_of, desired, edit_access_point, edit_bucket_policy
from tests.access_support import policy_of as ap_policy_of
from tests.conftest import BASE_YAML, config_from

PRINCIPAL_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
)
PRINCIPAL_ARN_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
    "#condition-keys-principalarn"
)
NOTPRINCIPAL_PAGE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"
)
ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
PARTNER = "111122223333"
ROLE = f"arn:aws:iam::{PARTNER}:role/Uploader"
S1 = f"arn:aws:sts::{PARTNER}:assumed-role/Uploader/s1"
ALICE_AP = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/alice-access-point"
ASSUMED = Identity(unrestricted="identity policies in the partner's account (assumed)")


def session(name: str, role: str = ROLE) -> Principal:
    return role_session(f"session {name}", role, name, ASSUMED)


def decide(principal: Principal, *statements: dict[str, Any]) -> Decision:
    """GetObject Alice/x straight to the bucket, judged by a bucket policy of `statements`."""
    policy = compile_policy(
        {"Version": "2012-10-17", "Statement": list(statements)}, PolicyRef("bucket policy", "b")
    )
    request = Request(principal, "s3:GetObject", BUCKET, ACCOUNT, key="Alice/x")
    return evaluate(request, bucket_policy=policy).decision


def grant(principal: Any, effect: str = "Allow", **more: Any) -> dict[str, Any]:
    return {
        "Sid": f"{effect}Session",
        "Effect": effect,
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/Alice/*",
        **more,
    }


ALLOW_ALL = grant({"AWS": ROLE}, Sid="AllowRole")


def test_a_grant_to_a_session_reaches_that_session_only() -> None:
    """PRINCIPAL_PAGE, role session principals: only the named session gets the grant."""
    assert decide(session("s1"), grant({"AWS": S1})) is Decision.ALLOW
    assert decide(session("s2"), grant({"AWS": S1})) is Decision.DENY


def test_a_grant_to_the_role_reaches_every_session() -> None:
    """PRINCIPAL_PAGE, IAM role principals: a role ARN covers the role's sessions (the path is
    not part of a session ARN)."""
    assert decide(session("any"), ALLOW_ALL) is Decision.ALLOW
    with_path = f"arn:aws:iam::{PARTNER}:role/team/Uploader"
    assert decide(session("any", with_path), grant({"AWS": with_path})) is Decision.ALLOW
    other = role_session("other", f"arn:aws:iam::{PARTNER}:role/Downloader", "s1", ASSUMED)
    assert decide(other, ALLOW_ALL) is Decision.DENY


def test_a_deny_naming_a_session_applies_to_that_session() -> None:
    """A Deny is the same Principal match the other way round: s1 is denied, s2 is not."""
    deny = grant({"AWS": S1}, "Deny")
    assert decide(session("s1"), ALLOW_ALL, deny) is Decision.DENY
    assert decide(session("s2"), ALLOW_ALL, deny) is Decision.ALLOW
    assert decide(session("s2"), ALLOW_ALL, grant({"AWS": ROLE}, "Deny")) is Decision.DENY


def test_principal_arn_of_a_session_is_the_role_arn() -> None:
    """PRINCIPAL_ARN_PAGE: for a role session, aws:PrincipalArn is the role's ARN."""
    by_role = grant("*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}})
    by_session = grant("*", Condition={"ArnEquals": {"aws:PrincipalArn": S1}})
    assert decide(session("s1"), by_role) is Decision.ALLOW
    assert decide(session("s1"), by_session) is Decision.DENY
    # a session named in a policy whose role (and path) is not known: cannot tell
    stranger = Principal(S1, S1, ASSUMED)
    assert decide(stranger, by_role) is Decision.UNKNOWN


def test_not_principal_excludes_a_session_only_with_its_role_and_account() -> None:
    """NOTPRINCIPAL_PAGE: the example that exempts a role session lists the session ARN, the
    role ARN and the account; naming fewer leaves AWS's answer open."""
    full = grant({"AWS": [S1, ROLE, f"arn:aws:iam::{PARTNER}:root"]}, "Deny")
    full["NotPrincipal"] = full.pop("Principal")
    assert decide(session("s1"), ALLOW_ALL, full) is Decision.ALLOW
    assert decide(session("s2"), ALLOW_ALL, full) is Decision.UNKNOWN
    only_session = grant({"AWS": S1}, "Deny")
    only_session["NotPrincipal"] = only_session.pop("Principal")
    assert decide(session("s1"), ALLOW_ALL, only_session) is Decision.UNKNOWN
    without_role = grant({"AWS": [S1, f"arn:aws:iam::{PARTNER}:root"]}, "Deny")
    without_role["NotPrincipal"] = without_role.pop("Principal")
    assert decide(session("s1"), ALLOW_ALL, without_role) is Decision.UNKNOWN
    assert decide(session("s9", f"arn:aws:iam::{PARTNER}:role/X"), ALLOW_ALL, full) is (
        Decision.DENY
    )


def session_grant_in_bucket_policy(config: Config) -> Any:
    state = desired(config)
    policy = bucket_policy_of(state)
    policy["Statement"].append(grant({"AWS": S1}, Sid="PartnerSessionReadsAlice"))
    return edit_bucket_policy(state, policy)


def test_verify_reports_a_bucket_policy_grant_to_a_session(config: Config) -> None:
    report = verify(config, session_grant_in_bucket_policy(config))
    found = [f for f in report.findings if f.status is Status.FAIL]
    assert {(f.collaborator, f.check) for f in found} == {("partner-site", "direct")}
    assert any(
        f.message.startswith(
            "partner-site: direct: partner-site (session s1) can read "
            "Alice/reconciler-verify-probe (folder of alice) directly"
        )
        and "PartnerSessionReadsAlice" in f.message
        for f in found
    ), [f.message for f in found]
    assert gate(report)[0], "the gate refuses it"


def test_verify_reports_an_access_point_grant_to_a_session(config: Config) -> None:
    state = desired(config)
    policy = ap_policy_of(state, "alice-access-point")
    policy["Statement"].append(
        {
            "Sid": "PartnerSession",
            "Effect": "Allow",
            "Principal": {"AWS": S1},
            "Action": "s3:GetObject",
            "Resource": f"{ALICE_AP}/object/Alice/*",
        }
    )
    report = verify(config, edit_access_point(state, "alice-access-point", policy))
    found = {(f.collaborator, f.check) for f in report.findings if f.status is Status.FAIL}
    assert found == {("partner-site", "other-ap")}


def test_a_deny_on_one_session_does_not_fail_the_role_s_own_access(config: Config) -> None:
    """The collaborator's own access is checked for a session no policy names; a Deny on s1
    only narrows s1."""
    state = desired(config)
    policy = bucket_policy_of(state)
    deny = grant({"AWS": S1}, "Deny", Sid="NoS1")
    deny["Action"] = "s3:*"
    deny["Resource"] = f"arn:aws:s3:::{BUCKET}/*"
    policy["Statement"].append(deny)
    report = verify(config, edit_bucket_policy(state, policy))
    assert report.ok, [f.message for f in report.findings]


def test_the_gate_refuses_a_plan_that_leaves_a_session_grant(config: Config) -> None:
    live = session_grant_in_bucket_policy(config)
    edited = config_from(BASE_YAML.replace("access: [write]\n", "access: [write, read]\n", 1))
    plan = reviewed_plan(edited, live)
    assert plan.refusals, "a plan leaving the foreign grant to a partner's session is refused"
    assert any("partner-site (session s1) can read" in r for r in plan.refusals)
