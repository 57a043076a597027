"""Planner and executor against the in-memory fake: create, converge, drift, ownership."""

from __future__ import annotations

import copy

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.documents import policies
from reconciler.model import (
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
    Config,
    ResourceType,
)
from reconciler.plan.changes import Action, Plan
from reconciler.plan.planner import NO_BOUNDARY_WARNING
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

BUCKET = "clinical-share-123456789012"
BOUNDARY = "arn:aws:iam::123456789012:policy/reconciler-collaborator-boundary"


def converge(config: Config, cloud: FakeCloud) -> Plan:
    first = plan(config, cloud.read(config))
    result = apply_plan(first, cloud)
    assert result.ok, result.failures
    return first


def kinds(p: Plan) -> list[tuple[str, str, str]]:
    return [(c.action.value, c.type.value, c.id) for c in p.changes]


@pytest.fixture
def cloud(config: Config) -> FakeCloud:
    c = FakeCloud()
    converge(config, c)
    return c


def test_empty_account_plans_the_whole_setup(config: Config) -> None:
    p = plan(config, FakeCloud().read(config))
    # no inline policy for users without console: true (the AWS CLI needs none)
    assert p.summary() == {"create": 15, "update": 0, "replace": 0, "delete": 0}
    assert ("create", "iam_user", "Alice") in kinds(p)
    assert ("create", "access_point_policy", "partner-site-ap") in kinds(p)
    # an external principal gets no IAM user and no identity policy
    assert not [c for c in p.changes if c.collaborator == "partner-site" and "iam" in c.type]
    # it creates users without a permissions boundary: the plan says what the risk is
    assert p.errors == () and p.warnings == (NO_BOUNDARY_WARNING,)
    bounded = config_from(BASE_YAML + f"iam_permissions_boundary: {BOUNDARY}\n")
    assert plan(bounded, FakeCloud().read(bounded)).warnings == ()


def test_apply_then_plan_is_empty_and_second_apply_changes_nothing(
    config: Config, cloud: FakeCloud
) -> None:
    again = plan(config, cloud.read(config))
    assert again.is_empty
    cloud.calls.clear()
    apply_plan(again, cloud)
    assert cloud.calls == []


def test_user_arn_in_access_point_policy_includes_iam_path(
    config: Config, cloud: FakeCloud
) -> None:
    policy = cloud.access_points["alice-access-point"]["policy"]
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:user/collaborators/Alice"}
    assert statement["Resource"] == (
        "arn:aws:s3:us-east-1:123456789012:accesspoint/alice-access-point/object/Alice/*"
    )
    assert sorted(statement["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]


def test_list_access_is_prefix_conditioned_on_the_access_point(
    config: Config, cloud: FakeCloud
) -> None:
    statements = {
        s["Sid"]: s for s in cloud.access_points["bob-access-point"]["policy"]["Statement"]
    }
    assert statements["ReconcilerList"]["Resource"] == (
        "arn:aws:s3:us-east-1:123456789012:accesspoint/bob-access-point"
    )
    assert statements["ReconcilerList"]["Condition"] == {"StringLike": {"s3:prefix": "Bob/*"}}
    assert statements["ReconcilerRead"]["Action"] == "s3:GetObject"


def test_users_without_console_get_no_inline_policy(config: Config, cloud: FakeCloud) -> None:
    assert cloud.users["Alice"]["policies"] == {} and cloud.users["Bob"]["policies"] == {}


def test_identity_policy_is_scoped_to_own_access_point() -> None:
    config = config_from(
        BASE_YAML.replace("access: [write]\n", "access: [write]\n    console: true\n")
    )
    cloud = FakeCloud()
    converge(config, cloud)
    doc = cloud.users["Alice"]["policies"]["reconciler-access-point-access"]
    actions = {}
    for s in doc["Statement"]:
        for a in [s["Action"]] if isinstance(s["Action"], str) else s["Action"]:
            actions[a] = s["Resource"]
    assert actions == {
        "s3:ListAllMyBuckets": "*",
        "s3:ListAccessPoints": "*",
        "s3:GetAccessPoint": "*",  # no resource type in the SAR: only "*" grants it
    }
    assert "s3:ListBucket" not in actions


def test_bucket_policy_delegates_and_denies_insecure_transport(
    config: Config, cloud: FakeCloud
) -> None:
    statements = {s["Sid"]: s for s in cloud.buckets[BUCKET]["policy"]["Statement"]}
    delegate = statements["ReconcilerDelegateToAccessPoints"]
    # issue 22: only this share's access points, not every access point of the account
    base = "arn:aws:s3:us-east-1:123456789012:accesspoint/"
    assert delegate["Condition"] == {
        "ArnLike": {
            "s3:DataAccessPointArn": [
                f"{base}alice-access-point",
                f"{base}bob-access-point",
                f"{base}partner-site-ap",
            ]
        }
    }
    deny = statements["ReconcilerDenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert cloud.buckets[BUCKET]["pab"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert cloud.buckets[BUCKET]["ownership"] == {"ObjectOwnership": "BucketOwnerEnforced"}
    assert cloud.buckets[BUCKET]["encryption"] == {"SSEAlgorithm": "AES256"}


# --- drift --------------------------------------------------------------------------------


def test_broadened_access_point_policy_is_planned_and_repaired(
    config: Config, cloud: FakeCloud
) -> None:
    policy = cloud.access_points["alice-access-point"]["policy"]
    policy["Statement"][0]["Resource"] = (
        "arn:aws:s3:us-east-1:123456789012:accesspoint/alice-access-point/object/*"
    )
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("update", "access_point_policy", "alice-access-point")]
    apply_plan(p, cloud)
    assert plan(config, cloud.read(config)).is_empty


def test_deleted_inline_policy_is_recreated() -> None:
    config = config_from(BASE_YAML.replace("list]\n", "list]\n    console: true\n"))
    cloud = FakeCloud()
    converge(config, cloud)
    cloud.users["Bob"]["policies"].clear()
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("create", "iam_user_policy", "Bob/reconciler-access-point-access")]


def test_extra_inline_policy_on_managed_user_is_removed(config: Config, cloud: FakeCloud) -> None:
    cloud.users["Bob"]["policies"]["sneaky"] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("delete", "iam_user_policy", "Bob/sneaky")]


def test_foreign_bucket_policy_statement_is_preserved(config: Config, cloud: FakeCloud) -> None:
    foreign = {
        "Sid": "AuditorRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:role/Auditor"},
        "Action": "s3:GetBucketLocation",
        "Resource": f"arn:aws:s3:::{BUCKET}",
    }
    cloud.buckets[BUCKET]["policy"]["Statement"].append(foreign)
    assert plan(config, cloud.read(config)).is_empty
    # when our statements change, the foreign one is carried over untouched
    cloud.buckets[BUCKET]["policy"]["Statement"] = [
        s
        for s in cloud.buckets[BUCKET]["policy"]["Statement"]
        if s["Sid"] != "ReconcilerDenyInsecureTransport"
    ]
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("update", "bucket_policy", BUCKET)]
    apply_plan(p, cloud)
    sids = {s["Sid"] for s in cloud.buckets[BUCKET]["policy"]["Statement"]}
    assert sids == {"AuditorRead"} | policies.BUCKET_STATEMENT_SIDS - {
        "ReconcilerDenyOtherKmsKeys",  # SSE-KMS only
        "ReconcilerDenyAwsManagedKmsKey",
    }
    assert foreign in cloud.buckets[BUCKET]["policy"]["Statement"]


def test_untagged_access_point_is_a_warning_and_left_alone(
    config: Config, cloud: FakeCloud
) -> None:
    cloud.access_points["legacy-ap"] = {"bucket": BUCKET, "tags": {}, "policy": None}
    p = plan(config, cloud.read(config))
    assert p.is_empty
    assert len(p.warnings) == 1 and "legacy-ap" in p.warnings[0]


def test_encryption_drift_is_corrected(config: Config, cloud: FakeCloud) -> None:
    cloud.buckets[BUCKET]["encryption"] = {"SSEAlgorithm": "aws:kms"}
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("update", "bucket_encryption", BUCKET)]
    assert p.changes[0].before == {"SSEAlgorithm": "aws:kms"}


def test_public_access_block_drift_is_corrected(config: Config, cloud: FakeCloud) -> None:
    cloud.buckets[BUCKET]["pab"]["BlockPublicPolicy"] = False
    assert kinds(plan(config, cloud.read(config))) == [
        ("update", "bucket_public_access_block", BUCKET)
    ]


# --- ownership ----------------------------------------------------------------------------


def test_unmanaged_user_with_yaml_name_is_an_error_not_a_takeover(config: Config) -> None:
    cloud = FakeCloud()
    cloud.users["Alice"] = {"path": "/", "tags": {}, "policies": {}}
    p = plan(config, cloud.read(config))
    assert any("IAM user Alice already exists but is not managed" in e for e in p.errors)
    assert not [c for c in p.changes if c.type is ResourceType.IAM_USER and c.id == "Alice"]


def test_user_names_clash_case_insensitively(config: Config) -> None:
    cloud = FakeCloud()
    cloud.users["alice"] = {"path": "/", "tags": {}, "policies": {}}
    p = plan(config, cloud.read(config))
    assert any("case-insensitive" in e for e in p.errors)


def test_user_of_another_configuration_is_an_error(config: Config) -> None:
    cloud = FakeCloud()
    tags = {MANAGED_TAG_KEY: MANAGED_TAG_VALUE, BUCKET_TAG_KEY: "other-bucket"}
    cloud.users["Alice"] = {"path": "/collaborators/", "tags": tags, "policies": {}}
    cloud.users["Zed"] = {"path": "/collaborators/", "tags": dict(tags), "policies": {}}
    p = plan(config, cloud.read(config))
    assert any("other-bucket" in e for e in p.errors)
    assert not [c for c in p.changes if c.id == "Zed"]  # never deleted


def test_unmanaged_access_point_with_yaml_name_is_an_error(config: Config) -> None:
    cloud = FakeCloud()
    cloud.access_points["alice-access-point"] = {"bucket": BUCKET, "tags": {}, "policy": None}
    p = plan(config, cloud.read(config))
    assert any("access point alice-access-point already exists" in e for e in p.errors)


def test_unmanaged_users_are_never_deleted(config: Config, cloud: FakeCloud) -> None:
    cloud.users["Carol"] = {"path": "/collaborators/", "tags": {}, "policies": {}}
    assert plan(config, cloud.read(config)).is_empty


# --- removing and changing collaborators ----------------------------------------------------


def test_removed_collaborator_is_torn_down_in_reverse_order(
    config: Config, cloud: FakeCloud
) -> None:
    smaller = config_from(BASE_YAML.split("  - id: bob")[0])
    p = plan(smaller, cloud.read(smaller))
    assert sorted(kinds(p)) == sorted(
        [
            ("delete", "iam_user", "Bob"),
            ("delete", "access_point", "bob-access-point"),
            ("delete", "access_point_policy", "bob-access-point"),
            ("delete", "access_point", "partner-site-ap"),
            ("delete", "access_point_policy", "partner-site-ap"),
            # issue 22: their access points leave the bucket's delegation
            ("update", "bucket_policy", BUCKET),
        ]
    )
    assert {c.collaborator for c in p.changes} == {"bob", "partner-site", None}
    cloud.calls.clear()
    apply_plan(p, cloud)
    names = [name for name, _ in cloud.calls]
    assert names.index("delete_access_point_policy") < names.index("delete_access_point")
    assert names.index("delete_access_point") < names.index("delete_user")
    # access is revoked (policies, then access points) before the bucket policy is written
    assert names.index("delete_access_point") < names.index("put_bucket_policy")
    assert "Bob" not in cloud.users and "bob-access-point" not in cloud.access_points
    assert plan(smaller, cloud.read(smaller)).is_empty


def test_access_change_updates_only_the_access_point_policy(
    config: Config, cloud: FakeCloud
) -> None:
    changed = config_from(
        BASE_YAML.replace("access: [write]\n  - id: bob", "access: [read]\n  - id: bob")
    )
    p = plan(changed, cloud.read(changed))
    assert kinds(p) == [("update", "access_point_policy", "alice-access-point")]


def test_changed_collaborator_tag_is_an_update_not_a_replace(
    config: Config, cloud: FakeCloud
) -> None:
    cloud.access_points["alice-access-point"]["tags"][COLLABORATOR_TAG_KEY] = "someone"
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("update", "access_point", "alice-access-point")]


def test_iam_path_change_moves_users(config: Config, cloud: FakeCloud) -> None:
    moved = config_from(BASE_YAML.replace("iam_path: /collaborators/", "iam_path: /research/"))
    p = plan(moved, cloud.read(moved))
    assert ("update", "iam_user", "Alice") in kinds(p)
    assert ("update", "access_point_policy", "alice-access-point") in kinds(p)
    apply_plan(p, cloud)
    assert plan(moved, cloud.read(moved)).is_empty


def test_bucket_in_another_region_is_an_error(config: Config, cloud: FakeCloud) -> None:
    cloud.buckets[BUCKET]["region"] = "eu-west-1"
    assert any("cannot move" in e for e in plan(config, cloud.read(config)).errors)


# --- executor -----------------------------------------------------------------------------


def test_failure_skips_that_collaborators_later_changes_only(config: Config) -> None:
    cloud = FakeCloud(fail=lambda name, args: name == "create_user" and args[0] == "Alice")
    p = plan(config, cloud.read(config))
    result = apply_plan(p, cloud)
    assert [(f.change.id, f.code, f.request_id) for f in result.failures] == [
        ("Alice", "InternalError", "req-fake-1")
    ]
    assert {c.collaborator for c in result.skipped} == {"alice"}
    assert "bob-access-point" in cloud.access_points
    assert "policy" in cloud.buckets[BUCKET]
    cloud.fail = None
    apply_plan(plan(config, cloud.read(config)), cloud)
    assert plan(config, cloud.read(config)).is_empty


def test_bucket_failure_stops_everything_after_it(config: Config) -> None:
    cloud = FakeCloud(fail=lambda name, args: name == "put_bucket_encryption")
    result = apply_plan(plan(config, cloud.read(config)), cloud)
    assert len(result.failures) == 1
    assert not cloud.users and not cloud.access_points


def test_plan_is_deterministic(config: Config) -> None:
    live = FakeCloud().read(config)
    assert plan(config, live) == plan(config, copy.deepcopy(live))
    assert plan(config, live).checksum() == plan(config, copy.deepcopy(live)).checksum()


def test_creates_run_in_dependency_order(config: Config) -> None:
    cloud = FakeCloud()
    apply_plan(plan(config, cloud.read(config)), cloud)
    order = [
        name
        for name, args in cloud.calls
        if args and args[0] in {"Alice", "alice-access-point", BUCKET}
    ]
    assert order == [
        "create_bucket",
        "put_bucket_encryption",
        "put_public_access_block",
        "put_ownership_controls",
        "enable_versioning",
        "put_lifecycle",
        "create_user",
        "create_access_point",
        "put_access_point_policy",
        "put_bucket_policy",
    ]
    assert Action.DELETE not in {c.action for c in plan(config, FakeCloud().read(config)).changes}


def test_policy_returned_reordered_with_one_item_lists_plans_nothing(
    config: Config, cloud: FakeCloud
) -> None:
    policy = cloud.access_points["bob-access-point"]["policy"]
    policy["Statement"].reverse()
    for statement in policy["Statement"]:
        statement["Principal"]["AWS"] = [statement["Principal"]["AWS"]]
        actions = statement["Action"]
        statement["Action"] = list(reversed(actions)) if isinstance(actions, list) else [actions]
        statement["Resource"] = [statement["Resource"]]
    assert plan(config, cloud.read(config)).is_empty


def test_network_origin_change_is_a_replace(config: Config, cloud: FakeCloud) -> None:
    cloud.access_points["bob-access-point"]["network_origin"] = "VPC"
    cloud.access_points["bob-access-point"]["vpc_id"] = "vpc-123"
    p = plan(config, cloud.read(config))
    assert kinds(p) == [
        ("replace", "access_point", "bob-access-point"),
        ("create", "access_point_policy", "bob-access-point"),
    ]
