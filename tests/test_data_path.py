"""Issue 22, section 2 (the data path): what the bucket policy delegates to and denies, the
KMS encryption contexts, the sizes of the policies that grow with the share, and how a rejected
key policy is reported. Decisions are checked against the independent simulator in
tests/test_data_path_oracle.py; these tests check the documents and the messages."""

from __future__ import annotations

import json

import pytest

from reconciler.access.review import reviewed_plan
from reconciler.apply.executor import apply_plan, execution_order
from reconciler.aws.writer import rejected_principals
from reconciler.config.loader import load_config_text
from reconciler.config.policy_sizes import key_policy_bytes
from reconciler.documents import policies
from reconciler.errors import ConfigError
from reconciler.model import ResourceType
from reconciler.plan.changes import Action
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

BUCKET = "clinical-share-123456789012"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AP_BASE = "arn:aws:s3:us-east-1:123456789012:accesspoint/"


def kms(text: str, *, manage: bool = False) -> str:
    extra = f"  encryption: aws:kms\n  kms_key_id: {KEY}\n"
    extra += "  manage_key_policy: true\n" if manage else ""
    return text.replace(f"  name: {BUCKET}\n", f"  name: {BUCKET}\n{extra}")


def statements(text: str) -> dict[str, dict[str, object]]:
    document = policies.bucket_policy_document(config_from(text))
    return {s["Sid"]: s for s in document["Statement"]}


def share(n: int, *, prefix: str = "", partners: bool = False) -> str:
    head = BASE_YAML.split("collaborators:\n")[0]
    head += f"access_point_prefix: {prefix}\n" if prefix else ""
    lines = [head + "collaborators:"]
    for i in range(n):
        who = (
            f"    principal: arn:aws:iam::{100000000000 + i}:role/research-uploader-{i:05d}"
            if partners
            else f"    iam_user: Site{i:05d}"
        )
        lines += [f"  - id: site-{i:05d}", who, "    access: [read, write]"]
    return "\n".join(lines) + "\n"


# --- 1. delegation ------------------------------------------------------------------------------


def test_the_bucket_delegates_to_the_exact_access_points_of_the_file() -> None:
    delegate = statements(BASE_YAML)[policies.SID_DELEGATE]
    assert delegate["Condition"] == {
        "ArnLike": {
            "s3:DataAccessPointArn": [
                f"{AP_BASE}alice-access-point",
                f"{AP_BASE}bob-access-point",
                f"{AP_BASE}partner-site-ap",
            ]
        }
    }


def test_with_a_prefix_one_pattern_and_the_names_it_does_not_cover() -> None:
    text = BASE_YAML.replace("iam_path: /collaborators/\n", "access_point_prefix: onco-\n")
    delegate = statements(text)[policies.SID_DELEGATE]
    # partner-site-ap is named with access_point: and does not start with the prefix
    assert delegate["Condition"] == {
        "ArnLike": {"s3:DataAccessPointArn": [f"{AP_BASE}onco-*", f"{AP_BASE}partner-site-ap"]}
    }


def test_a_share_without_access_points_delegates_to_none() -> None:
    empty = BASE_YAML.split("collaborators:")[0] + "collaborators: []\n"
    assert policies.SID_DELEGATE not in statements(empty)


def test_a_new_access_point_is_delegated_to_after_it_exists_and_a_removed_one_first_goes() -> None:
    """Apply order: deletes (a removed collaborator's access point policy, then its access
    point) run first; a new access point and its policy are created before the bucket policy
    that admits it is written, so nothing is admitted before its policy is in place."""
    config = config_from(BASE_YAML)
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    changed = config_from(
        BASE_YAML.replace(
            "  - id: bob\n    iam_user: Bob\n", "  - id: carol\n    iam_user: Carol\n"
        ).replace("    prefix: Bob/\n", "    prefix: Carol/\n")
    )
    order = execution_order(reviewed_plan(changed, cloud.read(changed)))
    kinds = [(c.action, c.type, c.id) for c in order]
    bucket = kinds.index((Action.UPDATE, ResourceType.BUCKET_POLICY, BUCKET))
    assert kinds.index((Action.DELETE, ResourceType.ACCESS_POINT, "bob-access-point")) < bucket
    assert kinds.index((Action.CREATE, ResourceType.ACCESS_POINT, "carol-access-point")) < bucket
    assert kinds.index((Action.CREATE, ResourceType.ACCESS_POINT_POLICY, "carol-access-point")) < (
        bucket
    )
    assert bucket == len(kinds) - 1


def test_upgrading_a_share_changes_only_the_bucket_policy() -> None:
    """A share applied by an earlier version (account-wide delegation, no data-path denies):
    the plan updates the bucket policy statements and replaces nothing else."""
    config = config_from(kms(BASE_YAML))
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    policy = cloud.buckets[BUCKET]["policy"]
    new_sids = policies.BUCKET_STATEMENT_SIDS - {
        policies.SID_DELEGATE,
        policies.SID_DENY_INSECURE,
        policies.SID_DENY_OLD_SIGNATURES,
    }
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] not in new_sids]
    for statement in policy["Statement"]:
        if statement["Sid"] == policies.SID_DELEGATE:
            statement["Condition"] = {"StringEquals": {"s3:DataAccessPointAccount": "123456789012"}}
    plan = reviewed_plan(config, cloud.read(config))
    assert [(c.action, c.type) for c in plan.changes] == [
        (Action.UPDATE, ResourceType.BUCKET_POLICY)
    ]
    assert plan.refusals == ()


# --- 2 and 4. the denies ------------------------------------------------------------------------


def test_every_bucket_statement_sid_is_one_this_version_writes() -> None:
    for text in (BASE_YAML, kms(BASE_YAML)):
        assert set(statements(text)) <= policies.BUCKET_STATEMENT_SIDS
    assert set(statements(kms(BASE_YAML))) == policies.BUCKET_STATEMENT_SIDS


def test_sse_s3_bucket_denies_other_algorithms_and_customer_keys_only_when_named() -> None:
    found = statements(BASE_YAML)
    assert found[policies.SID_DENY_OTHER_ENCRYPTION]["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"},
        "Null": {"s3:x-amz-server-side-encryption": "false"},
    }
    assert found[policies.SID_DENY_CUSTOMER_KEYS]["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
    }
    assert policies.SID_DENY_OTHER_KMS_KEYS not in found
    for sid in (policies.SID_DENY_OTHER_ENCRYPTION, policies.SID_DENY_CUSTOMER_KEYS):
        assert found[sid]["Action"] == "s3:PutObject" and found[sid]["Effect"] == "Deny"


def test_sse_kms_bucket_requires_its_own_key_by_arn() -> None:
    found = statements(kms(BASE_YAML))
    assert found[policies.SID_DENY_OTHER_ENCRYPTION]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"
    }
    assert found[policies.SID_DENY_OTHER_KMS_KEYS]["Condition"] == {
        "StringNotLike": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY},
        "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
    }
    # aws:kms without a key id would use the AWS managed key aws/s3
    assert found[policies.SID_DENY_DEFAULT_KMS_KEY]["Condition"] == {
        "Null": {
            "s3:x-amz-server-side-encryption": "false",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
        }
    }


def test_signature_version_2_and_old_tls_are_denied_for_every_action() -> None:
    found = statements(BASE_YAML)
    assert found[policies.SID_DENY_SIGV2]["Condition"] == {
        "StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}
    }
    assert found[policies.SID_DENY_OLD_TLS]["Condition"] == {
        "NumericLessThan": {"s3:TlsVersion": "1.2"}
    }
    for sid in (policies.SID_DENY_SIGV2, policies.SID_DENY_OLD_TLS):
        assert found[sid]["Action"] == "s3:*"


# --- 3. KMS contexts ----------------------------------------------------------------------------


def test_kms_statements_allow_the_bucket_and_the_own_objects_contexts() -> None:
    config = config_from(kms(BASE_YAML, manage=True))
    bob = next(c for c in config.collaborators if c.id == "bob")
    identity = policies.kms_statement(config, bob)
    assert identity is not None
    assert identity["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [
            f"arn:aws:s3:::{BUCKET}",
            f"arn:aws:s3:::{BUCKET}/Bob/*",
        ]
    }
    partner = next(c for c in config.collaborators if c.id == "partner-site")
    printed = policies.partner_identity_policy(config, partner)
    assert printed is not None
    assert f"arn:aws:s3:::{BUCKET}/partner-site/*" in json.dumps(printed)
    (key_statement,) = policies.key_policy_statements(config)
    assert key_statement["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    }


# --- 6 and 7. sizes -----------------------------------------------------------------------------


def test_bucket_policy_sizes_at_realistic_share_sizes() -> None:
    """Issue 22 figures: the exact list fits a couple of hundred access points; beyond, a
    prefix does, at any size."""
    sizes = {}
    for n in (10, 150):
        text = policies.policy_text(policies.bucket_policy_document(config_from(kms(share(n)))))
        sizes[n] = len(text.encode())
    assert sizes[150] < 20 * 1024
    big = config_from(kms(share(1000, prefix="onco-")))
    assert len(policies.policy_text(policies.bucket_policy_document(big)).encode()) < 4 * 1024


def test_too_many_access_points_without_a_prefix_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(share(400).encode(), "big.yaml")
    message = str(caught.value)
    assert "the bucket policy would be" in message and "S3 allows 20,480" in message
    assert "names each of the 400 access points" in message
    assert "set access_point_prefix" in message
    load_config_text(share(400, prefix="big-").encode(), "big.yaml")  # fits with a prefix


def test_key_policy_size_is_checked_offline_and_by_the_plan() -> None:
    fits = config_from(kms(share(50, partners=True), manage=True))
    assert 0 < key_policy_bytes(fits) < 32 * 1024
    text = kms(share(800, partners=True, prefix="p-"), manage=True)
    with pytest.raises(ConfigError) as caught:
        load_config_text(text.encode(), "partners.yaml")
    message = str(caught.value)
    assert "bucket.manage_key_policy: the KMS key policy would be" in message
    assert "800 principal: collaborators" in message and "KMS allows 32,768" in message


def test_a_rejected_key_policy_names_the_principals_it_lists() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}},
            {
                "Sid": "ReconcilerPrincipalsDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::2:role/A", "arn:aws:iam::3:role/B"]},
            },
        ],
    }
    generic = "Policy contains a statement with one or more invalid principals."
    message = rejected_principals(document, generic)
    assert message.startswith(generic)
    assert "arn:aws:iam::2:role/A, arn:aws:iam::3:role/B" in message
    assert "arn:aws:iam::1:root" not in message  # not a statement this tool writes
    named = rejected_principals(document, "Invalid principal arn:aws:iam::3:role/B")
    assert named.startswith("KMS rejects principal arn:aws:iam::3:role/B in the key policy")
