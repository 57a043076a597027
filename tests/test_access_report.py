"""The access review (issue 16, section 3), pure: rows from live state, credential ages and
flags, live levels from the access point policy, and the four formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

from reconciler.access.review import reviewed_plan
from reconciler.apply.executor import apply_plan
from reconciler.model import Config
from reconciler.plan import planner
from reconciler.render.access_report import (
    RENDERERS,
    render_report_csv,
    render_report_json,
    render_report_text,
)
from reconciler.reports.access_report import (
    AccessKey,
    Credentials,
    FlagKind,
    LastApply,
    Review,
    build_review,
    differing,
    key_suffix,
    last_applies,
    live_levels,
)
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

TODAY = date(2025, 6, 20)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


ALICE = Credentials(
    created=at("2024-01-10"),
    password=True,
    password_last_used=at("2025-06-01"),
    keys=(
        AccessKey(
            key_suffix("AKIAEXAMPLEOLD1"), "Active", at("2025-01-01"), at("2025-06-19"), "s3"
        ),
        AccessKey(key_suffix("AKIAEXAMPLEIDLE"), "Active", at("2025-05-01")),
    ),
)
BOB = Credentials(
    created=at("2024-01-10"),
    password=False,
    password_last_used=None,
    keys=(AccessKey(key_suffix("AKIAEXAMPLEBOB9"), "Active", at("2024-12-01"), at("2025-01-02")),),
)


def review_of(text: str = BASE_YAML, credentials: dict[str, Credentials] | None = None) -> Review:
    config = config_from(text)
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    return reviewed(config, cloud, credentials)


def reviewed(
    config: Config, cloud: FakeCloud, credentials: dict[str, Credentials] | None
) -> Review:
    live = cloud.read(config)
    creds = {"Alice": ALICE, "Bob": BOB} if credentials is None else credentials
    changes = differing(planner.plan(config, live, today=TODAY))
    return build_review(config, live, creds, today=TODAY, changes=changes, applies={})


def flags(review: Review, cid: str) -> dict[FlagKind, str]:
    row = next(r for r in review.rows if r.id == cid)
    return {f.kind: f.detail for f in row.flags}


def test_one_row_per_collaborator_with_live_levels_and_principal() -> None:
    review = review_of()
    assert [(r.id, r.levels, r.status) for r in review.rows] == [
        ("alice", ("write",), "active"),
        ("bob", ("read", "write", "list"), "active"),
        ("partner-site", ("write",), "active"),
    ]
    assert review.rows[0].principal == "arn:aws:iam::123456789012:user/collaborators/Alice"
    assert review.rows[2].principal == "arn:aws:iam::111122223333:role/Uploader"
    assert review.rows[2].credentials is None


def test_keys_older_than_the_limit_and_unused_keys_and_users_are_flagged() -> None:
    alice = flags(review_of(), "alice")
    assert alice == {
        FlagKind.KEY_TOO_OLD: "access key ...OLD1 is 170 days old (over 90, "
        "report.max_key_age_days): rotate it",
    }
    bob = flags(review_of(), "bob")
    assert set(bob) == {FlagKind.KEY_TOO_OLD, FlagKind.KEY_UNUSED, FlagKind.USER_UNUSED}
    assert bob[FlagKind.KEY_UNUSED].startswith("access key ...BOB9 last used 2025-01-02, 169 days")
    limits = review_of(BASE_YAML + "report:\n  max_key_age_days: 365\n  max_unused_days: 365\n")
    assert flags(limits, "bob") == {}


def test_a_key_never_used_counts_from_its_creation() -> None:
    idle = Credentials(
        at("2025-06-01"), False, None, (AccessKey("...NEW1", "Active", at("2025-01-02")),)
    )
    found = flags(review_of(credentials={"Alice": idle}), "alice")
    assert found[FlagKind.KEY_UNUSED].startswith("access key ...NEW1 never used, 169 days ago")
    assert FlagKind.USER_UNUSED not in found  # the user itself is 19 days old


def test_suspended_with_active_keys_expiring_and_differing_from_the_file() -> None:
    text = BASE_YAML.replace("  - id: bob\n", "  - id: bob\n    status: suspended\n").replace(
        "  - id: alice\n", "  - id: alice\n    expires: 2025-06-30\n"
    )
    config = config_from(BASE_YAML)
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    review = reviewed(config_from(text), cloud, None)
    bob = flags(review, "bob")
    assert bob[FlagKind.SUSPENDED_WITH_ACTIVE_KEYS] == (
        "suspended (status: suspended) but access key ...BOB9 is active: run apply, which "
        "deactivates it"
    )
    assert "delete access_point_policy bob-access-point" in bob[FlagKind.DIFFERS_FROM_FILE]
    assert flags(review, "alice")[FlagKind.EXPIRING] == "expires on 2025-06-30 (in 10 days)"
    assert [r.status for r in review.rows] == ["active", "suspended", "active"]


def test_a_collaborator_removed_from_the_file_but_still_in_aws_is_listed() -> None:
    config = config_from(BASE_YAML)
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    review = reviewed(config_from(BASE_YAML.split("  - id: bob\n")[0]), cloud, {})
    bob = next(r for r in review.rows if r.id == "bob")
    assert bob.status == "not in file" and bob.levels == ("read", "write", "list")
    assert "removed from collaborators.yaml but still in AWS" in bob.flags[0].detail


def test_a_removed_collaborators_user_is_listed_with_its_keys_even_without_access_point() -> None:
    """Its access keys still work until apply deletes the user: the auditor must see them."""
    config = config_from(BASE_YAML)
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    without_bob = config_from(BASE_YAML.split("  - id: bob\n")[0])
    bob = next(r for r in reviewed(without_bob, cloud, {"Bob": BOB}).rows if r.id == "bob")
    assert bob.access_keys == BOB.keys and bob.principal.endswith(":user/collaborators/Bob")
    del cloud.access_points["bob-access-point"]
    bob = next(r for r in reviewed(without_bob, cloud, {"Bob": BOB}).rows if r.id == "bob")
    assert (bob.status, bob.access_point, bob.levels) == ("not in file", "", ())
    assert bob.access_keys == BOB.keys
    assert "removed from collaborators.yaml but still in AWS: delete iam_user" in (
        bob.flags[0].detail
    )


def test_live_levels_read_actions_and_wildcards() -> None:
    arn = "arn:aws:iam::123456789012:user/collaborators/Alice"
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": ["s3:Get*", "s3:PutObject"]},
            {"Effect": "Allow", "Principal": {"AWS": "other"}, "Action": "s3:DeleteObject"},
            {"Effect": "Deny", "Principal": {"AWS": arn}, "Action": "s3:ListBucket"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:PutBucketPolicy"},
        ]
    }
    assert live_levels(policy, arn) == ("read", "write", "other")
    assert live_levels(None, arn) == ()


def test_the_last_apply_per_collaborator_is_the_newest_record_that_touched_it() -> None:
    records = [
        {"time": "t3", "outcome": "no-changes", "applied": []},
        {
            "time": "t2",
            "outcome": "applied",
            "applied": [{"collaborator": "bob"}],
            "github": {"sha": "abc"},
        },
        {"time": "t1", "outcome": "failed", "failures": [{"change": {"collaborator": "alice"}}]},
        {"time": "t0", "outcome": "applied", "applied": [{"collaborator": "bob"}]},
    ]
    found = last_applies(records, {"alice", "bob"})
    assert found == {
        "bob": LastApply("t2", "applied", "abc", None),
        "alice": LastApply("t1", "failed", None, None),
    }


def test_every_format_lists_everyone_with_key_suffixes_and_ages() -> None:
    review = review_of()
    doc = json.loads(render_report_json(review))
    assert [row["id"] for row in doc] == ["alice", "bob", "partner-site"]
    for row in doc:
        assert {"id", "principal", "levels", "status", "access_keys", "flags"} <= set(row)
    assert doc[0]["access_keys"][0] == {
        "id_suffix": "...OLD1",
        "status": "Active",
        "created": "2025-01-01",
        "age_days": 170,
        "last_used": "2025-06-19",
        "last_used_service": "s3",
    }
    assert doc[0]["console_password"] == {
        "present": True,
        "last_used": "2025-06-01",
        "mfa_devices": None,  # issue 21: counted by the reader for users with a password
    }
    assert doc[2]["console_password"] is None
    rows = list(csv.DictReader(io.StringIO(render_report_csv(review))))
    assert [r["id"] for r in rows] == ["alice", "bob", "partner-site"]
    assert rows[1]["flags"] == "key-too-old; key-unused; user-unused"
    for name, render in RENDERERS.items():
        out = render(review)
        assert ("...OLD1" in out and "170 days old" in out) or name == "json", name
        assert "AKIAEXAMPLE" not in out, name  # only the last four characters of an id


def test_quiet_text_keeps_the_summary_and_only_the_flagged_rows() -> None:
    review = review_of()
    flagged = {r.id for r in review.rows if r.flags}
    assert flagged and flagged != {r.id for r in review.rows}
    out = render_report_text(review, flagged_only=True)
    assert out.splitlines()[0] == render_report_text(review).splitlines()[0]
    shown = {line.split()[0] for line in out.splitlines()[2:] if line and line[0] != " "}
    assert shown - {"No"} == flagged  # "No audit trail ..." is a footer


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    review = review_of(BASE_YAML.replace("prefix: Alice/", "prefix: =HYPERLINK/"))
    rows = list(csv.DictReader(io.StringIO(render_report_csv(review))))
    assert rows[0]["folder"] == "'=HYPERLINK/"


def test_console_users_without_mfa_are_flagged() -> None:
    from dataclasses import replace

    without = replace(ALICE, mfa_devices=0)
    with_device = replace(ALICE, mfa_devices=1)
    no_password = replace(BOB, mfa_devices=None)
    for creds, flagged in ((without, True), (with_device, False), (no_password, False)):
        review = review_of(credentials={"Alice": creds})
        alice = next(row for row in review.rows if row.id == "alice")
        kinds = {flag.kind for flag in alice.flags}
        assert (FlagKind.CONSOLE_WITHOUT_MFA in kinds) is flagged, creds
    doc = json.loads(render_report_json(review_of(credentials={"Alice": without})))
    [flag] = [f for f in doc[0]["flags"] if f["flag"] == "console-without-mfa"]
    assert flag["detail"].startswith("console password but no MFA device")
