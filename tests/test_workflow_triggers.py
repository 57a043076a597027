"""The workflows run when their events say they should, judged by GitHub's own expression
evaluator against the `github` context each event really gives (tests/github_expressions.py).

- A workflow with a `schedule` trigger: on every event that triggers it, on the default branch,
  every job runs (the nightly drift correction once skipped every job, silently: its gate read
  `github.event.repository.default_branch`, which a schedule's payload does not have); a manual
  run on another branch applies nothing; every `if:` reads only what each event's payload has,
  or checks the event name first.
- A check the docs ask branch protection to require always reports: its workflow has no path
  filter, and its job runs whatever the jobs before it did.

Both the project's own workflows and those `reconcile init` writes are checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.starter import TEMPLATES, ActionRef, config_repository
from tests.github_expressions import evaluate, github_context

ROOT = Path(__file__).resolve().parents[1]
ACTION = ActionRef.parse("my-org/s3-collaborator-reconciler@" + "0" * 40)


def parse(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # PyYAML reads the key `on` as True (YAML 1.1)
    if isinstance(data["on"], str):
        data["on"] = {data["on"]: None}
    return data


def all_workflows() -> dict[str, dict[Any, Any]]:
    """Every workflow the project ships: its own, and those `reconcile init` writes."""
    found = {
        f"project {p.name}": parse(p.read_text())
        for p in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    }
    files = config_repository(ACTION)
    for path in TEMPLATES:
        if path.startswith(".github/workflows/"):
            found[f"init {Path(path).name}"] = parse(files[path])
    return found


WORKFLOWS = all_workflows()
SCHEDULED = {name: w for name, w in WORKFLOWS.items() if "schedule" in w["on"]}

# What the jobs hand each other in a run that has work to do (one share to plan or apply).
SAMPLE_OUTPUTS = {
    "matrix": json.dumps(
        {
            "include": [
                {
                    "name": "collaborators",
                    "config": "collaborators.yaml",
                    "account_id": "123456789012",
                    "region": "eu-west-2",
                    "bucket": "trial-share",
                }
            ]
        }
    ),
    "every": "true",
    "paths": "collaborators.yaml",
}
EMPTY_MATRIX = {**SAMPLE_OUTPUTS, "matrix": '{"include":[]}'}
_STATUS_FUNCTION = re.compile(r"\b(success|failure|cancelled|always)\(\)")


def condition(expr: str | bool | None) -> str:
    """A job's or step's `if:` as GitHub evaluates it: without a status function it is
    `success() && (...)`."""
    text = "true" if expr is None else str(expr).lower() if isinstance(expr, bool) else expr
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    return text if _STATUS_FUNCTION.search(text) else f"success() && ({text})"


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def jobs_that_run(
    workflow: dict[Any, Any],
    github: dict[str, Any],
    *,
    outputs: dict[str, str] | None = None,
    results: dict[str, str] | None = None,
) -> dict[str, bool]:
    """Which jobs run, in order of their needs: each job's `if:` evaluated with the `needs` of
    the jobs before it. A job that runs succeeds and hands on `outputs` (default: a run with
    one share), unless `results` says how it ended."""
    outputs = SAMPLE_OUTPUTS if outputs is None else outputs
    results = results or {}
    ran: dict[str, bool] = {}
    ended: dict[str, str] = {}
    jobs = workflow["jobs"]
    while len(ran) < len(jobs):
        ready = [j for j in jobs if j not in ran and all(n in ran for n in needs_of(jobs[j]))]
        assert ready, "the jobs' needs form a cycle"
        for name in ready:
            job = jobs[name]
            needs = {
                n: {
                    "result": ended[n],
                    "outputs": {k: outputs[k] for k in jobs[n].get("outputs", {})}
                    if ended[n] == "success"
                    else {},
                }
                for n in needs_of(job)
            }
            ok = all(needs[n]["result"] == "success" for n in needs)
            status = "success" if ok else "failure"
            contexts = {"github": github, "needs": needs, "vars": {}, "inputs": {}}
            [answer] = evaluate(
                [{"expr": condition(job.get("if")), "contexts": contexts, "status": status}]
            )
            assert "error" not in answer, f"job {name}: {job.get('if')!r}: {answer['error']}"
            ran[name] = bool(answer["truthy"])
            ended[name] = results.get(name, "success") if ran[name] else "skipped"
    return ran


def triggers(workflow: dict[Any, Any]) -> list[str]:
    return sorted(workflow["on"])


SCHEDULED_EVENTS = [
    pytest.param(name, event, id=f"{name}-{event}")
    for name, workflow in SCHEDULED.items()
    for event in triggers(workflow)
]


def test_the_nightly_apply_is_checked_in_both_copies() -> None:
    assert set(SCHEDULED) == {"project apply.yml", "init apply.yml"}


@pytest.mark.parametrize(("name", "event"), SCHEDULED_EVENTS)
def test_every_job_runs_on_each_event_on_the_default_branch(name: str, event: str) -> None:
    ran = jobs_that_run(SCHEDULED[name], github_context(event))
    assert all(ran.values()), f"{name} on {event}: jobs skipped: {ran}"


@pytest.mark.parametrize("name", sorted(SCHEDULED))
def test_a_manual_run_on_another_branch_applies_nothing(name: str) -> None:
    workflow = SCHEDULED[name]
    if "workflow_dispatch" not in workflow["on"]:
        pytest.skip("not started by hand")
    ran = jobs_that_run(workflow, github_context("workflow_dispatch", branch="feature"))
    assert not any(ran.values()), ran


def test_the_old_gate_would_skip_the_nightly_run() -> None:
    """The check catches the bug it was written for."""
    old = {"jobs": {"shares": {"if": "github.ref_name == github.event.repository.default_branch"}}}
    assert jobs_that_run(old, github_context("schedule")) == {"shares": False}
    assert jobs_that_run(old, github_context("push")) == {"shares": True}


_EVENT_PATH = re.compile(r"github\.event((?:\.[A-Za-z_][\w-]*)+)")


def present(payload: Any, path: list[str]) -> bool:
    for key in path:
        if not isinstance(payload, dict) or key not in payload:
            return False
        payload = payload[key]
    return True


def every_if(workflow: dict[Any, Any]) -> list[tuple[str, str]]:
    found = []
    for job_name, job in workflow["jobs"].items():
        if "if" in job:
            found.append((f"job {job_name}", str(job["if"])))
        for index, step in enumerate(job.get("steps", [])):
            if "if" in step:
                found.append((f"job {job_name} step {step.get('id', index)}", str(step["if"])))
    return found


@pytest.mark.parametrize(("name", "event"), SCHEDULED_EVENTS)
def test_every_if_reads_only_what_the_events_payload_has(name: str, event: str) -> None:
    """`github.event.X` in an `if:` must be in this event's payload, or the expression checks
    the event name first (e.g. `github.event_name == 'schedule' || ...`). Every `if:` also
    evaluates without an error under this event."""
    workflow = SCHEDULED[name]
    github = github_context(event)
    ifs = every_if(workflow)
    for where, expr in ifs:
        for match in _EVENT_PATH.finditer(expr):
            path = match.group(1).strip(".").split(".")
            assert present(github["event"], path) or "github.event_name" in expr, (
                f"{name} {where}: reads github.event.{'.'.join(path)}, which a {event} event "
                f"does not carry: {expr}"
            )
    contexts = {
        "github": github,
        "needs": {j: {"result": "success", "outputs": SAMPLE_OUTPUTS} for j in workflow["jobs"]},
        "steps": {},
        "matrix": json.loads(SAMPLE_OUTPUTS["matrix"])["include"][0],
        "vars": {},
        "inputs": {},
        "runner": {"temp": "/tmp"},
    }
    answers = evaluate([{"expr": condition(e), "contexts": contexts} for _, e in ifs])
    for (where, expr), answer in zip(ifs, answers, strict=True):
        assert "error" not in answer, f"{name} {where}: {expr}: {answer['error']}"


# --- required checks always report ------------------------------------------------------------

REQUIRED_IN = [ROOT / "docs" / "ci-setup.md", ROOT / "reconciler/starter/templates/README.md"]


def required_checks() -> set[str]:
    """The checks the docs ask branch protection to require: "the `NAME` check"."""
    names: set[str] = set()
    for path in REQUIRED_IN:
        text = " ".join(path.read_text().split())
        names |= set(re.findall(r"`([^`]+)` check", text))
        names |= set(re.findall(r"check \(and `([^`]+)` in this repository\)", text))
    return names


def job_of_check(check: str) -> list[tuple[str, dict[Any, Any], str | None]]:
    """(workflow, parsed, job id or None for the whole workflow) named `check`."""
    found: list[tuple[str, dict[Any, Any], str | None]] = []
    for name, workflow in WORKFLOWS.items():
        if workflow.get("name") == check:
            found.append((name, workflow, None))
        for job_id, job in workflow["jobs"].items():
            if job.get("name", job_id) == check:
                found.append((name, workflow, job_id))
    return found


def test_the_docs_name_the_required_checks() -> None:
    assert required_checks() == {"gather the plans into one comment", "ci"}


@pytest.mark.parametrize("check", sorted(required_checks()))
def test_a_required_check_has_no_path_filter(check: str) -> None:
    found = job_of_check(check)
    assert found, f"no workflow or job is named {check!r}"
    for name, workflow, _ in found:
        assert "pull_request" in workflow["on"], name
        filters = workflow["on"]["pull_request"] or {}
        assert not {"paths", "paths-ignore"} & set(filters), (
            f"{name}: a required check's workflow has a path filter; GitHub leaves the check "
            "pending on pull requests it skips"
        )


@pytest.mark.parametrize(
    ("outputs", "results"),
    [
        (SAMPLE_OUTPUTS, {}),
        (EMPTY_MATRIX, {}),
        (SAMPLE_OUTPUTS, {"shares": "failure"}),
        (SAMPLE_OUTPUTS, {"plan": "failure"}),
    ],
    ids=["a-share-changed", "no-share-changed", "listing-failed", "a-plan-failed"],
)
@pytest.mark.parametrize("check", sorted(required_checks()))
def test_a_required_job_runs_whatever_the_jobs_before_it_did(
    check: str, outputs: dict[str, str], results: dict[str, str]
) -> None:
    """A job that is skipped passes a required check unseen; it must run and decide."""
    for name, workflow, job_id in job_of_check(check):
        ran = jobs_that_run(
            workflow, github_context("pull_request"), outputs=outputs, results=results
        )
        for job in [job_id] if job_id else list(workflow["jobs"]):
            if job_id or not needs_of(workflow["jobs"][job]):
                assert ran[job], f"{name}: job {job} is skipped: {ran}"


def test_a_fork_pull_request_fails_the_required_check_instead_of_skipping_it() -> None:
    """The plan workflow's first job skips a fork's pull request (no OIDC token); the required
    job still runs, and its first step fails when the shares were not listed."""
    for name, workflow, job_id in job_of_check("gather the plans into one comment"):
        assert job_id is not None
        fork = github_context("pull_request")
        fork["event"]["pull_request"]["head"]["repo"] = {"full_name": "someone/share"}
        ran = jobs_that_run(workflow, fork)
        assert ran == {"shares": False, "plan": False, "comment": True}, name
        first = workflow["jobs"][job_id]["steps"][0]
        assert first["id"] == "changed" and "if" not in first
        assert 'if [ "$SHARES" != success ]' in first["run"] and "exit 1" in first["run"]


@pytest.mark.parametrize(
    ("result", "matrix", "expected"),
    [
        ("success", SAMPLE_OUTPUTS["matrix"], True),
        ("success", EMPTY_MATRIX["matrix"], False),
        ("failure", "", False),  # no outputs: fromJSON('') must not be reached
        ("skipped", "", False),
    ],
)
def test_the_required_job_knows_whether_a_share_changed(
    result: str, matrix: str, expected: bool
) -> None:
    """The first step's CHANGED, evaluated by GitHub's evaluator as the runner would."""
    for name, workflow, job_id in job_of_check("gather the plans into one comment"):
        assert job_id is not None
        changed = workflow["jobs"][job_id]["steps"][0]["env"]["CHANGED"]
        outputs = {"matrix": matrix} if matrix else {}
        contexts = {"needs": {"shares": {"result": result, "outputs": outputs}}}
        [answer] = evaluate([{"expr": changed, "contexts": contexts}])
        assert answer.get("value") is expected, (name, answer)


# --- the read-only verify after the applies (issue 22) ----------------------------------------

APPLY_WORKFLOWS = ["project apply.yml", "init apply.yml"]


@pytest.mark.parametrize("name", APPLY_WORKFLOWS)
@pytest.mark.parametrize("event", ["schedule", "push", "workflow_dispatch"])
@pytest.mark.parametrize("apply", ["success", "failure"])
def test_the_verify_job_runs_after_the_applies_whatever_they_did(
    name: str, event: str, apply: str
) -> None:
    """After a clean apply, and after a failed one (a share's apply failed, stopped before
    applying, or its role was refused): verify checks the share with the read-only role anyway,
    and the report runs after it."""
    ran = jobs_that_run(WORKFLOWS[name], github_context(event), results={"apply": apply})
    assert ran == {"shares": True, "apply": True, "verify": True, "report": True}, ran


@pytest.mark.parametrize("name", APPLY_WORKFLOWS)
def test_the_verify_job_is_skipped_when_there_is_nothing_to_check(name: str) -> None:
    """No share listed (an empty matrix: GitHub refuses it), or the listing failed."""
    workflow = WORKFLOWS[name]
    empty = jobs_that_run(workflow, github_context("push"), outputs=EMPTY_MATRIX)
    assert empty == {"shares": True, "apply": False, "verify": False, "report": False}
    failed = jobs_that_run(workflow, github_context("schedule"), results={"shares": "failure"})
    assert failed == {"shares": True, "apply": False, "verify": False, "report": False}
    branch = jobs_that_run(workflow, github_context("workflow_dispatch", branch="feature"))
    assert branch == dict.fromkeys(workflow["jobs"], False)


@pytest.mark.parametrize("name", APPLY_WORKFLOWS)
@pytest.mark.parametrize(
    ("apply", "status", "expected"),
    [
        ("success", "success", True),
        ("failure", "failure", True),
        ("cancelled", "cancelled", False),  # a cancelled run starts nothing new
    ],
)
def test_the_verify_job_under_each_run_status(
    name: str, apply: str, status: str, expected: bool
) -> None:
    job = WORKFLOWS[name]["jobs"]["verify"]
    needs = {
        "shares": {"result": "success", "outputs": SAMPLE_OUTPUTS},
        "apply": {"result": apply, "outputs": {}},
    }
    contexts = {"github": github_context("schedule"), "needs": needs, "vars": {}, "inputs": {}}
    [answer] = evaluate([{"expr": condition(job["if"]), "contexts": contexts, "status": status}])
    assert answer["truthy"] is expected, answer


def test_no_pull_request_run_verifies_with_the_plan_role_on_main() -> None:
    """The verify job lives in the apply workflow only, which no pull request starts: a pull
    request's run assumes the plan role for `plan` only (its `sub` is `...:pull_request`)."""
    for name, workflow in WORKFLOWS.items():
        has_verify = any(
            s.get("with", {}).get("command") == "verify"
            for job in workflow["jobs"].values()
            for s in job.get("steps", [])
        )
        assert has_verify == (name in APPLY_WORKFLOWS), name
        if has_verify:
            assert (
                "pull_request" not in workflow["on"] and "pull_request_target" not in workflow["on"]
            )
