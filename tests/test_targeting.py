"""Targeted runs (issue 16, section 2): `--only ID` plans only those collaborators plus the
bucket-level changes they need, says the rest was not planned, keeps every safety rule (the
mass guard counts within the subset; the security gate judges the whole resulting state) and
never changes anything else."""

from __future__ import annotations

import json

import pytest

from reconciler.access.review import reviewed_plan
from reconciler.apply.executor import apply_plan
from reconciler.documents.policies import SID_DELEGATE
from reconciler.errors import RefusedError
from reconciler.model import ResourceType
from reconciler.plan.safety import check_mass_change
from reconciler.plan.targeting import UnknownTargetError
from reconciler.render.json_plan import render_json
from reconciler.render.markdown import render_apply_markdown, render_markdown
from reconciler.render.text import render_text
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud
from tests.review_support import broadened_cloud, head_and_base

BUCKET = "clinical-share-123456789012"


def test_only_the_named_collaborator_is_planned_and_the_rest_is_counted() -> None:
    head, base = head_and_base()
    cloud = broadened_cloud(base)
    full = reviewed_plan(head, cloud.read(head))
    plan = reviewed_plan(head, cloud.read(head), only=["carol"])
    # issue 22: the bucket delegates only to the share's access points, so carol's new one is
    # added to the bucket policy's list, and nothing else is
    assert {c.collaborator for c in plan.changes} == {"carol", None}
    bucket = next(c for c in plan.changes if c.type is ResourceType.BUCKET_POLICY)
    admitted = _admitted_arns(bucket.after)
    assert set(admitted) - set(_admitted_arns(bucket.before)) == {_arn("carol-access-point")}
    assert plan.not_planned == len(full.changes) - len(plan.changes) == 1
    assert plan.scope == ("carol",)
    assert [a.collaborator for a in plan.access_changes] == ["carol", "carol"]
    note = "Targeted run (--only carol)"
    assert note in render_text(plan) and "the rest was not planned" in render_text(plan)
    assert note in render_markdown(plan)
    doc = json.loads(render_json(plan))
    assert doc["only"] == ["carol"] and doc["not_planned"] == 1


def test_applying_a_targeted_plan_leaves_everything_else_as_it_is() -> None:
    head, base = head_and_base()
    cloud = broadened_cloud(base)
    drifted = json.dumps(cloud.access_points["alice-access-point"]["policy"], sort_keys=True)
    result = apply_plan(reviewed_plan(head, cloud.read(head), only=["carol"]), cloud)
    assert result.ok and {c.collaborator for c in result.applied} == {"carol", None}
    assert json.dumps(cloud.access_points["alice-access-point"]["policy"], sort_keys=True) == (
        drifted
    )
    again = reviewed_plan(head, cloud.read(head), only=["carol"])
    assert again.is_empty and again.not_planned == 1  # alice's drift is still there
    # so the empty targeted plan never claims that live state matches the file
    applied = render_apply_markdown(again, None, converged=True)
    for rendered in (render_text(again), render_markdown(again), applied):
        assert "No changes for carol." in rendered and "Live state matches" not in rendered


def _arn(name: str) -> str:
    return f"arn:aws:s3:us-east-1:123456789012:accesspoint/{name}"


def _admitted_arns(policy: object) -> list[str]:
    assert isinstance(policy, dict)
    statement = next(s for s in policy["Statement"] if s["Sid"] == SID_DELEGATE)
    values = statement["Condition"]["ArnLike"]["s3:DataAccessPointArn"]
    return [values] if isinstance(values, str) else list(values)


def test_a_targeted_run_delegates_only_to_the_named_collaborators_new_access_point() -> None:
    """Adding carol and dave to an applied file, --only carol: the bucket policy admits carol's
    access point and not dave's, which waits for a full run. (Removing a collaborator with
    --only leaves the bucket policy alone: test_the_mass_guard_counts_within_the_subset.)"""
    cloud = _applied()
    more = config_from(
        BASE_YAML
        + "  - id: carol\n    iam_user: Carol\n    prefix: Carol/\n    access: [read]\n"
        + "  - id: dave\n    iam_user: Dave\n    prefix: Dave/\n    access: [read]\n"
    )
    plan = reviewed_plan(more, cloud.read(more), only=["carol"])
    bucket = next(c for c in plan.changes if c.type is ResourceType.BUCKET_POLICY)
    assert _arn("carol-access-point") in _admitted_arns(bucket.after)
    assert _arn("dave-access-point") not in _admitted_arns(bucket.after)


def test_a_new_bucket_comes_with_the_first_targeted_collaborator() -> None:
    config = config_from(BASE_YAML)
    plan = reviewed_plan(config, FakeCloud().read(config), only=["bob"])
    bucket_level = {c.type for c in plan.changes if c.collaborator is None}
    assert bucket_level == {
        ResourceType.BUCKET,
        ResourceType.BUCKET_ENCRYPTION,
        ResourceType.BUCKET_PUBLIC_ACCESS_BLOCK,
        ResourceType.BUCKET_OWNERSHIP_CONTROLS,
        ResourceType.BUCKET_VERSIONING,
        ResourceType.BUCKET_LIFECYCLE,
        ResourceType.BUCKET_POLICY,
    }
    assert {c.collaborator for c in plan.changes} == {None, "bob"}
    assert plan.refusals == ()


def _applied() -> FakeCloud:
    config = config_from(BASE_YAML)
    cloud = FakeCloud()
    apply_plan(reviewed_plan(config, cloud.read(config)), cloud)
    return cloud


def _drop_statement(cloud: FakeCloud, sid: str) -> None:
    policy = cloud.buckets[BUCKET]["policy"]
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != sid]


def test_the_bucket_policy_is_planned_only_when_the_delegation_is_missing() -> None:
    config = config_from(BASE_YAML)
    cloud = _applied()
    cloud.buckets[BUCKET]["encryption"] = {"SSEAlgorithm": "aws:kms"}
    _drop_statement(cloud, "ReconcilerDelegateToAccessPoints")
    plan = reviewed_plan(config, cloud.read(config), only=["bob"])
    assert [c.type for c in plan.changes] == [ResourceType.BUCKET_POLICY]
    assert plan.not_planned == 1  # the encryption setting is not bob's business


def test_the_gate_judges_the_whole_resulting_state_not_just_the_subset() -> None:
    """TLS-only was removed by hand: a plan for bob alone would leave it removed: refused."""
    config = config_from(BASE_YAML)
    cloud = _applied()
    _drop_statement(cloud, "ReconcilerDenyInsecureTransport")
    cloud.access_points["bob-access-point"]["policy"] = None  # bob has something to apply
    plan = reviewed_plan(config, cloud.read(config), only=["bob"])
    assert [c.type for c in plan.changes] == [ResourceType.ACCESS_POINT_POLICY]
    assert any("tls" in r.lower() for r in plan.refusals), plan.refusals


def test_the_mass_guard_counts_within_the_subset() -> None:
    config = config_from(BASE_YAML)
    cloud = _applied()
    emptier = config_from(BASE_YAML.split("  - id: bob\n")[0])  # only alice is left
    plan = reviewed_plan(emptier, cloud.read(emptier), only=["bob", "partner-site"])
    assert plan.managed_collaborators == ("bob", "partner-site")
    with pytest.raises(RefusedError, match="2 of 2 managed"):
        check_mass_change(plan, max_fraction=0.25, desired_count=len(config.collaborators))
    one = reviewed_plan(emptier, cloud.read(emptier), only=["bob"])
    check_mass_change(one, max_fraction=0.25, desired_count=1)  # one removal is allowed
    assert {c.collaborator for c in one.changes} == {"bob"}


def test_an_unknown_id_is_one_clear_error() -> None:
    config = config_from(BASE_YAML)
    with pytest.raises(UnknownTargetError) as caught:
        reviewed_plan(config, FakeCloud().read(config), only=["alice", "carol"])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("--only carol: no collaborator with this id in collaborators.yaml")
    assert "alice, bob, partner-site" in message
