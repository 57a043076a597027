"""SSE-KMS (issue 13 section 1): the key named unambiguously, exact KMS statements per level, the
key policy read and (with bucket.manage_key_policy) maintained, and what is missing reported.

Pages: S3 User Guide "Using server-side encryption with AWS KMS keys (SSE-KMS)" and "Multipart
upload API and permissions" (PutObject -> kms:GenerateDataKey, GetObject -> kms:Decrypt,
multipart both), "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys" (the bucket ARN is the
encryption context); AWS KMS Developer Guide "Default key policy" and "Allowing users in other
accounts to use a KMS key"."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from reconciler.access.checks import BucketCheckName, Status, verify
from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.documents.policies import identity_policy
from reconciler.model import Config, ResourceType
from reconciler.plan.changes import Plan
from tests.access_support import desired
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

ACCT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "clinical-share-123456789012"
PARTNER = "arn:aws:iam::111122223333:role/Uploader"
# issue 22: the encryption context is the bucket ARN with an S3 Bucket Key and the object ARN
# without it (S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"): both
# are allowed, the object form only under the collaborator's prefix (the key policy, one
# statement for every partner: any object of the bucket)
CONDITION_ANY_OBJECT = {
    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
    "StringLike": {
        "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    },
}


# the apply role's statement for its own lock object (reconciler/documents/iam_policy.py)
LOCK_CONDITION = {
    "StringEquals": {
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{BUCKET}",
    }
}


def condition(prefix: str | None) -> dict[str, Any]:
    if prefix is None:
        return CONDITION_ANY_OBJECT
    objects = f"arn:aws:s3:::{BUCKET}/{prefix}*"
    return {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{BUCKET}", objects]},
    }


ADMIN_STATEMENT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def kms_yaml(key_id: str = KEY, *, manage: bool = False, base: str = BASE_YAML) -> str:
    extra = f"  encryption: aws:kms\n  kms_key_id: {key_id}\n"
    if manage:
        extra += "  manage_key_policy: true\n"
    return base.replace(f"  name: {BUCKET}\n", f"  name: {BUCKET}\n{extra}")


def cloud_with_key(*statements: dict[str, Any], aliases: tuple[str, ...] = ()) -> FakeCloud:
    policy = {"Version": "2012-10-17", "Id": "key-default-1", "Statement": list(statements)}
    return FakeCloud(keys={KEY: {"policy": policy, "aliases": list(aliases)}})


def converge(config: Config, cloud: FakeCloud) -> Plan:
    first = plan(config, cloud.read(config))
    assert not first.errors, first.errors
    assert apply_plan(first, cloud).ok
    again = plan(config, cloud.read(config))
    assert again.is_empty, again.changes
    return again


def collaborator(config: Config, cid: str) -> Any:
    return next(c for c in config.collaborators if c.id == cid)


# --- exact statements per level, KMS on and off -------------------------------------------------

LEVELS_YAML = BASE_YAML.replace(
    "    access: [write]\n  - id: bob", "    access: [read]\n  - id: bob"
).replace("    access: [write, read, list]", "    access: [list, delete]")


@pytest.mark.parametrize(
    ("cid", "actions"),
    [
        ("alice", ["kms:Decrypt"]),  # read: GetObject -> Decrypt
        ("bob", None),  # list and delete touch no object data: no KMS statement
    ],
)
def test_identity_policy_kms_statement_per_level(cid: str, actions: list[str] | None) -> None:
    config = config_from(kms_yaml(base=LEVELS_YAML))
    statements = {
        s["Sid"]: s
        # no inline policy at all when nothing needs one (no KMS action, no console)
        for s in (identity_policy(config, collaborator(config, cid)) or {"Statement": []})[
            "Statement"
        ]
    }
    kms = statements.get("ReconcilerUseBucketKeyThroughS3")
    if actions is None:
        assert kms is None
        return
    assert kms == {
        "Sid": "ReconcilerUseBucketKeyThroughS3",
        "Effect": "Allow",
        "Action": actions[0] if len(actions) == 1 else actions,
        "Resource": KEY,
        "Condition": condition(collaborator(config, cid).prefix),
    }


def test_write_needs_both_actions_for_multipart_uploads() -> None:
    config = config_from(kms_yaml())
    statements = {
        s["Sid"]: s for s in identity_policy(config, collaborator(config, "alice"))["Statement"]
    }
    assert statements["ReconcilerUseBucketKeyThroughS3"]["Action"] == [
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ]


def test_without_kms_no_statement_names_kms() -> None:
    config = config_from(BASE_YAML)
    text = json.dumps([identity_policy(config, c) for c in config.collaborators])
    assert "kms:" not in text


# --- which key --------------------------------------------------------------------------------


def test_an_alias_is_resolved_and_the_bucket_gets_the_key_arn() -> None:
    config = config_from(kms_yaml("alias/research"))
    cloud = cloud_with_key(ADMIN_STATEMENT, aliases=("alias/research",))
    first = plan(config, cloud.read(config))
    encryption = next(c for c in first.changes if c.type is ResourceType.BUCKET_ENCRYPTION)
    assert encryption.after == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": KEY,
        "BucketKeyEnabled": True,
    }
    converge(config, cloud)
    alice = cloud.users["Alice"]["policies"]["reconciler-access-point-access"]
    assert {s["Sid"]: s for s in alice["Statement"]}["ReconcilerUseBucketKeyThroughS3"][
        "Resource"
    ] == KEY


def test_an_alias_that_does_not_resolve_is_refused_with_the_reason() -> None:
    config = config_from(kms_yaml("alias/missing"))
    result = plan(config, cloud_with_key(ADMIN_STATEMENT).read(config))
    assert result.errors == (
        "bucket.kms_key_id alias/missing: no such KMS key in account 123456789012, Region "
        "us-east-1 (NotFoundException: Alias alias/missing is not found.): an alias or key id "
        "resolves in the account of whoever makes the request; give the key ARN "
        "(arn:aws:kms:REGION:ACCOUNT:key/ID)",
    )


def test_a_key_arn_in_another_region_is_refused_offline() -> None:
    with pytest.raises(Exception, match="SSE-KMS needs a key in the bucket's Region"):
        config_from(kms_yaml(KEY.replace("us-east-1", "eu-west-1")))


# --- the key policy -------------------------------------------------------------------------


def partner_statement() -> dict[str, Any]:
    return {
        "Sid": "ReconcilerPrincipalsDecryptGenerateDataKey",
        "Effect": "Allow",
        "Principal": {"AWS": PARTNER},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": CONDITION_ANY_OBJECT,
    }


def test_without_manage_key_policy_the_key_policy_is_never_written_and_the_gap_reported() -> None:
    config = config_from(kms_yaml())
    cloud = cloud_with_key(ADMIN_STATEMENT)
    before = copy.deepcopy(cloud.keys)
    result = plan(config, cloud.read(config))
    assert not any(c.type is ResourceType.KMS_KEY_POLICY for c in result.changes)
    gaps = [w for w in result.warnings if "KMS key" in w and "automatic rotation" not in w]
    # issue 21: the key's automatic rotation is off, and only reported without manage_key_policy
    assert any(w.startswith(f"automatic rotation of KMS key {KEY} is off") for w in result.warnings)
    assert len(gaps) == 1 and gaps[0].startswith(
        f"collaborator partner-site: KMS key {KEY} does not let {PARTNER} use "
        "kms:Decrypt, kms:GenerateDataKey through S3"
    )
    assert "needs a key-policy statement naming it" in gaps[0]
    apply_plan(result, cloud)
    assert cloud.keys == before
    assert not any(name == "put_key_policy" for name, _ in cloud.calls)


def test_same_account_users_need_the_key_policy_to_delegate_to_iam() -> None:
    config = config_from(kms_yaml(manage=True))
    only_partner = {**partner_statement(), "Sid": "SomeoneElse"}
    result = plan(config, cloud_with_key(only_partner).read(config))
    gaps = sorted(w for w in result.warnings if "KMS key" in w)
    assert [g.split(":")[0] for g in gaps] == ["collaborator alice", "collaborator bob"]
    assert all("the key policy must delegate to IAM" in g for g in gaps)


def test_manage_key_policy_adds_the_partner_and_keeps_others_byte_for_byte() -> None:
    config = config_from(kms_yaml(manage=True))
    foreign = {
        "Resource": "*",
        "Action": "kms:Describe*",
        "Sid": "Auditors",
        "Effect": "Allow",
        "Principal": {
            "AWS": ["arn:aws:iam::123456789012:role/B", "arn:aws:iam::123456789012:role/A"]
        },
    }
    cloud = cloud_with_key(ADMIN_STATEMENT, foreign)
    result = plan(config, cloud.read(config))
    assert not [w for w in result.warnings if "KMS key" in w]
    converge(config, cloud)
    statements = cloud.keys[KEY]["policy"]["Statement"]
    assert statements == [ADMIN_STATEMENT, foreign, partner_statement()]
    assert list(statements[1]) == ["Resource", "Action", "Sid", "Effect", "Principal"]
    assert cloud.keys[KEY]["policy"]["Id"] == "key-default-1"
    assert verify(config, cloud.read(config)).ok


def test_a_suspended_partner_leaves_the_key_policy() -> None:
    config = config_from(kms_yaml(manage=True))
    cloud = cloud_with_key(ADMIN_STATEMENT)
    converge(config, cloud)
    suspended = config_from(
        kms_yaml(manage=True).replace(
            "    access_point: partner-site-ap\n",
            "    access_point: partner-site-ap\n    status: suspended\n",
        )
    )
    converge(suspended, cloud)
    assert cloud.keys[KEY]["policy"]["Statement"] == [ADMIN_STATEMENT]


def test_a_reconciler_sid_that_administers_the_key_is_never_dropped() -> None:
    config = config_from(kms_yaml(manage=True))
    admin = {**ADMIN_STATEMENT, "Sid": "ReconcilerAdmins"}
    result = plan(config, cloud_with_key(admin).read(config))
    assert any("ReconcilerAdmins, which grants key administration" in e for e in result.errors)
    assert not any(c.type is ResourceType.KMS_KEY_POLICY for c in result.changes)


# --- verify -------------------------------------------------------------------------------


def test_verify_desired_with_kms_passes_when_the_tool_manages_the_key_policy() -> None:
    config = config_from(kms_yaml(manage=True))
    report = verify(config, desired(config), source="desired")
    assert report.ok, [f.message for f in report.findings]
    check = {c.name: c for c in report.bucket_checks}[BucketCheckName.KMS_KEY_POLICY]
    assert check.status is Status.OK


def test_verify_finds_a_collaborator_locked_out_of_the_key() -> None:
    config = config_from(kms_yaml(manage=True))
    cloud = cloud_with_key(ADMIN_STATEMENT)
    converge(config, cloud)
    cloud.keys[KEY]["policy"]["Statement"] = [partner_statement()]  # delegation to IAM removed
    report = verify(config, cloud.read(config))
    failing = {(f.collaborator, f.check) for f in report.findings if f.status is Status.FAIL}
    assert failing == {("alice", "own-ap"), ("bob", "own-ap")}
    message = next(f.message for f in report.findings if f.collaborator == "alice")
    assert message.startswith(f"alice: own-ap: cannot S3 call kms:Decrypt on KMS key {KEY}")


@pytest.mark.parametrize(
    "opening",
    [
        {
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        {
            "Sid": "OtherAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
    ],
)
def test_a_key_policy_that_opens_the_key_to_others_is_a_finding(opening: dict[str, Any]) -> None:
    config = config_from(kms_yaml(manage=True))
    cloud = cloud_with_key(ADMIN_STATEMENT)
    converge(config, cloud)
    cloud.keys[KEY]["policy"]["Statement"].append(opening)
    report = verify(config, cloud.read(config))
    check = {c.name: c for c in report.bucket_checks}[BucketCheckName.KMS_KEY_POLICY]
    assert check.status is Status.FAIL
    assert f"key policy {KEY} statement {opening['Sid']}" in check.detail
    assert not report.ok


# --- the tool's own roles -----------------------------------------------------------------------


def _sids(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_read_only_role_reads_the_key_and_its_policy() -> None:
    from reconciler.documents.iam_policy import tool_policy

    statements = _sids(tool_policy(config_from(kms_yaml()), read_only=True).document)
    assert statements["ReconcilerReadBucketKey"] == {
        "Sid": "ReconcilerReadBucketKey",
        "Effect": "Allow",
        "Action": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"],
        "Resource": KEY,
    }
    assert "ReconcilerApplyLockBucketKey" not in statements
    assert "ReconcilerReadBucketKey" not in _sids(
        tool_policy(config_from(BASE_YAML), read_only=True).document
    )


def test_apply_role_uses_the_key_for_its_lock_only_through_s3() -> None:
    from reconciler.documents.iam_policy import tool_policy

    statements = _sids(tool_policy(config_from(kms_yaml()), read_only=False).document)
    assert statements["ReconcilerApplyLockBucketKey"] == {
        "Sid": "ReconcilerApplyLockBucketKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": KEY,
        "Condition": LOCK_CONDITION,
    }
    assert "ReconcilerManageKeyPolicy" not in statements  # never edits the key policy
    managed = _sids(tool_policy(config_from(kms_yaml(manage=True)), read_only=False).document)
    assert managed["ReconcilerManageKeyPolicy"]["Action"] == ["kms:PutKeyPolicy"]
    assert managed["ReconcilerManageKeyPolicy"]["Resource"] == KEY


def test_an_alias_scopes_the_roles_to_keys_carrying_it() -> None:
    from reconciler.documents.iam_policy import tool_policy

    statements = _sids(
        tool_policy(config_from(kms_yaml("alias/research")), read_only=True).document
    )
    assert statements["ReconcilerReadBucketKey"]["Resource"] == (
        "arn:aws:kms:us-east-1:123456789012:key/*"
    )
    assert statements["ReconcilerReadBucketKey"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/research"}
    }


def test_the_kms_statement_counts_toward_the_2048_character_inline_limit() -> None:
    """reconciler/config/policy_sizes.py measures the identity policy the tool writes, KMS
    statement included: a user name that fits without KMS can be refused with it."""
    from reconciler.config.policy_sizes import _non_blank
    from reconciler.documents.policies import policy_text

    plain = config_from(BASE_YAML)
    kms = config_from(kms_yaml())
    sizes = [
        _non_blank(policy_text(identity_policy(c, collaborator(c, "alice")))) for c in (plain, kms)
    ]
    assert sizes[1] - sizes[0] > 250


def test_a_same_account_principal_is_named_in_the_key_policy_and_verifies() -> None:
    """The tool writes no identity policy for a `principal:`: with manage_key_policy the key
    policy names it, which allows it in the key's own account without any identity policy
    (KMS Developer Guide, "Key policies in AWS KMS")."""
    local = "arn:aws:iam::123456789012:role/Analyst"
    yaml_text = kms_yaml(manage=True) + (
        f"  - id: analyst\n    principal: {local}\n    access: [read]\n"
    )
    config = config_from(yaml_text)
    cloud = cloud_with_key(ADMIN_STATEMENT)
    converge(config, cloud)
    statements = {s["Sid"]: s for s in cloud.keys[KEY]["policy"]["Statement"]}
    assert statements["ReconcilerPrincipalsDecrypt"]["Principal"] == {"AWS": local}
    assert statements["ReconcilerPrincipalsDecryptGenerateDataKey"]["Principal"] == {"AWS": PARTNER}
    report = verify(config, cloud.read(config))
    own = [f for f in report.findings if f.collaborator == "analyst" and f.check == "own-ap"]
    assert not [f for f in own if "KMS" in f.message], [f.message for f in own]


def test_the_plan_shows_the_key_policy_statement_diff() -> None:
    from reconciler.render.text import render_text

    config = config_from(kms_yaml(manage=True))
    out = render_text(plan(config, cloud_with_key(ADMIN_STATEMENT).read(config)))
    assert (
        f"~ kms_key_policy {KEY}\n      + ReconcilerPrincipalsDecryptGenerateDataKey: Allow " in out
    )
    assert "(1 statement not written by this tool kept unchanged)" in out


def test_suspension_removes_the_users_kms_statement_with_the_rest() -> None:
    config = config_from(kms_yaml())
    cloud = cloud_with_key(ADMIN_STATEMENT)
    converge(config, cloud)
    assert "ReconcilerUseBucketKeyThroughS3" in json.dumps(cloud.users["Alice"]["policies"])
    suspended = config_from(
        kms_yaml().replace("    prefix: Alice/\n", "    prefix: Alice/\n    status: suspended\n")
    )
    converge(suspended, cloud)
    assert "kms:" not in json.dumps(cloud.users["Alice"]["policies"])
    assert "kms:" in json.dumps(cloud.users["Bob"]["policies"])


@pytest.mark.parametrize(
    ("key_id", "resource"),
    [(KEY, KEY), ("alias/research", "arn:aws:kms:us-east-1:123456789012:key/*")],
)
def test_the_permissions_boundary_lets_the_kms_statement_through(
    key_id: str, resource: str
) -> None:
    """The boundary is derived from the identity policy builder
    (reconciler/documents/boundary.py); offline an alias names no key ARN yet, so the boundary
    allows any key of the account, still only through S3 for this bucket."""
    from reconciler.documents.boundary import boundary_policy

    statements = boundary_policy(config_from(kms_yaml(key_id)))["Statement"]
    kms = [s for s in statements if "kms:" in json.dumps(s)]
    assert kms == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": CONDITION_ANY_OBJECT,
            "Effect": "Allow",
            "Resource": resource,
            "Sid": "ReconcilerUseBucketKeyThroughS3",
        }
    ]
