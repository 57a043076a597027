"""Ownership is per bucket (issue 12): two collaborators files, two buckets, one account. An
access point or IAM user managed for another bucket is a plan error, never a replace or a
delete; access points tagged before the bucket tag existed are adopted by a tag-only update."""

from __future__ import annotations

from pathlib import Path

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
)
from reconciler.plan.changes import Plan
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud
from tests.test_validate_cli import reconcile

BUCKET = "clinical-share-123456789012"
OTHER = "oncology-share-123456789012"
MANAGED = {MANAGED_TAG_KEY: MANAGED_TAG_VALUE}
BOB = "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n"
WITHOUT_BOB = config_from(BASE_YAML.replace(BOB, ""))


def kinds(p: Plan) -> list[tuple[str, str, str]]:
    return [(c.action.value, c.type.value, c.id) for c in p.changes]


@pytest.fixture
def cloud(config: Config) -> FakeCloud:
    c = FakeCloud()
    assert apply_plan(plan(config, c.read(config)), c).ok
    return c


def test_created_access_points_are_tagged_for_their_bucket(cloud: FakeCloud) -> None:
    tags = cloud.access_points["alice-access-point"]["tags"]
    assert tags[BUCKET_TAG_KEY] == BUCKET and tags[COLLABORATOR_TAG_KEY] == "alice"


@pytest.mark.parametrize(
    "tags",
    [
        {**MANAGED, BUCKET_TAG_KEY: OTHER, COLLABORATOR_TAG_KEY: "alice"},
        {**MANAGED, COLLABORATOR_TAG_KEY: "alice"},  # tagged by an earlier version
    ],
    ids=["tagged-for-other-bucket", "legacy-no-bucket-tag"],
)
def test_managed_access_point_on_another_bucket_is_an_error_never_a_replace(
    config: Config, tags: dict[str, str]
) -> None:
    cloud = FakeCloud()
    cloud.access_points["alice-access-point"] = {"bucket": OTHER, "tags": tags, "policy": None}
    p = plan(config, cloud.read(config))
    assert [e for e in p.errors if "alice-access-point" in e] == [
        "collaborator alice: access point alice-access-point is managed by the collaborators "
        f"file of another bucket: it is on bucket {OTHER}, not {BUCKET}. Access point names are "
        "unique per account and Region: choose another access_point: name for this collaborator"
    ]
    assert not [c for c in p.changes if c.id == "alice-access-point"]


def test_access_point_on_this_bucket_tagged_for_another_is_foreign(
    config: Config, cloud: FakeCloud
) -> None:
    cloud.access_points["alice-access-point"]["tags"][BUCKET_TAG_KEY] = OTHER
    cloud.access_points["alice-access-point"]["policy"] = None  # would need a write
    p = plan(config, cloud.read(config))
    assert any(f"tagged for bucket {OTHER}" in e and "alice-access-point" in e for e in p.errors)
    assert not [c for c in p.changes if c.id == "alice-access-point"]


def test_legacy_access_point_on_this_bucket_is_adopted_by_a_tag_only_update(
    config: Config, cloud: FakeCloud
) -> None:
    del cloud.access_points["alice-access-point"]["tags"][BUCKET_TAG_KEY]
    p = plan(config, cloud.read(config))
    assert kinds(p) == [("update", "access_point", "alice-access-point")]
    change = p.changes[0]
    assert change.before["tags"] == {**MANAGED, COLLABORATOR_TAG_KEY: "alice"}
    assert change.after == {
        **change.before,
        "tags": {**change.before["tags"], BUCKET_TAG_KEY: BUCKET},
    }
    assert p.errors == () and p.access_changes == ()
    assert apply_plan(p, cloud).ok
    assert plan(config, cloud.read(config)).is_empty


def test_removed_collaborators_legacy_access_point_on_this_bucket_is_still_deleted(
    cloud: FakeCloud,
) -> None:
    del cloud.access_points["bob-access-point"]["tags"][BUCKET_TAG_KEY]
    p = plan(WITHOUT_BOB, cloud.read(WITHOUT_BOB))
    assert ("delete", "access_point", "bob-access-point") in kinds(p)


def test_access_point_on_this_bucket_tagged_for_another_is_never_deleted(
    cloud: FakeCloud,
) -> None:
    cloud.access_points["stray-ap"] = {
        "bucket": BUCKET,
        "tags": {**MANAGED, BUCKET_TAG_KEY: OTHER, COLLABORATOR_TAG_KEY: "zed"},
        "policy": None,
    }
    config = config_from(BASE_YAML)
    p = plan(config, cloud.read(config))
    assert p.is_empty and p.errors == ()
    assert [w for w in p.warnings if "stray-ap" in w] == [
        f"access point stray-ap on bucket {BUCKET} is tagged as managed for bucket {OTHER}, "
        "not this one: left alone"
    ]
    assert "zed" not in p.managed_collaborators


def test_user_of_another_bucket_names_that_bucket_and_the_fix(config: Config) -> None:
    cloud = FakeCloud()
    cloud.users["Alice"] = {
        "path": "/collaborators/",
        "tags": {**MANAGED, BUCKET_TAG_KEY: OTHER, COLLABORATOR_TAG_KEY: "alice"},
        "policies": {},
    }
    p = plan(config, cloud.read(config))
    assert [e for e in p.errors if "Alice" in e] == [
        "collaborator alice: IAM user Alice is managed by the collaborators file of another "
        f"bucket: it is tagged for bucket {OTHER}, not {BUCKET}. IAM user names are unique per "
        "account: choose another iam_user for this collaborator"
    ]
    assert not [c for c in p.changes if c.id.startswith("Alice")]


def test_user_tagged_for_this_bucket_outside_iam_path_is_deleted(cloud: FakeCloud) -> None:
    """Issue 22: a user tagged as managed for this bucket is ours wherever it lives (iam_path
    moved in the same change that removed the collaborator, or the user was moved by hand): a
    collaborator no longer in the file loses it, as under the path (the expectation changed with
    the issue; it used to be left alone with a warning)."""
    cloud.users["Bob"]["path"] = "/elsewhere/"
    p = plan(WITHOUT_BOB, cloud.read(WITHOUT_BOB))
    assert ("delete", "iam_user", "Bob") in {
        (c.action.value, c.type.value, c.id) for c in p.changes
    }
    assert not [w for w in p.warnings if "left alone" in w and "Bob" in w]


def test_user_tagged_for_another_bucket_outside_iam_path_is_left_alone(cloud: FakeCloud) -> None:
    cloud.users["Bob"]["path"] = "/elsewhere/"
    cloud.users["Bob"]["tags"] = {**cloud.users["Bob"]["tags"], BUCKET_TAG_KEY: OTHER}
    p = plan(WITHOUT_BOB, cloud.read(WITHOUT_BOB))
    assert not [c for c in p.changes if c.type.value.startswith("iam_user")]


def test_removing_a_user_that_is_in_a_group_is_a_plan_error(cloud: FakeCloud) -> None:
    cloud.users["Bob"]["groups"] = ["quarantine"]
    p = plan(WITHOUT_BOB, cloud.read(WITHOUT_BOB))
    assert p.errors == (
        "collaborator bob: IAM user Bob is to be deleted but is in IAM group(s) quarantine; this "
        "tool does not know what a group is for and never removes users from groups: remove it "
        "yourself (aws iam remove-user-from-group --group-name quarantine --user-name Bob) and "
        "plan again",
    )
    assert not [c for c in p.changes if c.type.value.startswith("iam_user")]


# --- several files given to one `validate` run -------------------------------------------------


def test_validate_refuses_two_files_sharing_a_bucket_an_access_point_or_a_user(
    tmp_path: Path,
) -> None:
    first = tmp_path / "cardiology.yaml"
    first.write_text(BASE_YAML)
    clash = BASE_YAML.replace("iam_user: Bob", "iam_user: bob").replace(
        "access_point: partner-site-ap", "access_point: onco-partner-ap"
    )
    second = tmp_path / "oncology.yaml"
    second.write_text(
        clash.replace(
            "  - id: alice\n    iam_user: Alice",
            "  - id: alice\n    iam_user: OncoAlice\n    access_point: onco-alice-ap",
        )
    )
    result = reconcile("validate", str(first), str(second))
    assert result.returncode == 1
    assert result.stdout == ""
    # each clash is shown in both files, naming the other place (issue 15)
    for here, there, at in ((first, second, (12, 13)), (second, first, (13, 12))):
        assert (
            f"{here}:5:3: bucket.name: bucket '{BUCKET}' is also used by {there}:5:3: one file "
            "per bucket: two files would each rewrite the bucket policy and remove the other's "
            "access points; merge them into one file\n"
        ) in result.stderr
        assert (
            f"{here}:{at[0]}:5: collaborators[1].id: access point 'bob-access-point' (the "
            f"default, from id) is also used by {there}:{at[1]}:5 (account 123456789012, "
            "us-east-1): access point names are unique per account and Region"
        ) in result.stderr
    assert (
        f"{second}:14:5: collaborators[1].iam_user: IAM user 'bob' is also used by {first}:13:5 "
        "(account 123456789012): IAM user names are unique in an account regardless of case"
    ) in result.stderr
    assert "alice" not in result.stderr.lower()


def test_validate_accepts_files_for_two_buckets_with_the_same_ids(tmp_path: Path) -> None:
    bounded = BASE_YAML.replace(
        "iam_path:",
        "iam_permissions_boundary: arn:aws:iam::123456789012:policy/boundary\niam_path:",
    )
    first = tmp_path / "a.yaml"
    first.write_text(bounded)
    second = tmp_path / "b.yaml"
    second.write_text(
        bounded.replace(BUCKET, OTHER)
        .replace("iam_user: Alice", "iam_user: OncoAlice\n    access_point: onco-alice-ap")
        .replace("iam_user: Bob", "iam_user: OncoBob\n    access_point: onco-bob-ap")
        .replace("access_point: partner-site-ap", "access_point: onco-partner-ap")
        # users of two shares in one account live under paths of their own (issue 15)
        .replace("iam_path: /collaborators/", "iam_path: /oncology/")
    )
    result = reconcile("validate", str(first), str(second), str(first))
    assert (result.returncode, errors_only(result.stderr)) == (0, "")
    assert (
        result.stdout
        == f"{first} is valid: 3 collaborators.\n{second} is valid: 3 collaborators.\n"
        "All 2 files are valid.\n"
    )


def errors_only(stderr: str) -> str:
    """Without the warnings validate also prints (e.g. no permissions boundary)."""
    return "".join(line for line in stderr.splitlines(True) if ": warning: " not in line)


# --- bucket-policy statements ------------------------------------------------------------------


def test_reconciler_statement_this_version_never_writes_is_kept(
    config: Config, cloud: FakeCloud
) -> None:
    newer = {
        "Sid": "ReconcilerFromANewerVersion",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObjectAcl",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    cloud.buckets[BUCKET]["policy"]["Statement"].append(newer)
    p = plan(config, cloud.read(config))
    assert p.is_empty
    assert p.warnings == (
        f"bucket policy statement ReconcilerFromANewerVersion of bucket {BUCKET} has a Reconciler "
        "Sid that this version never writes: kept as it is (a newer version of the tool, or a "
        "person, wrote it; only one collaborators file may name a bucket)",
    )
    # a statement it does write is still put back as collaborators.yaml says
    cloud.buckets[BUCKET]["policy"]["Statement"] = [newer]
    p = plan(config, cloud.read(config))
    assert newer in p.changes[0].after["Statement"] and len(p.changes[0].after["Statement"]) > 1


@pytest.mark.parametrize(
    "extra",
    [
        "",
        "  presigned_url_max_age_seconds: 600\n",
        "  encryption: aws:kms\n  kms_key_id: "
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\n",
    ],
)
def test_every_bucket_statement_sid_is_registered(extra: str) -> None:
    config = config_from(BASE_YAML.replace(f"  name: {BUCKET}\n", f"  name: {BUCKET}\n{extra}"))
    sids = {s["Sid"] for s in policies.bucket_statements(config)}
    assert sids <= policies.BUCKET_STATEMENT_SIDS
