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


def test_the_four_workflows_exist() -> None:
    assert [f.name for f in FILES] == ["apply.yml", "ci.yml", "plan.yml", "release.yml"]


# --- the two checks, and proof that they can fail ---------------------------------------------


@pytest.fixture(scope="module", params=["project", "init"])
def workflow_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The project's .github/workflows (release.yml included), and the workflows every
    `reconcile init` template writes into a config repository."""
    if request.param == "project":
        return WORKFLOWS
    from reconciler.starter import ActionRef, config_repository

    root = tmp_path_factory.mktemp("init-repo")
    action = ActionRef.parse("my-org/s3-collaborator-reconciler@" + "0" * 40)
    for path, text in config_repository(action).items():
        if path.startswith(".github/workflows/"):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
    return root / ".github" / "workflows"


def test_workflows_match_githubs_schema(workflow_folder: Path) -> None:
    files = sorted(workflow_folder.glob("*.yml"))
    assert files
    result = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing(workflow_folder: Path) -> None:
    result = run_tool(
        "zizmor", "--offline", "--persona=pedantic", "--format=json", str(workflow_folder)
    )
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


# --- the fan-out: one job per share (docs/many-shares.md, "Fan-out") -------------------------

EMPTY_GUARD = "fromJSON(needs.shares.outputs.matrix).include[0] != null"
MATRIX = "${{ fromJSON(needs.shares.outputs.matrix) }}"


def run_step(workflow: str, job: str, step_id: str) -> dict[str, Any]:
    step = next(s for s in load(workflow)["jobs"][job]["steps"] if s.get("id") == step_id)
    return step


def check_shares_job(job: dict[str, Any]) -> None:
    """The first job: checks out the history, lists the share files, prints the matrix."""
    assert job["permissions"] == {"contents": "read"}
    assert set(job["outputs"]) >= {"matrix"}
    assert job["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    assert job["steps"][0]["with"]["persist-credentials"] is False
    install = next(s for s in job["steps"] if s.get("id") == "install")
    assert install["uses"] == SELF and install["with"]["fail-on-error"] == "false"
    matrix = next(s for s in job["steps"] if s.get("id") == "matrix")
    assert matrix["env"]["RECONCILE"] == "${{ steps.install.outputs.reconcile }}"
    assert '"$RECONCILE" matrix "${files[@]}"' in matrix["run"]


def check_matrix_job(job: dict[str, Any], role: str) -> None:
    """A matrix job per share: never empty, no share stops the others, its account's role."""
    assert job["needs"] == "shares"
    assert job["if"] == EMPTY_GUARD
    assert job["strategy"] == {"fail-fast": False, "matrix": MATRIX}
    oidc = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert oidc["with"]["role-to-assume"] == (
        f"arn:aws:iam::${{{{ matrix.account_id }}}}:role/"
        f"${{{{ vars.RECONCILER_{role.upper()}_ROLE_NAME || 'reconciler-{role}' }}}}"
    )
    assert oidc["with"]["aws-region"] == "${{ matrix.region }}"
    for step in action_steps(job).values():
        assert step["with"]["config"] == "${{ matrix.config }}"
        assert step["with"]["fail-on-error"] == "false"


def check_gathering_job(job: dict[str, Any], needs: list[str]) -> None:
    assert job["needs"] == needs
    assert job["if"] == (
        "${{ !cancelled() && needs.shares.result == 'success' && " + EMPTY_GUARD + " }}"
    )


def test_plan_workflow() -> None:
    workflow = load("plan.yml")
    # no path filter: its last job is a required check (tests/test_workflow_triggers.py)
    assert workflow["on"] == {"pull_request": None}
    assert list(workflow["jobs"]) == ["shares", "plan", "comment"]
    shares, plan, comment = workflow["jobs"].values()
    check_shares_job(shares)
    # on a pull request, only the shares it changed (every share when a shared file changed)
    matrix = run_step("plan.yml", "shares", "matrix")
    assert matrix["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert '--changed-since "origin/$BASE_REF"' in matrix["run"]
    check_matrix_job(plan, "plan")
    # no environment: the plan role trusts the `sub` of a pull request, repo:OWNER/REPO:pull_request
    assert all("environment" not in job for job in workflow["jobs"].values())
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    used = action_steps(plan)
    assert list(used) == ["validate", "plan"]
    oidc = next(s for s in plan["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert oidc["if"] == "steps.validate.outputs.exit-code == '0'"
    # the base branch's copy of THIS share's file labels each change edit or drift (issue 16)
    base = next(s for s in plan["steps"] if s.get("with", {}).get("path") == ".reconciler-base")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert base["with"]["sparse-checkout"] == "${{ matrix.config }}"
    assert used["plan"]["with"]["args"] == "--base-config .reconciler-base/${{ matrix.config }}"
    keep = run_step("plan.yml", "plan", "share")
    assert keep["env"]["PLAN_CHECKSUM"] == "${{ steps.plan.outputs.checksum }}"
    upload = next(s for s in plan["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "reconciler-plan-${{ matrix.name }}"
    assert upload["with"]["path"] == "${{ runner.temp }}/reconciler-share/"
    # one comment for every share, and what clashes across files; the required check: it
    # always runs, and decides in its first step whether any share changed
    assert comment["needs"] == ["shares", "plan"]
    assert comment["if"] == "${{ !cancelled() }}"
    changed = comment["steps"][0]
    assert changed["id"] == "changed"
    assert changed["env"]["CHANGED"] == (
        "${{ needs.shares.result == 'success' && " + EMPTY_GUARD + " }}"
    )
    for step in comment["steps"][1:]:
        assert "steps.changed.outputs.any == 'true'" in step["if"], step
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert action_steps(comment)["validate"]["with"]["args"] == (
        "${{ needs.shares.outputs.paths }}"
    )
    download = next(s for s in comment["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["pattern"] == "reconciler-plan-*"
    gather = run_step("plan.yml", "comment", "gather")
    assert '"$RECONCILE" gather' in gather["run"]


def test_apply_workflow() -> None:
    workflow = load("apply.yml")
    assert set(workflow["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert workflow["on"]["push"] == {
        "branches": ["main"],
        "paths": ["collaborators.yaml", "shares/**"],
    }
    # no run-wide limit: it would keep two shares of two runs from applying in parallel
    assert "concurrency" not in workflow
    assert list(workflow["jobs"]) == ["shares", "apply", "verify", "report"]
    shares, apply_job, verify_job, report_job = workflow["jobs"].values()
    # a schedule's payload has no `repository` (tests/test_workflow_triggers.py)
    assert shares["if"] == (
        "github.event_name == 'schedule' || "
        "github.ref_name == github.event.repository.default_branch"
    )
    check_shares_job(shares)
    matrix = run_step("apply.yml", "shares", "matrix")
    assert matrix["env"]["BEFORE"] == "${{ github.event.before }}"
    assert '--changed-since "$BEFORE"' in matrix["run"]
    check_matrix_job(apply_job, "apply")
    # the only job that assumes the apply role runs in the environment its trust policy names
    # (tests/test_oidc_trust.py); the jobs that hold no AWS role stay out of it
    assert apply_job["environment"] == "reconciler-apply"
    assert "environment" not in shares and "environment" not in report_job
    assert "environment" not in verify_job
    # one share never twice at once, a running apply never cancelled
    assert apply_job["concurrency"] == {
        "group": "reconciler-apply-${{ matrix.name }}",
        "cancel-in-progress": False,
    }
    assert apply_job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "read",
    }
    apply = action_steps(apply_job)["apply"]
    assert apply["if"] == ("github.event_name != 'push' || steps.reviewed.outputs.checksum != ''")
    assert "--checksum {0}', steps.reviewed.outputs.checksum" in apply["with"]["args"]
    oidc = next(s for s in apply_job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert oidc["if"] == apply["if"]
    assert run_step("apply.yml", "apply", "reviewed")["env"] == {
        "SHARE_CONFIG": "${{ matrix.config }}"
    }
    check_gathering_job(report_job, ["shares", "apply", "verify"])
    assert report_job["permissions"] == {"pull-requests": "write", "issues": "write"}
    assert shares["outputs"]["every"] == "${{ steps.matrix.outputs.every }}"
    assert run_step("apply.yml", "report", "report")["env"] == {
        "MATRIX": "${{ needs.shares.outputs.matrix }}",
        "EVERY_SHARE": "${{ needs.shares.outputs.every }}",
    }
    downloads = [s for s in report_job["steps"] if "download-artifact" in s.get("uses", "")]
    assert [s["with"]["pattern"] for s in downloads] == [
        "reconciler-apply-*",
        "reconciler-verify-*",
    ]


def test_the_verify_job_checks_every_applied_share_with_the_read_only_role() -> None:
    """Issue 22: the nightly verify with the role that cannot write is a real control. One job
    per share of the apply's matrix, after the applies, whatever they did (tests of its `if:`:
    tests/test_workflow_triggers.py), with the plan role and in no environment (its OIDC claims
    against the trust policies: tests/test_oidc_trust.py)."""
    job = load("apply.yml")["jobs"]["verify"]
    assert job["needs"] == ["shares", "apply"]
    check_gathering_job(job, ["shares", "apply"])
    check_matrix_job({**job, "needs": "shares", "if": EMPTY_GUARD}, "plan")
    assert "environment" not in job
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    # never the apply's concurrency group: a pending verify would replace a pending apply
    assert job["concurrency"] == {
        "group": "reconciler-verify-${{ matrix.name }}-${{ github.run_id }}",
        "cancel-in-progress": False,
    }
    oidc = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert oidc["id"] == "aws" and "if" not in oidc
    assert oidc["with"]["role-session-name"] == "reconciler-verify"
    used = action_steps(job)
    assert list(used) == ["verify"]
    assert used["verify"]["if"] == "steps.aws.outcome == 'success'"
    assert "args" not in used["verify"]["with"]
    keep = run_step("apply.yml", "verify", "checked")
    assert keep["if"] == "${{ !cancelled() }}"
    assert keep["env"]["ROLE_OUTCOME"] == "${{ steps.aws.outcome }}"
    assert keep["env"]["VERIFY_EXIT"] == "${{ steps.verify.outputs.exit-code }}"
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "reconciler-verify-${{ matrix.name }}"
    assert upload["with"]["path"] == "${{ runner.temp }}/reconciler-verify/"
    fail = job["steps"][-1]
    assert fail["if"] == "${{ !cancelled() && steps.checked.outputs.status != 'verified' }}"
    assert "exit 1" in fail["run"]


# --- the shell steps of the first job, run with bash against a git repository ---------------


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def bash(step: dict[str, Any], cwd: Path, **env: str) -> dict[str, str]:
    """Run a `run:` step with bash -e (as GitHub does) and return what it wrote to GITHUB_OUTPUT."""
    out = cwd / ".github-output"
    out.write_text("")
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(out), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


SHARE = """\
version: 1
account_id: "{account}"
region: eu-west-2
bucket:
  name: {bucket}
collaborators:
  - id: partner
    principal: arn:aws:iam::111122223333:role/Uploader
"""


@pytest.mark.parametrize(
    ("files", "paths"),
    [
        (["collaborators.yaml"], "collaborators.yaml"),
        (["collaborators.yaml", "shares/a.yaml"], "collaborators.yaml shares"),
        (["shares/a.yaml"], "shares"),
    ],
)
@pytest.mark.parametrize("workflow", ["plan.yml", "apply.yml"])
def test_the_share_files_are_collaborators_yaml_and_the_shares_folder(
    tmp_path: Path, workflow: str, files: list[str], paths: str
) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    assert bash(run_step(workflow, "shares", "paths"), tmp_path) == {"paths": paths}


@pytest.fixture
def config_repo(tmp_path: Path) -> Path:
    """A config repository with a single collaborators.yaml and two files under shares/, on a
    branch `change` off `main`, with `origin/main` as a pull request's checkout has it."""
    (tmp_path / "shares").mkdir()
    (tmp_path / "collaborators.yaml").write_text(SHARE.format(account="1" * 12, bucket="one"))
    (tmp_path / "shares" / "a.yaml").write_text(SHARE.format(account="2" * 12, bucket="a"))
    (tmp_path / "shares" / "b.yaml").write_text(SHARE.format(account="3" * 12, bucket="b"))
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "init")
    git(tmp_path, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(tmp_path, "checkout", "-qb", "change")
    return tmp_path


def matrix_outputs(workflow: str, repo: Path, **env: str) -> dict[str, str]:
    env = {"RECONCILE": str(BIN / "reconcile"), "PATHS": "collaborators.yaml shares", **env}
    return bash(run_step(workflow, "shares", "matrix"), repo, **env)


def matrix_of(workflow: str, repo: Path, **env: str) -> list[dict[str, str]]:
    matrix: dict[str, list[dict[str, str]]] = json.loads(
        matrix_outputs(workflow, repo, **env)["matrix"]
    )
    return matrix["include"]


def test_a_pull_request_plans_only_the_shares_it_changed(config_repo: Path) -> None:
    (config_repo / "shares" / "b.yaml").write_text(SHARE.format(account="3" * 12, bucket="b2"))
    git(config_repo, "commit", "-qam", "edit b")
    assert matrix_of("plan.yml", config_repo, BASE_REF="main") == [
        {
            "name": "b",
            "config": "shares/b.yaml",
            "account_id": "333333333333",
            "region": "eu-west-2",
            "bucket": "b2",
        }
    ]


def test_a_pull_request_that_changes_nothing_gives_the_empty_matrix(config_repo: Path) -> None:
    (config_repo / "README.md").write_text("# notes\n")
    git(config_repo, "add", "-A")
    git(config_repo, "commit", "-qm", "docs")
    assert matrix_of("plan.yml", config_repo, BASE_REF="main") == []


@pytest.mark.parametrize(
    ("shares", "changed", "code", "any_changed"),
    [
        ("success", "true", 0, "true"),
        ("success", "false", 0, "false"),
        ("skipped", "false", 1, None),  # a fork's pull request: not planned, not passed
        ("failure", "false", 1, None),
    ],
)
def test_the_required_check_decides_whether_any_share_changed(
    tmp_path: Path, shares: str, changed: str, code: int, any_changed: str | None
) -> None:
    step = run_step("plan.yml", "comment", "changed")
    out, summary = tmp_path / "output", tmp_path / "summary"
    out.write_text("")
    summary.write_text("")
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={
            "PATH": "/usr/bin:/bin",
            "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary),
            "SHARES": shares,
            "CHANGED": changed,
            "PLANS": "success",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, done.stdout + done.stderr
    if any_changed is None:
        assert done.stdout.startswith("::error::the shares to plan were not found")
        assert "from a fork is not planned" in done.stdout
        return
    assert f"any={any_changed}\n" in out.read_text()
    no_change = "No share file changed: nothing to plan.\n"
    assert (summary.read_text() == no_change) is (changed == "false")


def test_a_merge_applies_the_shares_it_changed_and_nightly_every_share(config_repo: Path) -> None:
    before = git(config_repo, "rev-parse", "HEAD")
    (config_repo / "collaborators.yaml").write_text(SHARE.format(account="1" * 12, bucket="b1"))
    git(config_repo, "commit", "-qam", "edit")
    merge = matrix_outputs("apply.yml", config_repo, EVENT="push", BEFORE=before)
    assert [e["config"] for e in json.loads(merge["matrix"])["include"]] == ["collaborators.yaml"]
    assert merge["every"] == "false"
    every = ["collaborators.yaml", "shares/a.yaml", "shares/b.yaml"]
    for event, previous in [("schedule", ""), ("workflow_dispatch", ""), ("push", "0" * 40)]:
        outputs = matrix_outputs("apply.yml", config_repo, EVENT=event, BEFORE=previous)
        entries = json.loads(outputs["matrix"])["include"]
        assert [e["config"] for e in entries] == every, event
        assert outputs["every"] == "true"


# --- the github-script steps, run for real with node and a fake GitHub API --------------------

CHECKSUM = "c" * 64
OTHER = "d" * 64
HEAD = "abcdef1234567890" + "0" * 24
MARKER = "<!-- reconciler-plan -->"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def script(workflow: str, step_id: str) -> str:
    found = [s for s in steps(load(workflow)) if s.get("id") == step_id]
    assert "github-script" in found[0]["uses"]
    code: str = found[0]["with"]["script"]
    return code


def keep_share(
    tmp_path: Path, config: str = "shares/a.yaml", **files: str
) -> tuple[dict[str, Any], str]:
    """Run the plan job's step that keeps one share's plan: its share.json and plan.md."""
    env = {
        "RUNNER_TEMP": str(tmp_path),
        "SHARE_NAME": Path(config).stem,
        "SHARE_CONFIG": config,
        "SHARE_BUCKET": f"{Path(config).stem}-bucket",
        "VALIDATE_EXIT": files.pop("validate_exit", "0"),
        "PLAN_EXIT": files.pop("exit", "2"),
        "PLAN_CHECKSUM": files.pop("checksum", CHECKSUM),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        env[f"{name.split('.')[0].upper()}_{name.split('.')[1].upper()}"] = str(tmp_path / name)
    run_script(tmp_path, script("plan.yml", "share"), context={}, env=env)
    folder = tmp_path / "reconciler-share"
    return json.loads((folder / "share.json").read_text()), (folder / "plan.md").read_text()


def test_a_share_keeps_its_plan_and_checksum_for_gather(tmp_path: Path) -> None:
    kept, plan = keep_share(tmp_path, **{"plan.output": "### Reconciler plan\n\n**1 to create**\n"})
    assert kept == {
        "name": "a",
        "config": "shares/a.yaml",
        "bucket": "a-bucket",
        "exit_code": 2,
        "checksum": CHECKSUM,
    }
    assert plan == "### Reconciler plan\n\n**1 to create**\n"


def test_a_failed_plan_keeps_its_error_as_code_and_no_checksum(tmp_path: Path) -> None:
    files = {"plan.output": "", "plan.log": "error: no AWS credentials found\n```\n<b>\n::error::x"}
    kept, plan = keep_share(tmp_path, exit="1", **files)
    assert (kept["exit_code"], kept["checksum"]) == (1, None)
    assert "**No plan: the command failed.**" in plan
    assert "\n    error: no AWS credentials found\n    ```\n    <b>\n" in plan
    assert "::error" not in plan


def test_a_refused_plan_is_kept_but_carries_no_checksum(tmp_path: Path) -> None:
    kept, plan = keep_share(
        tmp_path, exit="3", **{"plan.output": "### Reconciler plan\n\nrefused\n"}
    )
    assert (kept["exit_code"], kept["checksum"]) == (3, None)
    assert "refused" in plan


@pytest.mark.parametrize(
    ("validate_exit", "exit", "why"),
    [
        ("1", "", "**No plan: the share file is not valid.**"),
        ("", "", "**No plan: the reconciler could not be installed or run"),
        ("0", "", "**No plan: the plan role of the share's account could not be assumed"),
    ],
    ids=["invalid", "no-install", "no-role"],
)
def test_a_share_that_never_planned_says_why(
    tmp_path: Path, validate_exit: str, exit: str, why: str
) -> None:
    files = {"validate.output": "", "validate.log": "shares/a.yaml:9:5: collaborators[0].id: bad\n"}
    kept, plan = keep_share(tmp_path, validate_exit=validate_exit, exit=exit, **files)
    assert (kept["exit_code"], kept["checksum"]) == (None, None)
    assert why in plan
    if validate_exit == "1":
        assert "\n    shares/a.yaml:9:5: collaborators[0].id:" in plan


def plans_downloaded(tmp_path: Path, shares: dict[str, dict[str, str]]) -> Path:
    """Each share's kept plan, in the folder the comment job downloads the artifacts to, as
    download-artifact lays them out (one folder per artifact), and `reconcile gather` run on it
    as the gather step runs it."""
    plans = tmp_path / "reconciler-plans"
    plans.mkdir()
    for config, files in shares.items():
        work = tmp_path / "work" / Path(config).stem
        work.mkdir(parents=True)
        keep_share(work, config, **files)
        (work / "reconciler-share").rename(plans / f"reconciler-plan-{Path(config).stem}")
    gather = run_step("plan.yml", "comment", "gather")
    done = subprocess.run(
        ["bash", "-e", "-c", gather["run"]],
        env={
            "PATH": "/usr/bin:/bin",
            "RECONCILE": str(BIN / "reconcile"),
            "RUNNER_TEMP": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return plans


TWO_SHARES = {
    "shares/a.yaml": {"plan.output": "### Reconciler plan\n\nnothing to do in a\n", "exit": "0"},
    "shares/b.yaml": {"plan.output": "### Reconciler plan\n\n**1 to create**\n", "checksum": OTHER},
}


def post_comment(
    tmp_path: Path, comments: list[dict[str, Any]], validate_exit: str = "0"
) -> dict[str, Any]:
    (tmp_path / "validate.log").write_text("shares/a.yaml:3:9: bucket.name: also in b.yaml\n")
    env = {
        "RUNNER_TEMP": str(tmp_path),
        "VALIDATE_EXIT": validate_exit,
        "VALIDATE_LOG": str(tmp_path / "validate.log"),
    }
    context = {"payload": {"pull_request": {"number": 7, "head": {"sha": HEAD}}}}
    return run_script(
        tmp_path, script("plan.yml", "comment"), context=context, env=env, listComments=comments
    )


def test_one_comment_gathers_every_shares_plan_with_a_checksum_each(tmp_path: Path) -> None:
    plans_downloaded(tmp_path, TWO_SHARES)
    done = post_comment(tmp_path, [])
    assert [c[0] for c in done["calls"]] == ["listComments", "createComment"]
    body = done["calls"][1][1]["body"]
    assert done["calls"][1][1]["issue_number"] == 7
    assert body.startswith(f"{MARKER}\n### Reconciler plan: every share\n")
    # the share with changes first, both in the one comment
    assert body.index("**1 to create**") < body.index("nothing to do in a")
    assert "Commit abcdef1" in body and "2 shares planned" in body
    assert body.endswith(
        f"<!-- reconciler-plan-commit: {HEAD} -->\n"
        f"<!-- reconciler-plan-share: shares%2Fa.yaml {CHECKSUM} -->\n"
        f"<!-- reconciler-plan-share: shares%2Fb.yaml {OTHER} -->\n"
    )
    assert done["summary"].startswith("### Reconciler plan: every share\n")


def test_later_pushes_update_the_same_comment_only(tmp_path: Path) -> None:
    plans_downloaded(tmp_path, TWO_SHARES)
    comments = [
        {"id": 1, "user": {"login": "mallory", "type": "User"}, "body": MARKER},
        {"id": 2, "user": {"login": "other[bot]", "type": "Bot"}, "body": MARKER},
        {"id": 3, "user": BOT, "body": f"{MARKER}\nold plan"},
    ]
    done = post_comment(tmp_path, comments)
    assert [c[0] for c in done["calls"]] == ["listComments", "updateComment"]
    assert done["calls"][1][1]["comment_id"] == 3
    assert "**1 to create**" in done["calls"][1][1]["body"]


def test_share_files_that_clash_withhold_every_checksum(tmp_path: Path) -> None:
    plans_downloaded(tmp_path, TWO_SHARES)
    body = post_comment(tmp_path, [], validate_exit="1")["calls"][1][1]["body"]
    assert "no share can be applied until this is fixed" in body
    assert "\n    shares/a.yaml:3:9: bucket.name: also in b.yaml" in body
    assert "<!-- reconciler-plan-share: shares%2Fa.yaml none -->" in body
    assert "<!-- reconciler-plan-share: shares%2Fb.yaml none -->" in body


def test_a_failed_share_has_no_checksum_and_the_others_keep_theirs(tmp_path: Path) -> None:
    failed = {"plan.output": "", "plan.log": "error: AccessDenied", "exit": "1"}
    plans_downloaded(tmp_path, {**TWO_SHARES, "shares/a.yaml": failed})
    body = post_comment(tmp_path, [])["calls"][1][1]["body"]
    assert "<!-- reconciler-plan-share: shares%2Fa.yaml none -->" in body
    assert f"<!-- reconciler-plan-share: shares%2Fb.yaml {OTHER} -->" in body
    assert "failed" in body and "error: AccessDenied" in body


# --- the apply workflow: each share's reviewed plan, its result, the gathered report --------


def find_reviewed(
    tmp_path: Path, pulls: list[Any], comments: list[Any], config: str = "shares/b.yaml"
) -> dict[str, str]:
    context = {"sha": "m" * 40, "eventName": "push"}
    done = run_script(
        tmp_path,
        script("apply.yml", "reviewed"),
        context=context,
        env={"SHARE_CONFIG": config},
        pulls=pulls,
        listComments=comments,
    )
    outputs: dict[str, str] = done["outputs"]
    return outputs


MERGED = {
    "number": 7,
    "merged_at": "2026-01-01",
    "merge_commit_sha": "m" * 40,
    "head": {"sha": HEAD},
}


def plan_comment(commit: str = HEAD, **sums: str) -> dict[str, Any]:
    sums = sums or {"shares%2Fa.yaml": CHECKSUM, "shares%2Fb.yaml": OTHER}
    lines = "".join(f"<!-- reconciler-plan-share: {k} {v} -->\n" for k, v in sums.items())
    head = f"{MARKER}\n### Reconciler plan\n\n<sub>x</sub>\n"
    body = f"{head}<!-- reconciler-plan-commit: {commit} -->\n{lines}"
    return {"id": 3, "user": BOT, "body": body}


def test_each_share_applies_the_checksum_reviewed_for_it(tmp_path: Path) -> None:
    assert find_reviewed(tmp_path, [MERGED], [plan_comment()]) == {
        "pull-request": "7",
        "checksum": OTHER,
    }
    reviewed = find_reviewed(tmp_path, [MERGED], [plan_comment()], "shares/a.yaml")
    assert reviewed["checksum"] == CHECKSUM


def test_the_comment_the_plan_workflow_posts_is_what_apply_reads(tmp_path: Path) -> None:
    plans_downloaded(tmp_path, TWO_SHARES)
    body = post_comment(tmp_path, [])["calls"][1][1]["body"]
    posted = [{"id": 9, "user": BOT, "body": body}]
    for config, checksum in [("shares/a.yaml", CHECKSUM), ("shares/b.yaml", OTHER)]:
        assert find_reviewed(tmp_path, [MERGED], posted, config)["checksum"] == checksum


@pytest.mark.parametrize(
    ("pulls", "comments", "problem"),
    [
        ([], [], "reached the default branch without a merged pull request"),
        ([{**MERGED, "merged_at": None}], [], "without a merged pull request"),
        ([MERGED], [], "no plan was posted on #7"),
        ([MERGED], [{**plan_comment(), "user": {"login": "mallory"}}], "no plan was posted"),
        ([MERGED], [plan_comment(commit="1" * 40)], "is not for its last commit abcdef1"),
        (
            [MERGED],
            [plan_comment(**{"shares%2Fa.yaml": CHECKSUM})],
            "has no plan for shares/b.yaml",
        ),
        (
            [MERGED],
            [plan_comment(**{"shares%2Fb.yaml": "none"})],
            "has no checksum for shares/b.yaml",
        ),
        (
            [MERGED],
            [plan_comment(**{"shares%2Fb.yaml.other": OTHER})],
            "has no plan for shares/b.yaml",
        ),
    ],
    ids=["no-pr", "not-merged", "no-plan", "forged", "stale", "not-planned", "failed", "other"],
)
def test_a_merged_share_without_a_reviewed_plan_stops(
    tmp_path: Path, pulls: list[Any], comments: list[Any], problem: str
) -> None:
    outputs = find_reviewed(tmp_path, pulls, comments)
    assert problem in outputs["problem"]
    assert "checksum" not in outputs


def result(tmp_path: Path, event: str, name: str = "a", **env: str) -> dict[str, Any]:
    """Run one share's result step; return the result.json it keeps for the report."""
    for kind in ("output", "log"):
        if kind in env:
            (tmp_path / f"apply.{kind}").write_text(env[kind])
            env[f"APPLY_{kind.upper()}"] = str(tmp_path / f"apply.{kind}")
    env = {k: v for k, v in env.items() if k.isupper()}
    env |= {"RUNNER_TEMP": str(tmp_path), "SHARE_NAME": name, "SHARE_CONFIG": f"shares/{name}.yaml"}
    done = run_script(
        tmp_path, script("apply.yml", "result"), context={"eventName": event}, env=env
    )
    kept: dict[str, Any] = json.loads((tmp_path / "reconciler-result" / "result.json").read_text())
    assert done["outputs"] == {"status": kept["status"]}
    return kept


def test_a_share_result_says_what_happened(tmp_path: Path) -> None:
    ok = result(
        tmp_path, "push", PULL_REQUEST="7", APPLY_EXIT="0", APPLY_CHANGES="true", output="applied 2"
    )
    assert ok == {
        "name": "a",
        "config": "shares/a.yaml",
        "status": "ok",
        "text": "applied 2",
        "pull_request": 7,
    }
    stopped = result(tmp_path, "push", PULL_REQUEST="7", PROBLEM="no plan was posted on #7.")
    assert stopped["status"] == "stopped"
    assert "**Not applied: no plan was posted on #7.**" in stopped["text"]
    refused = result(tmp_path, "push", APPLY_EXIT="3", output="", log="error: checksum differs")
    assert refused["status"] == "stopped"
    assert "the plan at merge differs from the plan reviewed" in refused["text"]
    assert "\n    error: checksum differs" in refused["text"]
    drift = result(tmp_path, "schedule", APPLY_EXIT="0", APPLY_CHANGES="true", output="fixed")
    assert drift["status"] == "drift" and "**Drift corrected:**" in drift["text"]
    failed = result(tmp_path, "schedule", APPLY_EXIT="1", output="", log="error: x")
    assert failed["status"] == "failed" and "**The apply failed (exit 1).**" in failed["text"]
    never = result(tmp_path, "schedule", APPLY_EXIT="")
    assert never["status"] == "failed" and "the apply did not run" in never["text"]


VERIFY_OUTPUT = """### Verified bucket b (account 123456789012, eu-west-2): live state

**1 violation(s), 0 unknown: 2 collaborator(s) x 9 checks, 40 requests evaluated.**

| collaborator | 1.console |
| --- | --- |
| alice | ok |

#### Findings

- **FAIL** bob: other-prefix: bob can write Alice/x via bob-access-point
"""


def verification(tmp_path: Path, **env: str) -> dict[str, Any]:
    """Run one share's verify-result step; return the verify.json it keeps for the report."""
    for kind in ("output", "log"):
        if kind in env:
            (tmp_path / f"verify.{kind}").write_text(env.pop(kind))
            env[f"VERIFY_{kind.upper()}"] = str(tmp_path / f"verify.{kind}")
    env |= {"RUNNER_TEMP": str(tmp_path), "SHARE_NAME": "a", "SHARE_CONFIG": "shares/a.yaml"}
    done = run_script(
        tmp_path,
        script("apply.yml", "checked"),
        context={"eventName": "schedule", "ref": "refs/heads/main"},
        env=env,
    )
    kept: dict[str, Any] = json.loads((tmp_path / "reconciler-verify" / "verify.json").read_text())
    assert done["outputs"] == {"status": kept["status"]}
    assert (kept["name"], kept["config"]) == ("a", "shares/a.yaml")
    return kept


def test_a_share_verification_says_what_verify_found(tmp_path: Path) -> None:
    clean = VERIFY_OUTPUT.replace("1 violation(s)", "0 violation(s)").split("#### Findings")[0]
    ok = verification(tmp_path, ROLE_OUTCOME="success", VERIFY_EXIT="0", output=clean)
    assert ok["status"] == "verified"
    assert ok["text"].startswith("**0 violation(s), 0 unknown: 2 collaborator(s)")
    bad = verification(tmp_path, ROLE_OUTCOME="success", VERIFY_EXIT="2", output=VERIFY_OUTPUT)
    assert bad["status"] == "violation"
    assert bad["text"].startswith("**Access does not match the share file**")
    # the counts and only what fails; the whole table stays in the job's summary
    assert "**1 violation(s)" in bad["text"] and "bob can write Alice/x" in bad["text"]
    assert "| alice | ok |" not in bad["text"]
    error = verification(tmp_path, ROLE_OUTCOME="success", VERIFY_EXIT="1", log="error: boom")
    assert error["status"] == "failed"
    assert "reconcile verify failed (exit 1)" in error["text"]
    assert "    error: boom" in error["text"]


def test_a_verify_job_whose_role_is_refused_names_the_subject_to_trust(tmp_path: Path) -> None:
    """The upgrade trap (CHANGELOG.md): a plan role that still trusts pull requests only refuses
    the verify job; its result says which subject to add."""
    refused = verification(tmp_path, ROLE_OUTCOME="failure", VERIFY_EXIT="")
    assert refused["status"] == "failed"
    assert "the read-only plan role of the share's account could not be assumed" in refused["text"]
    assert "`repo:org/share:ref:refs/heads/main`" in refused["text"]
    # a job that stopped earlier (its checkout failed): no claim about the role
    stopped = verification(tmp_path, ROLE_OUTCOME="skipped", VERIFY_EXIT="")
    assert stopped["status"] == "failed"
    assert "stopped before it assumed the read-only role" in stopped["text"]


def report(
    tmp_path: Path,
    event: str,
    results: list[dict[str, Any]],
    names: list[str] | None = None,
    issues: list[Any] | None = None,
    every: str = "true",
    verified: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run the report job's script over the results the share jobs uploaded: the apply jobs'
    `results`, and the verify jobs' (by share name; default: each share in `results`
    verified)."""
    folder = tmp_path / "reconciler-results"
    for kept in results:
        (folder / f"reconciler-apply-{kept['name']}").mkdir(parents=True)
        (folder / f"reconciler-apply-{kept['name']}" / "result.json").write_text(json.dumps(kept))
    if verified is None:
        verified = {r["name"]: checked(r["name"], "verified") for r in results}
    for name, check in verified.items():
        (tmp_path / "reconciler-verified" / f"reconciler-verify-{name}").mkdir(parents=True)
        where = tmp_path / "reconciler-verified" / f"reconciler-verify-{name}" / "verify.json"
        where.write_text(json.dumps(check))
    names = names or [r["name"] for r in results]
    matrix = {"include": [{"name": n, "config": f"shares/{n}.yaml"} for n in names]}
    env = {"RUNNER_TEMP": str(tmp_path), "MATRIX": json.dumps(matrix), "EVERY_SHARE": every}
    return run_script(
        tmp_path,
        script("apply.yml", "report"),
        context={"eventName": event},
        env=env,
        listForRepo=issues or [],
    )


def checked(name: str, status: str, text: str = "") -> dict[str, Any]:
    """What a share's verify job keeps (verify.json)."""
    return {
        "name": name,
        "config": f"shares/{name}.yaml",
        "status": status,
        "text": text or f"{name} {status}",
    }


def kept(name: str, status: str, text: str = "", pull_request: int | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "config": f"shares/{name}.yaml",
        "status": status,
        "text": text or f"{name} text",
        "pull_request": pull_request,
    }


OPEN_ISSUE = {"number": 12, "body": "<!-- reconciler-apply-status -->\nold", "user": BOT}


def test_the_summary_lists_every_shares_outcome_failures_first(tmp_path: Path) -> None:
    done = report(
        tmp_path,
        "schedule",
        [
            kept("a", "ok"),
            kept("b", "failed", "**The apply failed (exit 1).**"),
            kept("c", "drift"),
        ],
        names=["a", "b", "c", "d"],
    )
    summary = done["summary"]
    assert summary.startswith(
        "### Reconciler apply: every share\n\n"
        "**2 of 4 shares applied; 3 of 4 verified with the read-only role.**"
    )
    rows = [line for line in summary.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `d` | `shares/d.yaml` | failed | not verified |",
        "| `b` | `shares/b.yaml` | failed | verified |",
        "| `c` | `shares/c.yaml` | drift corrected | verified |",
        "| `a` | `shares/a.yaml` | applied | verified |",
    ]
    # the share whose job left nothing is reported, not forgotten
    assert "the job stopped before it could report" in summary
    assert done["outputs"] == {"status": "failed"}
    create = next(c[1] for c in done["calls"] if c[0] == "create")
    assert create["title"] == "Reconciler: the nightly apply run failed"
    assert "| `b` | `shares/b.yaml` | failed | verified |" in create["body"]


def test_a_merge_posts_every_shares_result_on_the_pull_request_once(tmp_path: Path) -> None:
    done = report(
        tmp_path,
        "push",
        [kept("a", "ok", "a applied", 7), kept("b", "stopped", "**Not applied: x**", 7)],
    )
    posted = [c[1] for c in done["calls"] if c[0] == "createComment"]
    assert len(posted) == 1 and posted[0]["issue_number"] == 7
    assert posted[0]["body"].startswith("<!-- reconciler-apply -->\n### Reconciler apply")
    assert "a applied" in posted[0]["body"] and "**Not applied: x**" in posted[0]["body"]
    issue = next(c[1] for c in done["calls"] if c[0] == "create")
    assert issue["title"] == "Reconciler: the merge apply run stopped: nothing applied"
    assert issue["body"].startswith("<!-- reconciler-apply-status -->\n")


def test_nightly_drift_is_kept_in_one_issue(tmp_path: Path) -> None:
    first = report(tmp_path / "1", "schedule", [kept("a", "drift"), kept("b", "ok")])
    assert [c[0] for c in first["calls"]] == ["listForRepo", "create"]
    assert first["calls"][1][1]["title"] == "Reconciler: the nightly apply run corrected drift"
    again = report(tmp_path / "2", "schedule", [kept("a", "drift")], issues=[OPEN_ISSUE])
    assert [c[0] for c in again["calls"]] == ["listForRepo", "update", "createComment"]
    assert again["calls"][1][1]["issue_number"] == 12


def test_a_clean_run_closes_the_issue(tmp_path: Path) -> None:
    others = [
        {"number": 3, "body": "a person's issue", "user": {"login": "bob"}},
        {**OPEN_ISSUE, "number": 4, "user": {"login": "mallory"}},
        {**OPEN_ISSUE, "number": 5, "pull_request": {}},
    ]
    done = report(
        tmp_path, "schedule", [kept("a", "ok"), kept("b", "ok")], issues=[*others, OPEN_ISSUE]
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


def test_a_clean_merge_of_some_shares_leaves_the_issue_open(tmp_path: Path) -> None:
    """The issue may be about a share the merge did not touch: only a run of every share closes
    it."""
    done = report(
        tmp_path, "push", [kept("a", "ok", pull_request=7)], issues=[OPEN_ISSUE], every="false"
    )
    assert done["outputs"] == {"status": "ok"}
    assert [(c[0], c[1].get("issue_number")) for c in done["calls"]] == [
        ("createComment", 7),
        ("listForRepo", None),
    ]


def test_a_clean_run_without_an_issue_opens_none(tmp_path: Path) -> None:
    done = report(tmp_path, "schedule", [kept("a", "ok")])
    assert [c[0] for c in done["calls"]] == ["listForRepo"]


def test_a_verify_violation_opens_the_issue_and_comes_first(tmp_path: Path) -> None:
    """A clean apply does not hide what verify found: the share with the violation is listed
    first, with verify's findings, and the run opens the tracking issue."""
    found = checked("b", "violation", "**Access does not match** bob can write Alice/x")
    done = report(
        tmp_path,
        "schedule",
        [kept("a", "ok"), kept("b", "ok")],
        verified={"a": checked("a", "verified"), "b": found},
    )
    summary = done["summary"]
    assert "**2 of 2 shares applied; 1 of 2 verified with the read-only role.**" in summary
    assert "**Access does not match the share file in 1 share: see below.**" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `b` | `shares/b.yaml` | applied | **VIOLATION** |",
        "| `a` | `shares/a.yaml` | applied | verified |",
    ]
    assert "bob can write Alice/x" in summary
    issue = next(c[1] for c in done["calls"] if c[0] == "create")
    assert issue["title"] == (
        "Reconciler: the nightly apply run found access that does not match the share files"
    )


def test_a_violation_outranks_a_failed_apply_in_the_issue_title(tmp_path: Path) -> None:
    done = report(
        tmp_path,
        "schedule",
        [kept("a", "failed"), kept("b", "ok")],
        verified={"a": checked("a", "verified"), "b": checked("b", "violation")},
    )
    issue = next(c[1] for c in done["calls"] if c[0] == "create")
    assert issue["title"].endswith("found access that does not match the share files")


@pytest.mark.parametrize("verified", [{"a": "failed"}, {}], ids=["role-refused", "no-result"])
def test_an_unverified_share_keeps_the_issue_open(tmp_path: Path, verified: dict[str, str]) -> None:
    """A clean apply whose verification failed (the read-only role refused the job, or the job
    left nothing) is not a clean run: it updates the issue, and does not close it."""
    done = report(
        tmp_path,
        "schedule",
        [kept("a", "ok")],
        issues=[OPEN_ISSUE],
        verified={n: checked(n, s) for n, s in verified.items()},
    )
    assert [c[0] for c in done["calls"]] == ["listForRepo", "update", "createComment"]
    assert done["calls"][1][1]["title"] == (
        "Reconciler: the nightly apply run could not verify access"
    )
    assert "| `a` | `shares/a.yaml` | applied | not verified |" in done["summary"]
