"""The GitHub workflows: valid against GitHub's workflow schema, clean under zizmor's security
audit (pinned actions, least permissions, no template injection), and doing what the docs say.
Both tools run offline. Nothing in .github/workflows suppresses a finding."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
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
        assert SHA_PIN.match(ref), ref


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
    assert [s["run"] for s in steps(workflow) if "run" in s] == ["bash .ci/run"]
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert "pytest" in ci_run and "ruff check" in ci_run and "mypy" in ci_run


def test_plan_workflow() -> None:
    workflow = load("plan.yml")
    assert workflow["on"] == {"pull_request": {"paths": ["collaborators.yaml"]}}
    job = workflow["jobs"]["plan"]
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "reconcile validate" in runs
    assert "reconcile plan --format markdown --detailed-exitcode > plan.md" in runs
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs
    # the base branch's file labels changes edit or drift (issue 16)
    base = next(s for s in job["steps"] if s.get("with", {}).get("path") == "base")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert "export RECONCILE_BASE_CONFIG=base/collaborators.yaml" in runs
    oidc = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert oidc[0]["with"]["role-to-assume"] == "${{ vars.RECONCILER_PLAN_ROLE_ARN }}"


def test_apply_workflow() -> None:
    workflow = load("apply.yml")
    assert set(workflow["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["apply"]
    assert job["if"] == "github.ref_name == github.event.repository.default_branch"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "reconcile apply --auto-approve --format markdown" in runs
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs
    oidc = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert oidc[0]["with"]["role-to-assume"] == "${{ vars.RECONCILER_APPLY_ROLE_ARN }}"


# --- the sticky comment, run for real with node and a fake GitHub API -------------------------

HARNESS = """
const fs = require('fs');
const state = JSON.parse(fs.readFileSync('state.json', 'utf8'));
const calls = [];
const github = {
  paginate: async (method, params) => { calls.push(['list', params]); return state.comments; },
  rest: { issues: {
    listComments: 'listComments',
    updateComment: async (p) => { calls.push(['update', p]); },
    createComment: async (p) => { calls.push(['create', p]); },
  } },
};
const context = {
  repo: { owner: 'org', repo: 'share' }, serverUrl: 'https://github.com', runId: 42,
  payload: { pull_request: { number: 7, head: { sha: 'abcdef1234567890' } } },
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = fs.readFileSync('script.js', 'utf8');
new AsyncFunction('require', 'github', 'context', script)(require, github, context)
  .then(() => process.stdout.write(JSON.stringify(calls)));
"""


def run_comment_script(
    tmp_path: Path, comments: list[dict[str, Any]], plan: str, err: str = ""
) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (GitHub's runners have it)")
    step = next(s for s in steps(load("plan.yml")) if "github-script" in s.get("uses", ""))
    (tmp_path / "script.js").write_text(step["with"]["script"])
    (tmp_path / "harness.js").write_text(HARNESS)
    (tmp_path / "state.json").write_text(json.dumps({"comments": comments}))
    (tmp_path / "plan.md").write_text(plan)
    (tmp_path / "plan.err").write_text(err)
    result = subprocess.run(
        [node, "harness.js"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    calls: list[Any] = json.loads(result.stdout)
    return calls


def test_first_push_creates_the_plan_comment(tmp_path: Path) -> None:
    calls = run_comment_script(tmp_path, [], "### Reconciler plan\n\n**Plan: 1 to create**\n")
    assert [c[0] for c in calls] == ["list", "create"]
    body = calls[1][1]["body"]
    assert calls[1][1]["issue_number"] == 7
    assert body.startswith("<!-- reconciler-plan -->\n### Reconciler plan\n\n**Plan: 1 to create**")
    assert "Commit abcdef1" in body and "https://github.com/org/share/actions/runs/42" in body


def test_later_pushes_update_the_same_comment_only(tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"type": "User"}, "body": "<!-- reconciler-plan --> quoted by a person"},
        {"id": 2, "user": {"type": "Bot"}, "body": "<!-- reconciler-plan -->\nold plan"},
        {"id": 3, "user": {"type": "Bot"}, "body": "another bot"},
    ]
    calls = run_comment_script(tmp_path, comments, "### Reconciler plan\n\nnew plan\n")
    assert [c[0] for c in calls] == ["list", "update"]
    assert calls[1][1]["comment_id"] == 2
    assert "new plan" in calls[1][1]["body"]


def test_a_failed_plan_posts_its_error_as_code(tmp_path: Path) -> None:
    calls = run_comment_script(tmp_path, [], "", err="error: no AWS credentials found\n```\n<b>")
    body = calls[1][1]["body"]
    assert "**No plan: the command failed.**" in body
    assert "\n    error: no AWS credentials found\n    ```\n    <b>" in body
