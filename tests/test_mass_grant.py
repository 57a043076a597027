"""The mass-widening guard (issue 12 section 6): a plan whose access changes widen the access of
more than safety.max_grant_fraction of the existing collaborators is refused (exit 3) unless
--allow-mass-grant. Computed from the review stage's access changes, never from policy JSON."""

from __future__ import annotations

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.errors import RefusedError
from reconciler.model import Config
from reconciler.plan.safety import check_mass_grant, widened_collaborators
from tests.conftest import config_from
from tests.fake import FakeCloud
from tests.test_safety import FIVE, applied

# every collaborator of FIVE has `access: [write]` except bob ([write, read, list])
EVERYONE_DELETES = (
    FIVE.replace("access: [write]", "access: [write, delete]")
    .replace(
        "  - id: site1\n    iam_user: Site1\n",
        "  - id: site1\n    iam_user: Site1\n    access: [write, delete]\n",
    )
    .replace(
        "  - id: site2\n    iam_user: Site2\n",
        "  - id: site2\n    iam_user: Site2\n    access: [write, delete]\n",
    )
)


def widened(config: Config, cloud: FakeCloud) -> set[str]:
    return widened_collaborators(plan(config, cloud.read(config)))


def guard(config: Config, cloud: FakeCloud, fraction: float = 0.25) -> None:
    check_mass_grant(plan(config, cloud.read(config)), max_fraction=fraction)


@pytest.fixture
def cloud() -> FakeCloud:
    return applied(config_from(FIVE))


def test_giving_everyone_delete_is_refused_naming_the_flag(cloud: FakeCloud) -> None:
    with pytest.raises(RefusedError) as info:
        guard(config_from(EVERYONE_DELETES), cloud)
    assert str(info.value) == (
        "refusing a plan that widens the access of 4 of 5 existing collaborators (80% > 25%, "
        "safety.max_grant_fraction): alice, partner-site, site1, site2; review the plan and "
        "re-run with --allow-mass-grant if it is intended"
    )
    assert info.value.exit_code == 3
    guard(config_from(EVERYONE_DELETES), cloud, fraction=0.8)  # settable


def test_widening_one_collaborator_is_always_allowed(cloud: FakeCloud) -> None:
    one = FIVE.replace("access: [write]\n  - id: bob", "access: [write, delete]\n  - id: bob")
    assert widened(config_from(one), cloud) == {"alice"}
    guard(config_from(one), cloud, fraction=0.0)


def test_new_folders_and_new_principals_count(cloud: FakeCloud) -> None:
    moved = FIVE.replace("prefix: Alice/", "prefix: Shared/").replace(
        "role/Uploader", "role/SomeoneElse"
    )
    assert widened(config_from(moved), cloud) == {"alice", "partner-site"}
    with pytest.raises(RefusedError, match="2 of 5"):
        guard(config_from(moved), cloud)


def test_a_widening_the_evaluator_cannot_decide_counts(cloud: FakeCloud) -> None:
    """deny -> unknown may be an allow: a foreign Deny with a condition the evaluator cannot
    decide (the caller's IP) leaves everyone's new `delete` unknown, and that still counts."""
    policy = cloud.buckets["clinical-share-123456789012"]["policy"]
    policy["Statement"].append(
        {
            "Sid": "OfficeOnlyDeletes",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::clinical-share-123456789012/*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
        }
    )
    p = plan(config_from(EVERYONE_DELETES), cloud.read(config_from(EVERYONE_DELETES)))
    assert {(c.before, c.after) for c in p.access_changes} == {("deny", "unknown")}
    assert widened_collaborators(p) == {"alice", "partner-site", "site1", "site2"}


def test_new_collaborators_do_not_count(cloud: FakeCloud) -> None:
    grown = FIVE + "".join(f"  - id: new{i}\n    iam_user: New{i}\n" for i in range(6))
    p = plan(config_from(grown), cloud.read(config_from(grown)))
    assert p.access_changes  # the new collaborators do gain access
    assert widened_collaborators(p) == set()
    check_mass_grant(p, max_fraction=0.0)


def test_narrowing_does_not_count(cloud: FakeCloud) -> None:
    narrower = FIVE.replace("access: [write, read, list]", "access: [read]")
    assert widened(config_from(narrower), cloud) == set()


def test_nothing_managed_yet_is_never_refused() -> None:
    guard(config_from(EVERYONE_DELETES), FakeCloud(), fraction=0.0)


def test_threshold_is_read_from_yaml_and_defaults_to_a_quarter() -> None:
    assert config_from(FIVE).safety.max_grant_fraction == 0.25
    config = config_from(FIVE + "safety:\n  max_grant_fraction: 0.9\n")
    assert config.safety.max_grant_fraction == 0.9


def test_collaborators_an_interrupted_apply_created_count_as_new() -> None:
    """Issue 22: an apply killed after creating users and access points but before writing their
    policies leaves collaborators that own resources and have no access at all. They count as
    new for max_grant_fraction, so the next (nightly) apply finishes the job without
    --allow-mass-grant. (tests/test_e2e_recovery.py does it with a real kill.)"""
    cloud = applied(config_from(FIVE))
    for name in ("alice-access-point", "bob-access-point", "partner-site-ap", "site1-access-point"):
        cloud.access_points[name]["policy"] = None  # created, policy not yet written
    p = plan(config_from(FIVE), cloud.read(config_from(FIVE)))
    assert {c.collaborator for c in p.access_changes} >= {"alice", "bob", "partner-site", "site1"}
    assert set(p.without_access_before) == {"alice", "bob", "partner-site", "site1"}
    assert widened_collaborators(p) == set()
    check_mass_grant(p, max_fraction=0.0)


def test_a_principal_changed_on_an_access_point_with_a_policy_is_not_new(cloud: FakeCloud) -> None:
    """The access point granted someone before: pointing it at another principal widens."""
    moved = FIVE.replace("role/Uploader", "role/SomeoneElse")
    p = plan(config_from(moved), cloud.read(config_from(moved)))
    assert "partner-site" not in p.without_access_before
    assert widened_collaborators(p) == {"partner-site"}
