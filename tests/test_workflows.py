"""The GitHub workflows: valid against GitHub's workflow schema, clean under zizmor's security
audit (pinned actions, least permissions, no template injection), and doing what the docs say.
Both tools run offline. Nothing in .github/workflows suppresses a finding. The plan and apply
workflows are the templates `reconcile init` writes into a config repository, with the
self-repository action reference `$/` (tests/test_init.py checks they are the same); their
github-script steps are run under Node.js against a fake GitHub API (tests/github_script.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.github_script import run_script

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
SELF = "$/"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    # PyYAML reads the key `on` as the boolean True (YAML 1.1)
    data["on"] = data.pop(True)
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_the_three_workflows_exist() -> None:
    assert [f.name for f in FILES] == ["apply.yml", "ci.yml", "plan.yml"]


# --- the two checks, and proof that they can fail ---------------------------------------------


def test_workflows_match_githubs_schema() -> None:
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, FILES)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = run_tool("zizmor", "--offline", "--persona=pedantic", "--format=json", str(WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_no_finding_is_suppressed() -> None:
    """No inline `# zizmor: ignore[...]` and no zizmor config that could disable audits."""
    for path in FILES:
        assert "zizmor: ignore" not in path.read_text(), path
    assert not (ROOT / "zizmor.yml").exists()
    assert not (ROOT / ".github" / "zizmor.yml").exists()


BAD_WORKFLOW = """\
name: bad
on: pull_request
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_checks_catch_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(BAD_WORKFLOW)
    found = run_tool("zizmor", "--offline", "--format=json", str(bad))
    assert found.returncode != 0
    kinds = {finding["ident"] for finding in json.loads(found.stdout)}
    assert {"template-injection", "unpinned-uses", "excessive-permissions"} <= kinds, kinds
    (bad / "invalid.yml").write_text("on: push\njobs:\n  x:\n    steps: not-a-list\n")
    schema = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(bad / "invalid.yml")
    )
    assert schema.returncode != 0


# --- what each workflow does ------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_commit_with_the_version_noted(path: Path) -> None:
    uses = re.findall(r"uses: (.+)$", path.read_text(), re.MULTILINE)
    assert uses
    for ref in uses:
        # `$/` is this repository's own action (action.yml) at the workflow's own commit
        assert SHA_PIN.match(ref) or ref == SELF, ref


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_stored_keys_and_no_expressions_in_scripts(path: Path) -> None:
    text = path.read_text()
    assert "secrets." not in text
    assert "aws-access-key-id" not in text
    workflow = load(path.name)
    assert workflow["permissions"] in ({}, {"contents": "read"})
    for step in steps(workflow):
        assert "${{" not in step.get("run", ""), step
        assert "${{" not in step.get("with", {}).get("script", ""), step


def test_ci_runs_the_same_command_as_ci_run() -> None:
    workflow = load("ci.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert [s["run"] for s in workflow["jobs"]["test"]["steps"] if "run" in s] == ["bash .ci/run"]
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert "pytest" in ci_run and "ruff check" in ci_run and "mypy" in ci_run


def action_steps(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The steps that use this repository's action, by their `command` input."""
    return {s["with"]["command"]: s for s in job["steps"] if s.get("uses") == SELF}


def test_ci_exercises_the_action_against_the_sandbox() -> None:
    job = load("ci.yml")["jobs"]["action"]
    used = action_steps(job)
    assert list(used) == ["validate", "plan", "apply"]
    assert used["plan"]["with"]["args"] == used["apply"]["with"]["args"] == "--sandbox"
    check = job["steps"][-1]
    assert 'test "$PLAN_EXIT" = 2 && test "$PLAN_PENDING" = true' in check["run"]
    assert check["env"]["PLAN_CHECKSUM"] == "${{ steps.plan.outputs.checksum }}"


def test_plan_workflow() -> None:
    workflow = load("plan.yml")
    assert workflow["on"] == {"pull_request": {"paths": ["collaborators.yaml"]}}
    job = workflow["jobs"]["plan"]
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    used = action_steps(job)
    assert list(used) == ["validate", "plan"]
    # the workflow decides about failure after posting the comment
    assert {s["with"]["fail-on-error"] for s in used.values()} == {"false"}
    oidc = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert oidc[0]["with"]["role-to-assume"] == "${{ vars.RECONCILER_PLAN_ROLE_ARN }}"
    assert oidc[0]["if"] == "steps.validate.outputs.exit-code == '0'"
    comment = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))
    assert comment["env"]["PLAN_CHECKSUM"] == "${{ steps.plan.outputs.checksum }}"
    # the base branch's file labels each change edit or drift (issue 16)
    base = next(s for s in job["steps"] if s.get("with", {}).get("path") == ".reconciler-base")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert used["plan"]["with"]["args"] == "--base-config .reconciler-base/collaborators.yaml"


def test_apply_workflow() -> None:
    workflow = load("apply.yml")
    assert set(workflow["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["apply"]
    assert job["if"] == "github.ref_name == github.event.repository.default_branch"
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
        "issues": "write",
    }
    apply = action_steps(job)["apply"]
    assert apply["if"] == ("github.event_name != 'push' || steps.reviewed.outputs.checksum != ''")
    assert "--checksum {0}', steps.reviewed.outputs.checksum" in apply["with"]["args"]
    oidc = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert oidc[0]["with"]["role-to-assume"] == "${{ vars.RECONCILER_APPLY_ROLE_ARN }}"
    assert oidc[0]["if"] == apply["if"]


# --- the github-script steps, run for real with node and a fake GitHub API --------------------

CHECKSUM = "c" * 64
HEAD = "abcdef1234567890" + "0" * 24
MARKER = "<!-- reconciler-plan -->"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def script(workflow: str, step_id: str | None = None) -> tuple[str, dict[str, str]]:
    found = [
        s
        for s in steps(load(workflow))
        if "github-script" in s.get("uses", "") and (step_id is None or s.get("id") == step_id)
    ]
    return found[0]["with"]["script"], found[0].get("env", {})


def post_plan(tmp_path: Path, comments: list[dict[str, Any]], **files: str) -> list[Any]:
    """Run the plan comment script after a plan that wrote `files` (plan, log, validate...)."""
    code, _ = script("plan.yml")
    env = {"VALIDATE_EXIT": files.pop("validate_exit", "0"), "PLAN_EXIT": files.pop("exit", "2")}
    env["PLAN_CHECKSUM"] = files.pop("checksum", CHECKSUM)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        env[f"{name.split('.')[0].upper()}_{name.split('.')[1].upper()}"] = str(tmp_path / name)
    context = {"payload": {"pull_request": {"number": 7, "head": {"sha": HEAD}}}}
    done = run_script(tmp_path, code, context=context, env=env, listComments=comments)
    calls: list[Any] = done["calls"]
    return calls


def test_first_push_creates_the_plan_comment_with_commit_and_checksum(tmp_path: Path) -> None:
    calls = post_plan(
        tmp_path, [], **{"plan.output": "### Reconciler plan\n\n**Plan: 1 to create**\n"}
    )
    assert [c[0] for c in calls] == ["listComments", "createComment"]
    body = calls[1][1]["body"]
    assert calls[1][1]["issue_number"] == 7
    assert body.startswith("<!-- reconciler-plan -->\n### Reconciler plan\n\n**Plan: 1 to create**")
    assert "Commit abcdef1" in body and "https://github.com/org/share/actions/runs/42" in body
    assert body.endswith(
        f"<!-- reconciler-plan-commit: {HEAD} -->\n<!-- reconciler-plan-checksum: {CHECKSUM} -->\n"
    )


def test_later_pushes_update_the_same_comment_only(tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"login": "mallory", "type": "User"}, "body": "<!-- reconciler-plan -->"},
        {
            "id": 2,
            "user": {"login": "other[bot]", "type": "Bot"},
            "body": "<!-- reconciler-plan -->",
        },
        {"id": 3, "user": BOT, "body": "<!-- reconciler-plan -->\nold plan"},
    ]
    calls = post_plan(tmp_path, comments, **{"plan.output": "### Reconciler plan\n\nnew plan\n"})
    assert [c[0] for c in calls] == ["listComments", "updateComment"]
    assert calls[1][1]["comment_id"] == 3
    assert "new plan" in calls[1][1]["body"]


def test_a_failed_plan_posts_its_error_as_code_and_no_checksum(tmp_path: Path) -> None:
    files = {"plan.output": "", "plan.log": "error: no AWS credentials found\n```\n<b>\n::error::x"}
    calls = post_plan(tmp_path, [], exit="1", **files)
    body = calls[1][1]["body"]
    assert "**No plan: the command failed.**" in body
    assert "\n    error: no AWS credentials found\n    ```\n    <b>\n" in body
    assert "::error" not in body
    assert body.endswith("<!-- reconciler-plan-checksum: none -->\n")


def test_a_refused_plan_is_shown_but_carries_no_checksum(tmp_path: Path) -> None:
    calls = post_plan(tmp_path, [], exit="3", **{"plan.output": "### Reconciler plan\n\nrefused\n"})
    assert calls[1][1]["body"].endswith("<!-- reconciler-plan-checksum: none -->\n")


def test_an_invalid_file_posts_the_problems(tmp_path: Path) -> None:
    files = {
        "validate.output": "",
        "validate.log": "collaborators.yaml:9:5: collaborators[0].id: 'Alice' is not valid\n",
    }
    calls = post_plan(tmp_path, [], validate_exit="1", exit="", **files)
    body = calls[1][1]["body"]
    assert "**No plan: collaborators.yaml is not valid.**" in body
    assert "\n    collaborators.yaml:9:5: collaborators[0].id:" in body


# --- the apply workflow: the reviewed plan, then the report ---------------------------------


def find_reviewed(tmp_path: Path, pulls: list[Any], comments: list[Any]) -> dict[str, str]:
    code, _ = script("apply.yml", "reviewed")
    context = {"sha": "m" * 40, "eventName": "push"}
    done = run_script(tmp_path, code, context=context, pulls=pulls, listComments=comments)
    outputs: dict[str, str] = done["outputs"]
    return outputs


MERGED = {
    "number": 7,
    "merged_at": "2026-01-01",
    "merge_commit_sha": "m" * 40,
    "head": {"sha": HEAD},
}


def plan_comment(commit: str = HEAD, checksum: str = CHECKSUM) -> dict[str, Any]:
    body = (
        f"{MARKER}\n### Reconciler plan\n\n<sub>x</sub>\n"
        f"<!-- reconciler-plan-commit: {commit} -->\n"
        f"<!-- reconciler-plan-checksum: {checksum} -->\n"
    )
    return {"id": 3, "user": BOT, "body": body}


def test_a_merge_applies_the_checksum_last_posted_for_its_last_commit(tmp_path: Path) -> None:
    outputs = find_reviewed(tmp_path, [MERGED], [plan_comment()])
    assert outputs == {"pull-request": "7", "checksum": CHECKSUM}


@pytest.mark.parametrize(
    ("pulls", "comments", "problem"),
    [
        ([], [], "reached the default branch without a merged pull request"),
        ([{**MERGED, "merged_at": None}], [], "without a merged pull request"),
        ([MERGED], [], "no plan was posted on #7"),
        ([MERGED], [{**plan_comment(), "user": {"login": "mallory"}}], "no plan was posted"),
        ([MERGED], [plan_comment(commit="1" * 40)], "is not for its last commit abcdef1"),
        ([MERGED], [plan_comment(checksum="none")], "has no checksum: it failed"),
    ],
    ids=["no-pr", "not-merged", "no-plan", "forged", "stale", "failed-plan"],
)
def test_a_merge_without_a_reviewed_plan_stops(
    tmp_path: Path, pulls: list[Any], comments: list[Any], problem: str
) -> None:
    outputs = find_reviewed(tmp_path, pulls, comments)
    assert problem in outputs["problem"]
    assert "checksum" not in outputs


def report(
    tmp_path: Path, event: str, issues: list[Any] | None = None, **env: str
) -> dict[str, Any]:
    code, _ = script("apply.yml", "report")
    for name in ("output", "log"):
        if name in env:
            (tmp_path / f"apply.{name}").write_text(env[name])
            env[f"APPLY_{name.upper()}"] = str(tmp_path / f"apply.{name}")
    env = {k: v for k, v in env.items() if k.isupper()}
    return run_script(
        tmp_path, code, context={"eventName": event}, env=env, listForRepo=issues or []
    )


OPEN_ISSUE = {"number": 12, "body": "<!-- reconciler-apply-status -->\nold", "user": BOT}


def test_a_merge_posts_its_result_on_the_pull_request(tmp_path: Path) -> None:
    done = report(
        tmp_path,
        "push",
        PULL_REQUEST="7",
        APPLY_EXIT="0",
        APPLY_CHANGES="true",
        output="### Reconciler apply\n\n**2 applied, 0 failed, 0 skipped.** Converged.\n",
    )
    assert done["outputs"] == {"status": "ok"}
    posted = [c[1] for c in done["calls"] if c[0] == "createComment"]
    assert len(posted) == 1 and posted[0]["issue_number"] == 7
    assert "**2 applied, 0 failed, 0 skipped.**" in posted[0]["body"]


def test_a_stopped_merge_says_why_on_the_pull_request_and_in_the_issue(tmp_path: Path) -> None:
    done = report(tmp_path, "push", PULL_REQUEST="7", PROBLEM="no plan was posted on #7.")
    assert done["outputs"] == {"status": "stopped"}
    comment, issue = [c for c in done["calls"] if c[0] in ("createComment", "create")]
    assert comment[1]["issue_number"] == 7
    assert "**Not applied: no plan was posted on #7.**" in comment[1]["body"]
    assert issue[1]["title"] == "Reconciler: the merge apply run stopped: nothing applied"
    assert issue[1]["body"].startswith("<!-- reconciler-apply-status -->\n")
    assert "Not applied" in done["summary"]


def test_a_checksum_refusal_at_merge_is_reported_with_the_tools_message(tmp_path: Path) -> None:
    log = "error: the plan changed since it was reviewed (checksum cccc... reviewed, dddd... now)"
    done = report(tmp_path, "push", PULL_REQUEST="7", APPLY_EXIT="3", output="", log=log)
    assert done["outputs"] == {"status": "stopped"}
    body = next(c[1]["body"] for c in done["calls"] if c[0] == "createComment")
    assert "the plan at merge differs from the plan reviewed on the pull request" in body
    assert "\n    error: the plan changed since it was reviewed" in body


def test_nightly_drift_is_corrected_and_kept_in_one_issue(tmp_path: Path) -> None:
    output = "### Reconciler apply\n\n**1 applied, 0 failed, 0 skipped.**\n"
    first = report(tmp_path, "schedule", APPLY_EXIT="0", APPLY_CHANGES="true", output=output)
    assert first["outputs"] == {"status": "drift"}
    assert [c[0] for c in first["calls"]] == ["listForRepo", "create"]
    assert first["calls"][1][1]["title"] == "Reconciler: the nightly apply run corrected drift"
    assert "**Drift corrected:**" in first["calls"][1][1]["body"]
    again = report(
        tmp_path, "schedule", [OPEN_ISSUE], APPLY_EXIT="0", APPLY_CHANGES="true", output=output
    )
    assert [c[0] for c in again["calls"]] == ["listForRepo", "update", "createComment"]
    assert again["calls"][1][1]["issue_number"] == 12


def test_a_failed_nightly_run_updates_the_issue(tmp_path: Path) -> None:
    done = report(tmp_path, "schedule", [OPEN_ISSUE], APPLY_EXIT="1", output="", log="error: x")
    assert done["outputs"] == {"status": "failed"}
    update = next(c[1] for c in done["calls"] if c[0] == "update")
    assert update["title"] == "Reconciler: the nightly apply run failed"
    assert "**The apply failed (exit 1).**" in update["body"]


def test_a_clean_run_closes_the_issue(tmp_path: Path) -> None:
    others = [
        {"number": 3, "body": "a person's issue", "user": {"login": "bob"}},
        {**OPEN_ISSUE, "number": 4, "user": {"login": "mallory"}},
        {**OPEN_ISSUE, "number": 5, "pull_request": {}},
    ]
    done = report(
        tmp_path,
        "schedule",
        [*others, OPEN_ISSUE],
        APPLY_EXIT="0",
        APPLY_CHANGES="false",
        output="### Reconciler apply\n\n**No drift.**\n",
    )
    assert done["outputs"] == {"status": "ok"}
    assert [c[0] for c in done["calls"]] == ["listForRepo", "createComment", "update"]
    assert done["calls"][2][1] == {
        "owner": "org",
        "repo": "share",
        "issue_number": 12,
        "state": "closed",
        "state_reason": "completed",
    }
    assert done["summary"] == ""


def test_a_clean_run_without_an_issue_opens_none(tmp_path: Path) -> None:
    done = report(tmp_path, "schedule", [], APPLY_EXIT="0", APPLY_CHANGES="false", output="x")
    assert [c[0] for c in done["calls"]] == ["listForRepo"]
