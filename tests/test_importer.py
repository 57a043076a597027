"""`reconcile import`, pure: access point policies -> collaborators.yaml, with what cannot be
expressed written as comments and warnings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.config.loader import load_config_text
from reconciler.importer import Discovery, FoundUser, import_config
from reconciler.model import EXPIRES_TAG_KEY as EXPIRES
from reconciler.model import Config, LiveAccessPoint
from tests.fake import FakeCloud

ACCOUNT = "123456789012"
BUCKET = "s3-ap-stack-123456789012-s3-access-point"


def ap_arn(name: str) -> str:
    return f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}"


def statement(principal: Any, action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": resource,
        **extra,
    }


def access_point(name: str, *statements: dict[str, Any], **kw: Any) -> LiveAccessPoint:
    policy = {"Version": "2012-10-17", "Statement": list(statements)} if statements else None
    return LiveAccessPoint(
        name=name,
        bucket=kw.get("bucket", BUCKET),
        network_origin=kw.get("origin", "Internet"),
        vpc_id=kw.get("vpc"),
        tags={},
        policy=policy,
    )


def seed_ap(user: str, action: Any = "s3:PutObject") -> LiveAccessPoint:
    name = f"{user.lower()}-access-point"
    return access_point(
        name,
        statement(f"arn:aws:iam::{ACCOUNT}:user/{user}", action, f"{ap_arn(name)}/object/{user}/*"),
    )


def discovery(*aps: LiveAccessPoint, users: dict[str, FoundUser] | None = None) -> Discovery:
    default = {n: FoundUser(n, "/", inline_policies=("seed",)) for n in ("Alice", "Bob")}
    return Discovery(ACCOUNT, "us-east-1", BUCKET, None, aps, default if users is None else users)


def load(text: str) -> Config:
    return load_config_text(text.encode(), "imported.yaml")


def test_the_blog_setup_imports_as_two_managed_users() -> None:
    imported = import_config(discovery(seed_ap("Alice"), seed_ap("Bob")))
    config = load(imported.text)
    assert config.iam_path == "/"
    assert [
        (c.id, c.iam_user, c.prefix, [a.value for a in c.access]) for c in config.collaborators
    ] == [
        ("alice", "Alice", "Alice/", ["write"]),
        ("bob", "Bob", "Bob/", ["write"]),
    ]
    assert config.collaborators[0].access_point == "alice-access-point"
    assert "access_point:" not in imported.text  # the default name needs no line
    assert (
        "access point alice-access-point: imported as access write, which also grants "
        "s3:AbortMultipartUpload (the live policy did not)" in imported.warnings
    )
    assert (
        "IAM user Bob: inline policy seed is replaced by the tool's identity policy when applied "
        "with --adopt" in imported.warnings
    )


def test_a_setup_this_tool_built_imports_back_to_an_equivalent_file(config: Config) -> None:
    cloud = FakeCloud()
    assert apply_plan(plan(config, cloud.read(config)), cloud).ok
    live = cloud.read(config)
    users = {u.name: FoundUser(u.name, u.path) for u in live.users.values()}
    found = Discovery(
        ACCOUNT,
        config.region,
        config.bucket.name,
        live.bucket.encryption,
        list(live.access_points.values()),
        users,
    )
    imported = import_config(found)
    assert imported.warnings == []
    again = load(imported.text)
    assert plan(again, cloud.read(again)).is_empty
    partner = next(c for c in again.collaborators if c.principal)
    assert (partner.id, partner.access_point) == ("partner-site", "partner-site-ap")


def test_expires_dates_of_a_managed_bucket_come_back(config: Config) -> None:
    """The tool tags each IAM user with its collaborator's `expires` date, so importing the
    bucket writes the dates back (active and suspended alike) and drops the copy-by-hand note;
    a plan on the imported file is then empty."""
    from tests.conftest import BASE_YAML, config_from

    text = BASE_YAML.replace(
        "    prefix: Alice/\n    access: [write]\n",
        "    prefix: Alice/\n    access: [write]\n    expires: 2031-01-15\n",
    ).replace(
        "    access: [write, read, list]\n",
        "    access: [write, read, list]\n    status: suspended\n    expires: 2032-02-29\n",
    )
    dated = config_from(text)
    cloud = FakeCloud()
    assert apply_plan(plan(dated, cloud.read(dated)), cloud).ok
    live = cloud.read(dated)
    users = {u.name: FoundUser(u.name, u.path, tags=u.tags) for u in live.users.values()}
    found = Discovery(
        ACCOUNT, dated.region, dated.bucket.name, None, list(live.access_points.values()), users
    )
    imported = import_config(found)
    again = load(imported.text)
    assert {c.id: (c.status.value, str(c.expires)) for c in again.collaborators} == {
        "alice": ("active", "2031-01-15"),
        "bob": ("suspended", "2032-02-29"),
        "partner-site": ("active", "None"),  # a principal: no IAM user to carry the date
    }
    assert plan(again, cloud.read(again)).is_empty
    assert "copy its date from your previous collaborators.yaml" in imported.text.splitlines()[0]
    ours = [ap for ap in found.access_points if ap.name != "partner-site-ap"]
    assert "copy its date" not in import_config(replace(found, access_points=ours)).text
    for value in ("2031-02-30", "15/01/2031", ""):  # not a real YYYY-MM-DD date: as if absent
        alice = replace(users["Alice"], tags={**users["Alice"].tags, EXPIRES: value})
        text = import_config(replace(found, users={**users, "Alice": alice})).text
        assert load(text).collaborators[0].expires is None


def test_read_list_and_delete_levels_are_recognised() -> None:
    name = "alice-access-point"
    principal = f"arn:aws:iam::{ACCOUNT}:user/Alice"
    ap = access_point(
        name,
        statement(principal, ["s3:GetObject", "s3:DeleteObject"], f"{ap_arn(name)}/object/Alice/*"),
        statement(
            principal,
            "s3:ListBucket",
            ap_arn(name),
            Condition={"StringLike": {"s3:prefix": "Alice/*"}},
        ),
    )
    config = load(import_config(discovery(ap)).text)
    assert [a.value for a in config.collaborators[0].access] == ["read", "list", "delete"]


@pytest.mark.parametrize(
    ("ap", "reason"),
    [
        (
            access_point(
                "shared-ap",
                statement(
                    [f"arn:aws:iam::{ACCOUNT}:user/Alice", f"arn:aws:iam::{ACCOUNT}:user/Bob"],
                    "s3:PutObject",
                    f"{ap_arn('shared-ap')}/object/shared/*",
                ),
            ),
            "its policy names 2 principals; a collaborator has one",
        ),
        (
            access_point(
                "loose-ap",
                statement(
                    f"arn:aws:iam::{ACCOUNT}:user/Alice",
                    "s3:PutObject",
                    f"{ap_arn('loose-ap')}/object/site1*",
                ),
            ),
            "its prefix 'site1' is not a folder ending in '/'",
        ),
        (
            access_point(
                "all-ap",
                statement(
                    f"arn:aws:iam::{ACCOUNT}:user/Alice",
                    "s3:GetObject",
                    f"{ap_arn('all-ap')}/object/*",
                ),
            ),
            "its prefix '(the whole bucket)' is not a folder ending in '/'",
        ),
        (access_point("empty-ap"), "it has no access point policy, so it grants nobody anything"),
        (
            access_point(
                "vpc-ap",
                statement(
                    f"arn:aws:iam::{ACCOUNT}:user/Alice",
                    "s3:PutObject",
                    f"{ap_arn('vpc-ap')}/object/A/*",
                ),
                origin="VPC",
                vpc="vpc-1",
            ),
            "its network origin is VPC; this tool keeps Internet access points",
        ),
        (
            access_point(
                "ghost-ap",
                statement(
                    "AIDAEXAMPLEUNIQUEID", "s3:PutObject", f"{ap_arn('ghost-ap')}/object/G/*"
                ),
            ),
            "its principal AIDAEXAMPLEUNIQUEID is not an IAM user or role ARN",
        ),
        (
            access_point(
                "deny-ap",
                {**statement("*", "s3:*", f"{ap_arn('deny-ap')}/object/*"), "Effect": "Deny"},
            ),
            "no statement of its policy maps to the read/write/list/delete levels",
        ),
    ],
)
def test_what_cannot_be_expressed_becomes_a_comment_and_a_warning(
    ap: LiveAccessPoint, reason: str
) -> None:
    imported = import_config(discovery(seed_ap("Alice"), ap))
    assert f"  # access point {ap.name} not imported: {reason}" in imported.text
    assert any(ap.name in w and reason in w for w in imported.warnings), imported.warnings
    config = load(imported.text)  # still a valid file, with the rest imported
    assert [c.id for c in config.collaborators] == ["alice"]


def test_extra_actions_are_left_out_with_a_comment_under_the_collaborator() -> None:
    ap = seed_ap("Alice", ["s3:PutObject", "s3:GetObjectTagging"])
    imported = import_config(discovery(ap))
    resource = f"{ap_arn('alice-access-point')}/object/Alice/*"
    assert f"    # not imported: s3:GetObjectTagging on {resource}\n" in imported.text
    assert any("s3:GetObjectTagging" in w for w in imported.warnings)
    assert [a.value for a in load(imported.text).collaborators[0].access] == ["write"]


def test_users_outside_the_common_path_and_external_roles_become_principals() -> None:
    users = {
        "Alice": FoundUser("Alice", "/"),
        "Bob": FoundUser("Bob", "/"),
        "Carol": FoundUser("Carol", "/partners/", managed_policies=("ReadOnlyAccess",)),
    }
    carol = access_point(
        "carol-ap",
        statement(
            f"arn:aws:iam::{ACCOUNT}:user/partners/Carol",
            "s3:PutObject",
            f"{ap_arn('carol-ap')}/object/Carol/*",
        ),
    )
    role = "arn:aws:iam::111122223333:role/Uploader"
    partner = access_point(
        "partner-ap", statement(role, "s3:PutObject", f"{ap_arn('partner-ap')}/object/partner/*")
    )
    imported = import_config(
        discovery(seed_ap("Alice"), seed_ap("Bob"), carol, partner, users=users)
    )
    config = load(imported.text)
    by_id = {c.id: c for c in config.collaborators}
    assert by_id["alice"].iam_user == "Alice" and config.iam_path == "/"
    assert by_id["carol"].principal == f"arn:aws:iam::{ACCOUNT}:user/partners/Carol"
    assert by_id["partner"].principal == role
    assert any(
        "IAM user Carol (access point carol-ap) is imported as an existing principal" in w
        for w in imported.warnings
    )


def test_access_points_of_other_buckets_are_ignored_and_ids_stay_unique() -> None:
    other = access_point("elsewhere-ap", bucket="another-bucket")
    twin = access_point(
        "alice-ap",
        statement(
            f"arn:aws:iam::{ACCOUNT}:user/Alice", "s3:GetObject", f"{ap_arn('alice-ap')}/object/A/*"
        ),
    )
    imported = import_config(discovery(seed_ap("Alice"), twin, other))
    config = load(imported.text)
    assert [c.id for c in config.collaborators] == ["alice", "alice-2"]
    # one IAM user belongs to one collaborator: the second names it as a principal
    assert config.collaborators[1].principal == f"arn:aws:iam::{ACCOUNT}:user/Alice"
    assert config.collaborators[1].access_point == "alice-ap"
    assert "elsewhere-ap" not in imported.text


def test_kms_encryption_is_kept() -> None:
    found = discovery(seed_ap("Alice"))
    found = Discovery(
        found.account_id,
        found.region,
        found.bucket,
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/k"},
        found.access_points,
        found.users,
    )
    config = load(import_config(found).text)
    assert (config.bucket.encryption, config.bucket.kms_key_id) == (
        "aws:kms",
        "arn:aws:kms:us-east-1:123456789012:key/k",
    )


def test_an_empty_bucket_imports_as_an_empty_valid_file() -> None:
    imported = import_config(discovery())
    assert load(imported.text).collaborators == ()
    assert imported.collaborators == 0
