"""Drift told apart from the edit under review (issue 16, section 1): `plan --base-config`
labels each change `edit` or `drift`; without it, the audit trail shows whether the file changed
since the last apply. Labels are display only: the checksum and apply never see them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reconciler.access.review import reviewed_plan
from reconciler.apply.audit import last_completed_apply, unchanged_since
from reconciler.apply.executor import apply_plan
from reconciler.cli.origins import Labels, base_labels
from reconciler.model import ResourceType
from reconciler.plan import origin
from reconciler.plan.changes import Origin, Plan
from reconciler.plan.safety import check_reviewed
from reconciler.render.json_plan import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.review import DRIFT_TITLE
from reconciler.render.text import render_text
from tests.conftest import BASE_YAML, config_from
from tests.review_support import broadened_cloud, head_and_base

TODAY = date(2025, 6, 20)


def labelled() -> Plan:
    head, base = head_and_base()
    cloud = broadened_cloud(base)
    live = cloud.read(head)
    return Labels(base=base).label(reviewed_plan(head, live, today=TODAY), head, live, TODAY)


def test_the_new_collaborator_is_the_edit_and_the_hand_broadened_policy_is_drift() -> None:
    plan = labelled()
    origins = {(c.type, c.id): c.origin for c in plan.changes}
    assert origins[(ResourceType.ACCESS_POINT_POLICY, "alice-access-point")] is Origin.DRIFT
    carol = [c for c in plan.changes if c.collaborator == "carol"]
    assert carol and {c.origin for c in carol} == {Origin.EDIT}
    assert {c.origin for c in plan.changes} == {Origin.EDIT, Origin.DRIFT}


def test_an_edit_of_a_drifted_resource_is_an_edit() -> None:
    """Base and head both rewrite alice's policy, but to different documents: the edit wins."""
    head_text = BASE_YAML.replace("    access: [write]\n", "    access: [write, list]\n", 1)
    head, base = config_from(head_text), config_from(BASE_YAML)
    live = broadened_cloud(base).read(head)
    plan = Labels(base=base).label(reviewed_plan(head, live), head, live, TODAY)
    policy = next(c for c in plan.changes if c.id == "alice-access-point")
    assert policy.origin is Origin.EDIT


def test_labels_never_enter_the_checksum_or_the_reviewed_plan_binding() -> None:
    plan = labelled()
    bare = replace(plan, changes=tuple(replace(c, origin=None) for c in plan.changes))
    assert plan.checksum() == bare.checksum()
    saved = json.loads(render_json(plan))
    assert {c["origin"] for c in saved["changes"]} == {"edit", "drift"}
    # apply --plan-file with the labelled file accepts the unlabelled fresh plan
    check_reviewed(bare, checksum=saved["checksum"], reviewed_changes=saved["changes"])


def test_text_shows_drift_first_in_its_own_section_worded_for_a_reviewer() -> None:
    text = render_text(labelled())
    assert text.startswith(DRIFT_TITLE + "\n")
    drift_section = text.split("\n\n")[0]
    assert "~ access_point_policy alice-access-point" in drift_section
    assert "carol" not in drift_section.lower()
    assert "will be reverted" in drift_section
    rest = text[len(drift_section) :]
    assert "Collaborator carol" in rest
    assert "alice-access-point" not in rest.split("Collaborator carol")[1]


def test_markdown_shows_drift_before_access_changes() -> None:
    markdown = render_markdown(labelled())
    assert markdown.index(f"#### {DRIFT_TITLE}") < markdown.index("#### Access changes")
    drift = markdown.split(f"#### {DRIFT_TITLE}")[1].split("####")[0]
    assert "access_point_policy alice-access-point" in drift
    assert "Carol" not in drift


def test_unlabelled_plans_render_as_before() -> None:
    head, base = head_and_base()
    plan = reviewed_plan(head, broadened_cloud(base).read(head))
    assert DRIFT_TITLE not in render_text(plan)
    assert all("origin" not in c for c in json.loads(render_json(plan))["changes"])


def test_all_drift_when_the_file_is_unchanged_except_suspensions_its_expiry_starts() -> None:
    base = config_from(BASE_YAML)
    cloud = broadened_cloud(base)
    expiring = config_from(
        BASE_YAML.replace("  - id: bob\n", "  - id: bob\n    expires: 2025-06-01\n")
    )
    live = cloud.read(expiring)
    plan = Labels(basis="unchanged since the last apply.").label(
        reviewed_plan(expiring, live, today=TODAY), expiring, live, TODAY
    )
    by_collaborator = {c.collaborator: c.origin for c in plan.changes}
    assert by_collaborator == {"alice": Origin.DRIFT, "bob": Origin.EDIT}
    assert "unchanged since the last apply." in render_text(plan)
    assert json.loads(render_json(plan))["origin_basis"] == "unchanged since the last apply."


def test_the_last_completed_apply_decides_whether_the_file_changed() -> None:
    applied = {"time": "2025-06-19T03:17:00", "outcome": "applied", "converged": True}
    records = [
        json.dumps({"time": "2025-06-20T03:17:00", "outcome": "failed", "config_sha256": "x"}),
        "not json",
        json.dumps({**applied, "config_sha256": "abc", "github": {"sha": "0123456789abcdef0"}}),
        json.dumps({**applied, "config_sha256": "old"}),
    ]
    record = last_completed_apply(records)
    assert record is not None and record["config_sha256"] == "abc"
    basis = unchanged_since(record, "abc", "collaborators.yaml")
    assert "has not changed since the last apply" in basis and "0123456789ab," not in basis
    assert "commit 0123456789ab)" in basis
    assert unchanged_since(record, "def", "collaborators.yaml") == ""
    assert unchanged_since(None, "abc", "collaborators.yaml") == ""
    assert last_completed_apply([json.dumps({**applied, "converged": False})]) is None
    targeted = json.dumps({**applied, "config_sha256": "abc", "only": ["carol"]})
    assert last_completed_apply([targeted]) is None  # the rest of the file was not applied


def test_origin_label_matches_changes_by_action_type_id_and_content() -> None:
    head, base = head_and_base()
    live = broadened_cloud(base).read(head)
    plan = reviewed_plan(head, live)
    assert {c.origin for c in origin.label(plan, plan).changes} == {Origin.DRIFT}
    assert {c.origin for c in origin.label(plan, Plan()).changes} == {Origin.EDIT}


def test_a_base_file_missing_on_the_base_branch_makes_every_change_an_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "collaborators.yaml"
    labels = base_labels(str(missing))
    assert capsys.readouterr().err == (  # one line: a mistyped path does not hide drift silently
        f"note: --base-config {missing} does not exist: taken as a file new on the base branch, "
        "every change is labelled edit (check the path if the file is not new)\n"
    )
    head, base = head_and_base()
    live = broadened_cloud(base).read(head)
    plan = labels.label(reviewed_plan(head, live), head, live, TODAY)
    assert plan.changes and {c.origin for c in plan.changes} == {Origin.EDIT}


def test_a_base_file_that_does_not_load_costs_only_the_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "base.yaml"
    old.write_text("version: 1\naccount_id: 12\n")
    assert base_labels(str(old)) == Labels()
    warning = capsys.readouterr().err
    assert warning.startswith(f"warning: --base-config {old}: drift not told apart: ")
    assert warning.count("\n") == 1


def test_apply_does_the_same_with_or_without_labels() -> None:
    head, base = head_and_base()
    labelled_cloud, bare_cloud = broadened_cloud(base), broadened_cloud(base)
    live = labelled_cloud.read(head)
    plan = reviewed_plan(head, live, today=TODAY)
    labelled_cloud.calls.clear()
    bare_cloud.calls.clear()
    apply_plan(Labels(base=base).label(plan, head, live, TODAY), labelled_cloud)
    apply_plan(plan, bare_cloud)
    assert sorted(map(repr, labelled_cloud.calls)) == sorted(map(repr, bare_cloud.calls))
    assert labelled_cloud.calls
    assert labelled_cloud.read(head) == bare_cloud.read(head)
