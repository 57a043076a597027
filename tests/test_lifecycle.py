"""Expiry, suspension, re-activation and adoption, planned and applied against the fake."""

from __future__ import annotations

import json
from datetime import date

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.errors import ConfigError
from reconciler.model import (
    EXPIRES_TAG_KEY,
    MANAGED_TAG_KEY,
    STATUS_TAG_KEY,
    Config,
    ResourceType,
    Status,
)
from reconciler.plan.changes import Action, EventKind, Plan
from reconciler.plan.lifecycle import expiry_warnings, resolve, suspension_reason
from reconciler.plan.safety import check_mass_change
from reconciler.render.json_plan import plan_document
from reconciler.render.text import render_text
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

# with console: true, so that Alice has an inline policy for the suspension to remove
ALICE_EXPIRES = BASE_YAML.replace(
    "    prefix: Alice/\n    access: [write]\n",
    "    prefix: Alice/\n    access: [write]\n    console: true\n    expires: 2025-07-01\n",
)
JULY_1 = date(2025, 7, 1)


def converge(config: Config, cloud: FakeCloud, **kwargs: object) -> Plan:
    first = plan(config, cloud.read(config), **kwargs)  # type: ignore[arg-type]
    assert first.errors == ()
    result = apply_plan(first, cloud)
    assert result.ok, result.failures
    assert plan(config, cloud.read(config), **kwargs).is_empty  # type: ignore[arg-type]
    return first


def kinds(p: Plan, collaborator: str | None = None) -> set[tuple[str, str, str]]:
    return {
        (c.action.value, c.type.value, c.id)
        for c in p.changes
        if collaborator is None or c.collaborator == collaborator
    }


@pytest.fixture
def expiring() -> Config:
    return config_from(ALICE_EXPIRES)


@pytest.fixture
def cloud(expiring: Config) -> FakeCloud:
    c = FakeCloud()
    converge(expiring, c, today=date(2025, 6, 1))
    c.users["Alice"]["keys"] = {"AKIAALICE1": "Active", "AKIAALICE2": "Inactive"}
    c.users["Bob"]["keys"] = {"AKIABOB": "Active"}
    return c


# --- the date rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "reason"),
    [
        (date(2025, 6, 30), None),
        (JULY_1, "expired on 2025-07-01"),
        (date(2026, 1, 1), "expired on 2025-07-01"),
        (None, None),
    ],
)
def test_a_collaborator_is_suspended_from_its_expiry_date_on(
    expiring: Config, today: date | None, reason: str | None
) -> None:
    alice = expiring.collaborators[0]
    assert suspension_reason(alice, today) == reason
    resolved = resolve(expiring, today).collaborators[0]
    assert resolved.suspended is (reason is not None)
    assert resolve(resolve(expiring, today), today) == resolve(expiring, today)


@pytest.mark.parametrize(
    ("today", "window", "expected"),
    [
        (date(2025, 6, 16), 14, []),
        (date(2025, 6, 17), 14, ["collaborator alice expires on 2025-07-01 (in 14 days)"]),
        (date(2025, 6, 30), 14, ["collaborator alice expires on 2025-07-01 (tomorrow)"]),
        (JULY_1, 14, []),  # expired: the plan suspends instead of warning
        (date(2025, 6, 1), 30, ["collaborator alice expires on 2025-07-01 (in 30 days)"]),
        (date(2025, 6, 30), 0, []),
    ],
)
def test_expiry_warning_window(today: date, window: int, expected: list[str]) -> None:
    config = config_from(ALICE_EXPIRES + f"lifecycle:\n  expiry_warning_days: {window}\n")
    warnings = expiry_warnings(config, today)
    assert [w.split(":")[0] for w in warnings] == expected


def test_suspended_status_beats_expiry_and_never_warns() -> None:
    config = config_from(
        ALICE_EXPIRES.replace("expires: 2025-07-01", "expires: 2025-07-01\n    status: suspended")
    )
    assert config.collaborators[0].status is Status.SUSPENDED
    assert expiry_warnings(config, date(2025, 6, 30)) == []
    assert suspension_reason(config.collaborators[0], date(2025, 6, 30)) == "status: suspended"


# --- suspension -------------------------------------------------------------------------------


def test_expiry_plans_a_suspension_that_revokes_every_grant(
    expiring: Config, cloud: FakeCloud
) -> None:
    p = plan(expiring, cloud.read(expiring), today=JULY_1)
    assert kinds(p) == {
        ("delete", "access_point_policy", "alice-access-point"),
        ("delete", "iam_user_policy", "Alice/reconciler-access-point-access"),
        ("update", "iam_user", "Alice"),
        ("update", "access_point", "alice-access-point"),
        ("update", "iam_access_key", "Alice/AKIAALICE1"),
    }
    assert [(e.collaborator, e.kind, e.reason) for e in p.events] == [
        ("alice", EventKind.SUSPEND, "expired on 2025-07-01")
    ]
    # suspending is not deleting: the mass-change guard does not count it
    assert not [
        c for c in p.changes if c.type is ResourceType.ACCESS_POINT and c.action is Action.DELETE
    ]
    check_mass_change(p, max_fraction=0.0, desired_count=3)
    result = apply_plan(p, cloud)
    assert result.ok
    assert cloud.access_points["alice-access-point"]["policy"] is None
    assert cloud.users["Alice"]["policies"] == {}
    assert cloud.users["Alice"]["keys"] == {"AKIAALICE1": "Inactive", "AKIAALICE2": "Inactive"}
    assert cloud.users["Alice"]["tags"][STATUS_TAG_KEY] == "suspended"
    assert cloud.access_points["alice-access-point"]["tags"][STATUS_TAG_KEY] == "suspended"
    assert cloud.users["Bob"]["keys"] == {"AKIABOB": "Active"}
    assert plan(expiring, cloud.read(expiring), today=date(2025, 7, 2)).is_empty


def test_suspension_is_shown_distinctly_in_text_and_json(
    expiring: Config, cloud: FakeCloud
) -> None:
    p = plan(expiring, cloud.read(expiring), today=JULY_1)
    text = render_text(p)
    assert "Collaborator alice  [SUSPEND: expired on 2025-07-01]\n" in text
    assert "Lifecycle:\n  suspend alice: expired on 2025-07-01; keeps the IAM user" in text
    assert '  ~ iam_access_key Alice/AKIAALICE1\n      status: "Active" -> "Inactive"' in text
    doc = json.loads(json.dumps(plan_document(p)))
    assert doc["lifecycle"][0]["event"] == "suspend"
    assert set(doc["summary"]) == {"create", "update", "replace", "delete"}  # contract kept


def test_reactivation_restores_grants_keeps_keys_inactive_and_says_so(
    expiring: Config, cloud: FakeCloud
) -> None:
    converge(expiring, cloud, today=JULY_1)
    extended = config_from(ALICE_EXPIRES.replace("2025-07-01", "2026-07-01"))
    p = plan(extended, cloud.read(extended), today=date(2025, 7, 5))
    assert kinds(p) == {
        ("create", "access_point_policy", "alice-access-point"),
        ("create", "iam_user_policy", "Alice/reconciler-access-point-access"),
        ("update", "iam_user", "Alice"),
        ("update", "access_point", "alice-access-point"),
    }
    (event,) = p.events
    assert event.kind is EventKind.REACTIVATE and "stay inactive" in event.note
    assert "reactivate alice" in render_text(p)
    assert apply_plan(p, cloud).ok
    assert STATUS_TAG_KEY not in cloud.users["Alice"]["tags"]
    assert STATUS_TAG_KEY not in cloud.access_points["alice-access-point"]["tags"]
    assert cloud.users["Alice"]["keys"] == {"AKIAALICE1": "Inactive", "AKIAALICE2": "Inactive"}
    assert plan(extended, cloud.read(extended), today=date(2025, 7, 5)).is_empty


def test_a_new_suspended_collaborator_gets_user_and_access_point_but_no_grant() -> None:
    config = config_from(
        BASE_YAML.replace(
            "access: [write, read, list]", "access: [write, read, list]\n    status: suspended"
        )
    )
    p = plan(config, FakeCloud().read(config))
    assert kinds(p, "bob") == {
        ("create", "iam_user", "Bob"),
        ("create", "access_point", "bob-access-point"),
    }
    assert p.events[0].kind is EventKind.SUSPEND


def test_unread_access_keys_block_a_suspension_instead_of_leaving_them_active(
    expiring: Config, cloud: FakeCloud
) -> None:
    live = cloud.read(expiring)
    import dataclasses

    users = {n: dataclasses.replace(u, access_keys=None) for n, u in live.users.items()}
    p = plan(expiring, dataclasses.replace(live, users=users), today=JULY_1)
    assert p.errors == (
        "collaborator alice: the access keys of IAM user Alice were not read, so its "
        "suspension cannot be planned",
    )


def test_the_expires_date_is_tagged_updated_and_removed_with_the_yaml(
    expiring: Config, cloud: FakeCloud
) -> None:
    """`expires` is kept in AWS (reconciler:expires on the IAM user) so that `reconcile import`
    can recover it; each change of the YAML converges."""

    def tagged() -> str | None:
        assert EXPIRES_TAG_KEY not in cloud.access_points["alice-access-point"]["tags"]
        return cloud.users["Alice"]["tags"].get(EXPIRES_TAG_KEY)

    assert tagged() == "2025-07-01"  # the fixture converged with the date
    assert cloud.users["Bob"]["tags"].get(EXPIRES_TAG_KEY) is None
    later = config_from(ALICE_EXPIRES.replace("expires: 2025-07-01", "expires: 2025-08-15"))
    changed = converge(later, cloud, today=date(2025, 6, 1))
    assert kinds(changed) == {("update", "iam_user", "Alice")}
    assert tagged() == "2025-08-15"
    undated = config_from(ALICE_EXPIRES.replace("    expires: 2025-07-01\n", ""))
    converge(undated, cloud, today=date(2025, 6, 1))
    assert tagged() is None


def test_upgrading_adds_only_the_expires_tags(expiring: Config, cloud: FakeCloud) -> None:
    """Resources applied before the tag existed: the plan only adds it, then converges."""
    del cloud.users["Alice"]["tags"][EXPIRES_TAG_KEY]
    p = converge(expiring, cloud, today=date(2025, 6, 1))
    assert kinds(p) == {("update", "iam_user", "Alice")}
    (change,) = p.changes
    assert change.after == {
        **change.before,
        "tags": {**change.before["tags"], EXPIRES_TAG_KEY: "2025-07-01"},
    }


def test_without_today_nothing_expires(expiring: Config, cloud: FakeCloud) -> None:
    assert plan(expiring, cloud.read(expiring)).is_empty


# --- adoption ---------------------------------------------------------------------------------


@pytest.fixture
def hand_built(config: Config) -> FakeCloud:
    """The config's setup converged, then every tag of ours removed (as if built by hand)."""
    c = FakeCloud()
    converge(config, c)
    for resource in [*c.users.values(), *c.access_points.values()]:
        resource["tags"] = {}
    return c


def test_untagged_resources_are_refused_without_adopt(
    config: Config, hand_built: FakeCloud
) -> None:
    p = plan(config, hand_built.read(config))
    assert len(p.errors) == 5  # 2 users + 3 access points
    assert all("--adopt" in e for e in p.errors)


def test_adopt_tags_them_as_managed_and_converges(config: Config, hand_built: FakeCloud) -> None:
    p = plan(config, hand_built.read(config), adopt=True)
    assert p.errors == ()
    assert {c.type for c in p.changes} == {ResourceType.IAM_USER, ResourceType.ACCESS_POINT}
    assert {c.action for c in p.changes} == {Action.UPDATE}
    assert [(e.collaborator, e.reason) for e in p.events] == [
        ("alice", "untagged IAM user Alice and access point alice-access-point"),
        ("bob", "untagged IAM user Bob and access point bob-access-point"),
        ("partner-site", "untagged access point partner-site-ap"),
    ]
    assert p.managed_collaborators == ()
    assert apply_plan(p, hand_built).ok
    assert hand_built.users["Alice"]["tags"][MANAGED_TAG_KEY]
    assert plan(config, hand_built.read(config)).is_empty


def test_adopt_never_replaces_an_access_point_on_another_bucket(
    config: Config, hand_built: FakeCloud
) -> None:
    hand_built.access_points["alice-access-point"]["bucket"] = "someone-elses-bucket"
    p = plan(config, hand_built.read(config), adopt=True)
    assert p.errors == (
        "collaborator alice: access point alice-access-point cannot be adopted: it is on "
        "bucket someone-elses-bucket with network origin Internet, and this tool only keeps "
        "Internet access points on its own bucket: choose another access_point name",
    )
    assert not kinds(p, "alice") & {("replace", "access_point", "alice-access-point")}


def test_adopt_does_not_take_users_managed_for_another_bucket(
    config: Config, hand_built: FakeCloud
) -> None:
    hand_built.users["Alice"]["tags"] = {
        MANAGED_TAG_KEY: "s3-collaborator-reconciler",
        "reconciler:bucket": "other-share",
    }
    p = plan(config, hand_built.read(config), adopt=True)
    assert any("another bucket: it is tagged for bucket other-share" in e for e in p.errors)


# --- the file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            "    expires: 2025-02-30\n",
            "collaborators[0].expires: '2025-02-30' is not a calendar date",
        ),
        (
            "    expires: 2025-7-1\n",
            "collaborators[0].expires: '2025-7-1' must be a date written YYYY-MM-DD",
        ),
        ("    expires: 2025-07-01T00:00:00Z\n", "collaborators[0].expires:"),
        ("    status: paused\n", "collaborators[0].status: 'paused' is not one of"),
    ],
)
def test_bad_lifecycle_fields_are_clear_errors(field: str, message: str) -> None:
    text = BASE_YAML.replace(
        "    access: [write]\n  - id: bob", f"    access: [write]\n{field}  - id: bob"
    )
    with pytest.raises(ConfigError) as err:
        config_from(text)
    assert "collaborators.yaml:12:" in str(err.value)
    assert message in str(err.value)


def test_quoted_and_unquoted_dates_load_alike() -> None:
    for value in ("2025-07-01", '"2025-07-01"'):
        text = BASE_YAML.replace("access: [write]\n", f"access: [write]\n    expires: {value}\n", 1)
        assert config_from(text).collaborators[0].expires == JULY_1


def test_audit_and_lifecycle_blocks_load() -> None:
    config = config_from(
        BASE_YAML
        + "lifecycle:\n  expiry_warning_days: 30\naudit:\n  bucket: audit-bucket\n  log: a.jsonl\n"
    )
    assert config.lifecycle.expiry_warning_days == 30
    assert (config.audit.bucket, config.audit.prefix, config.audit.log) == (
        "audit-bucket",
        "reconciler-audit/",
        "a.jsonl",
    )
    with pytest.raises(ConfigError, match="audit"):
        config_from(BASE_YAML + "audit: {}\n")


def test_lifecycle_plan_matches_golden(expiring: Config, cloud: FakeCloud) -> None:
    """Suspend (expired), reactivate, adopt and an expiry warning in one reviewed plan."""
    from tests.test_golden import check_golden

    bob_suspended = ALICE_EXPIRES.replace(
        "access: [write, read, list]", "access: [write, read, list]\n    status: suspended"
    )
    converge(config_from(bob_suspended), cloud, today=date(2025, 6, 1))
    cloud.access_points["partner-site-ap"]["tags"] = {}
    text = ALICE_EXPIRES.replace(
        "access_point: partner-site-ap", "access_point: partner-site-ap\n    expires: 2025-07-10"
    )
    config = config_from(text)
    p = plan(config, cloud.read(config), today=JULY_1, adopt=True)
    check_golden("lifecycle.txt", render_text(p))
    doc = plan_document(p)
    assert [(e["collaborator"], e["event"]) for e in doc["lifecycle"]] == [
        ("alice", "suspend"),
        ("bob", "reactivate"),
        ("partner-site", "adopt"),
    ]


def test_a_failed_revocation_does_not_stop_the_other_revocations(
    expiring: Config, cloud: FakeCloud
) -> None:
    cloud.fail = lambda name, args: name == "delete_access_point_policy"
    result = apply_plan(plan(expiring, cloud.read(expiring), today=JULY_1), cloud)
    assert [f.change.type for f in result.failures] == [ResourceType.ACCESS_POINT_POLICY]
    assert cloud.users["Alice"]["policies"] == {}  # still revoked
    assert cloud.users["Alice"]["keys"]["AKIAALICE1"] == "Inactive"
    assert {c.type for c in result.skipped} == {ResourceType.IAM_USER, ResourceType.ACCESS_POINT}
