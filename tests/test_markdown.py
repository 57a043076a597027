"""The Markdown plan (pull-request comments, job summaries): golden files, the size cap, and
text from AWS that must not turn into Markdown or HTML."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.model import Config, ResourceType
from reconciler.plan.changes import AccessChange, Action, Change, Plan
from reconciler.render.markdown import (
    DEFAULT_MAX_CHARS,
    GITHUB_COMMENT_LIMIT,
    render_apply_markdown,
    render_markdown,
)
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud
from tests.test_golden import check_golden, create_plan, drift_plan

HEADER = BASE_YAML.split("collaborators:\n")[0] + "collaborators:\n"


def many_collaborators(count: int) -> Config:
    entries = "".join(
        f"  - id: site-{i:04d}\n    iam_user: Site{i:04d}\n    access: [write, read, list]\n"
        for i in range(count)
    )
    # so many access points are delegated to by prefix: their exact list would not fit the
    # 20 KB bucket policy (issue 22)
    prefix = "access_point_prefix: big-\n" if count > 100 else ""
    return config_from(HEADER.replace("collaborators:\n", prefix + "collaborators:\n") + entries)


@pytest.mark.parametrize(("name", "build"), [("create", create_plan), ("drift", drift_plan)])
def test_markdown_plan_matches_golden(config: Config, name: str, build: object) -> None:
    assert callable(build)
    check_golden(f"{name}.md", render_markdown(build(config)))


def test_sections_are_collapsible_and_access_first(config: Config) -> None:
    text = render_markdown(drift_plan(config))
    assert text.startswith("### Reconciler plan\n\n**Plan: 1 to create, 2 to update")
    assert text.count("<details>") == text.count("</details>") == 4
    assert "<summary><code>bob</code>: 3 to delete</summary>" in text
    # the counts table comes before the warnings and the details
    assert text.index("| **Total** |") < text.index("#### Warnings") < text.index("#### Details")
    assert "Output truncated" not in text


def test_access_changes_come_before_everything_else(config: Config) -> None:
    base = drift_plan(config)
    widened = AccessChange("alice", "write", "Bob/", "alice-access-point", "deny", "allow")
    text = render_markdown(replace(base, access_changes=(widened,)))
    assert "#### Access changes" in text
    assert text.index("#### Access changes") < text.index("#### Warnings")
    assert "- alice: + write Bob/ via alice-access-point" in text


def test_2000_collaborators_fit_in_one_comment_with_a_truncation_note() -> None:
    config = many_collaborators(2000)
    big = plan(config, FakeCloud().read(config))
    # per collaborator: user, access point and its policy (no console); 7 bucket-level creates
    assert len(big.changes) == 2000 * 3 + 7
    text = render_markdown(big)
    assert len(text) <= DEFAULT_MAX_CHARS < GITHUB_COMMENT_LIMIT
    assert "**Plan: 6007 to create, 0 to update, 0 to replace, 0 to delete.**" in text
    assert "| **Total** | **6007** | **0** | **0** | **0** |" in text
    shown = text.count("<details>")
    assert text.count("</details>") == shown and 10 < shown < 2001
    note = re.search(r"(\d+) of 2001 collaborator sections not shown", text)
    assert note is not None, text[-800:]
    assert int(note.group(1)) == 2001 - shown
    assert text.rstrip().endswith("run `reconcile plan` to see every change.")
    # every shown section is whole: fences balanced (diff sections and the access-change list)
    assert text.count("```") % 2 == 0 and text.count("```diff") == shown
    assert "#### Access changes" in text
    assert re.search(r"\d+ access changes, \d+ of 2001 collaborator sections not shown", text)


def test_long_lists_of_warnings_are_truncated_too() -> None:
    warnings = [
        f"access point legacy-{i:05d} is not managed by this tool: left alone" for i in range(5000)
    ]
    text = render_markdown(Plan.build([], warnings=warnings), max_chars=20_000)
    assert len(text) <= 20_000
    match = re.search(r"(\d+) warnings not shown", text)
    assert match is not None
    assert int(match.group(1)) == 5000 - text.count("- access point legacy-")
    assert text.count("```text") == 1 and text.count("```") == 2


def test_text_from_aws_cannot_inject_markdown_or_html() -> None:
    hostile = "x</summary><img src=x onerror=alert(1)>@everyone"
    change = Change(
        Action.DELETE, ResourceType.ACCESS_POINT, "old-ap", hostile, {"bucket": "b"}, None
    )
    policy_change = Change(
        Action.UPDATE,
        ResourceType.BUCKET_POLICY,
        "b",
        None,
        {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:Get```Object"}]},
        {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:Get````Object"}]},
    )
    text = render_markdown(Plan.build([change, policy_change]))
    assert "<img" not in text and "</summary><" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;@everyone" in text
    # a fence longer than any backtick run inside it
    assert "`````diff\n" in text


def test_empty_plan_markdown() -> None:
    assert render_markdown(Plan()) == (
        "### Reconciler plan\n\n**No changes. Live state matches collaborators.yaml.**\n\n"
    )


def test_apply_markdown_says_what_changed_or_that_nothing_drifted(config: Config) -> None:
    cloud = FakeCloud()
    first = plan(config, cloud.read(config))
    result = apply_plan(first, cloud)
    text = render_apply_markdown(first, result, converged=True)
    assert text.startswith(
        "### Reconciler apply\n\n**15 applied, 0 failed, 0 skipped.** Converged: a fresh plan "
        "finds no changes.\n"
    )
    assert "#### Changes" in text and "<summary><code>alice</code>: 3 to create</summary>" in text
    second = plan(config, cloud.read(config))
    assert render_apply_markdown(second, None, converged=True) == (
        "### Reconciler apply\n\n**No drift.** Live state matches collaborators.yaml; "
        "nothing changed.\n"
    )


def test_apply_markdown_lists_failures(config: Config) -> None:
    cloud = FakeCloud(fail=lambda name, args: name == "create_user" and args[0] == "Bob")
    first = plan(config, cloud.read(config))
    result = apply_plan(first, cloud)
    text = render_apply_markdown(first, result, converged=False)
    assert "1 failed, 2 skipped.** Not converged" in text
    assert "- + iam_user Bob: InternalError: injected failure in create_user" in text


def test_lifecycle_events_are_listed_distinctly(config: Config) -> None:
    from reconciler.plan.changes import CollaboratorEvent, EventKind

    base = drift_plan(config)
    event = CollaboratorEvent("alice", EventKind.SUSPEND, "expired on 2025-07-01")
    text = render_markdown(replace(base, events=(event,)))
    assert "#### Lifecycle (suspend, reactivate, adopt)" in text
    assert "- suspend alice: expired on 2025-07-01" in text
    assert text.index("#### Lifecycle") < text.index("#### Details")
