"""The apply role trusts exactly the job that applies, the read-only plan role the jobs that plan
(pull requests) and verify (the apply workflow's `verify` job, on the default branch, in no
environment): the trust policies the docs and `reconcile init` give accept the OIDC token GitHub
issues to the jobs of the workflows that assume each role, and refuse every other run. The claims
are computed from the workflows themselves (the job's `environment:`, the event, the ref), the
decision is @cloud-copilot/iam-simulate's (tests/oracle/simulate.cjs), so renaming the
environment in a workflow without changing the trust policies, or the other way round, fails
here.

What GitHub puts in the token (docs.github.com/actions/reference/security/oidc, "Example subject
claims"): `sub` is `repo:OWNER/REPO:environment:NAME` when the job references an environment, and
then carries neither the ref nor `pull_request`; otherwise `repo:OWNER/REPO:pull_request` for a
`pull_request` run and `repo:OWNER/REPO:ref:REF` for the others ("Filtering for a specific
branch": "The subject claim includes the branch name of the workflow, but only if the job doesn't
reference an environment, and if the workflow is not triggered by a pull request event"). `ref`
is the run's git ref whatever the environment. AWS STS validates GitHub's `ref`, `environment`
and `repository` claims as condition keys of `sts:AssumeRoleWithWebIdentity`
(aws.amazon.com/about-aws/whats-new/2026/01/aws-sts-supports-validation-identity-provider-claims,
and the Service Authorization Reference in tests/oracle lists them), so the apply role can
require the environment AND the default branch: an environment whose branch rule is missing (a
private repository on GitHub Free has none; an environment GitHub created because a workflow
named it has none) still lets no other branch assume the role.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.starter import TEMPLATES, Account, ActionRef, config_repository
from tests.github_expressions import REPOSITORY, evaluate, github_context

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "tests" / "oracle"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="node is not installed: the trust policies are judged by @cloud-copilot/iam-simulate "
    "(tests/oracle) under Node.js 20",
)

ACCOUNT = "123456789012"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
ENVIRONMENT = "reconciler-apply"
ACTION = ActionRef.parse("my-org/s3-collaborator-reconciler@" + "0" * 40)
# the repository the docs' examples name, and the placeholder of init's README
DOCS_REPOSITORY = "my-org/research-share"
README_REPOSITORY = "OWNER/REPO"


def parse(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # PyYAML reads the key `on` as True (YAML 1.1)
    return data


def workflows() -> dict[str, dict[Any, Any]]:
    """The plan and apply workflows: the project's own, and those `reconcile init` writes."""
    files = config_repository(ACTION)
    found: dict[str, dict[Any, Any]] = {}
    for path in TEMPLATES:
        if path.startswith(".github/workflows/"):
            name = Path(path).name
            found[f"project {name}"] = parse((ROOT / path).read_text())
            found[f"init {name}"] = parse(files[path])
    return found


WORKFLOWS = workflows()


def role_of(job: dict[str, Any]) -> str | None:
    """`plan` or `apply`: the role the job's configure-aws-credentials step assumes (its default
    name); None for a job that assumes no role."""
    roles = set()
    for step in job.get("steps", []):
        if "configure-aws-credentials" in step.get("uses", ""):
            found = re.search(r"'reconciler-(plan|apply)'", step["with"]["role-to-assume"])
            assert found, step["with"]["role-to-assume"]
            roles.add(found.group(1))
    assert len(roles) <= 1, roles
    return roles.pop() if roles else None


def environment_of(job: dict[str, Any], github: dict[str, Any]) -> str | None:
    """The name of the environment the job references, its expression (if any) evaluated by
    GitHub's evaluator with the contexts `jobs.<id>.environment.name` may read."""
    value = job.get("environment")
    name = value.get("name") if isinstance(value, dict) else value
    if name is None:
        return None
    text = str(name)
    if "${{" not in text:
        return text
    assert re.fullmatch(r"\$\{\{.*\}\}", text.strip()), f"one expression expected: {text}"
    contexts = {"github": github, "vars": {}, "inputs": {}, "needs": {}, "matrix": {}}
    [answer] = evaluate([{"expr": text, "contexts": contexts}])
    assert "error" not in answer, answer
    return str(answer["value"])


def claims(
    job: dict[str, Any], github: dict[str, Any], *, ids: tuple[int, int] | None = None
) -> dict[str, str]:
    """The claims of the OIDC token GitHub issues to `job` in a run with context `github`, as the
    condition keys AWS STS compares (`token.actions.githubusercontent.com:<claim>`). With `ids`
    (owner id, repository id), the immutable `sub` of repositories created after 15 July 2026
    (`repo:OWNER@OWNER_ID/REPO@REPO_ID:...`, same page, "Immutable subject claims")."""
    environment = environment_of(job, github)
    repository = github["repository"]
    owner, name = repository.split("/")
    subject = repository if ids is None else f"{owner}@{ids[0]}/{name}@{ids[1]}"
    if environment is not None:
        context = f"environment:{environment.replace(':', '%3A')}"
    elif github["event_name"] == "pull_request":
        context = "pull_request"
    else:
        context = f"ref:{github['ref']}"
    token = {
        "aud": "sts.amazonaws.com",  # configure-aws-credentials asks for this audience
        "sub": f"repo:{subject}:{context}",
        "ref": github["ref"],
        "repository": repository,
    }
    if environment is not None:
        token["environment"] = environment
    return {f"{ISSUER}:{k}": v for k, v in token.items()}


def assume(trust: dict[str, Any], token: dict[str, str], *, provider: str = PROVIDER) -> str:
    return decide([(trust, token, provider)])[0]


def assert_all_refused(
    trust: dict[str, Any], refused: dict[str, dict[str, Any]], *, accepted: dict[str, Any]
) -> None:
    """Every token of `refused` is denied, and so is the `accepted` token when it comes from
    another account's identity provider."""
    answers = decide([(trust, token, PROVIDER) for token in refused.values()])
    assert dict(zip(refused, answers, strict=True)) == dict.fromkeys(refused, "ImplicitlyDenied")
    other_provider = PROVIDER.replace(ACCOUNT, "999999999999")
    assert assume(trust, accepted, provider=other_provider) == "ImplicitlyDenied"


def decide(cases: list[tuple[dict[str, Any], dict[str, str], str]]) -> list[str]:
    """The simulator's decision on AssumeRoleWithWebIdentity for each (trust policy, token
    claims, identity provider)."""
    requests = [
        {
            "principal": provider,
            "action": "sts:AssumeRoleWithWebIdentity",
            "resource": f"arn:aws:iam::{ACCOUNT}:role/reconciler",
            "account": ACCOUNT,
            "identity": [],
            "resource_policy": trust,
            "context": token,
        }
        for trust, token, provider in cases
    ]
    done = subprocess.run(
        [NODE or "node", str(ORACLE / "simulate.cjs")],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout))


# --- the trust policies the docs and init give ------------------------------------------------


def json_after(text: str, marker: str) -> dict[str, Any]:
    """The first ```json block after the first `marker` in `text`."""
    start = text.find(marker)
    assert start >= 0, f"{marker!r} not found"
    block = re.compile(r"```json\n(.*?)\n\s*```", re.DOTALL).search(text, start)
    assert block, f"no json block after {marker!r}"
    found = json.loads(block.group(1))
    assert isinstance(found, dict)
    return found


def with_repository(trust: dict[str, Any], placeholder: str) -> dict[str, Any]:
    """The trust policy for the repository the runs come from (the docs' example repository or
    the README's placeholder, replaced)."""
    text = json.dumps(trust)
    assert placeholder in text, f"{placeholder} not in {text}"
    found = json.loads(text.replace(placeholder, REPOSITORY))
    assert isinstance(found, dict)
    return found


def docs_trust(name: str) -> dict[str, Any]:
    text = (ROOT / "docs" / "ci-setup.md").read_text()
    return with_repository(json_after(text, f"`{name}-trust.json`"), DOCS_REPOSITORY)


def readme_trust(role: str = "apply") -> dict[str, Any]:
    readme = config_repository(ACTION, Account(account_id=ACCOUNT))["README.md"]
    return with_repository(json_after(readme, f"The {role} role's trust policy"), README_REPOSITORY)


APPLY_TRUSTS = {"docs/ci-setup.md": docs_trust("apply"), "init's README.md": readme_trust()}
PLAN_TRUSTS = {"docs/ci-setup.md": docs_trust("plan"), "init's README.md": readme_trust("plan")}


def apply_job(name: str) -> dict[str, Any]:
    job: dict[str, Any] = WORKFLOWS[name]["jobs"]["apply"]
    return job


def plan_job(name: str) -> dict[str, Any]:
    job: dict[str, Any] = WORKFLOWS[name]["jobs"]["plan"]
    return job


def verify_job(name: str) -> dict[str, Any]:
    job: dict[str, Any] = WORKFLOWS[name]["jobs"]["verify"]
    return job


# --- which job assumes which role ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_only_the_job_that_applies_runs_in_the_apply_environment(name: str) -> None:
    """The job that assumes the apply role references the environment; a job that assumes the
    plan role references none (its `sub` stays `...:pull_request`, or `...:ref:refs/heads/main`
    for the apply workflow's `verify`), nor does a job that assumes no role (it would gain
    nothing and wait for the environment's rules)."""
    jobs = WORKFLOWS[name]["jobs"]
    roles = {job_id: role_of(job) for job_id, job in jobs.items()}
    expected = {"apply": "apply", "verify": "plan"} if "apply.yml" in name else {"plan": "plan"}
    assert {k: v for k, v in roles.items() if v} == expected
    for job_id, job in jobs.items():
        wanted = ENVIRONMENT if roles[job_id] == "apply" else None
        assert job.get("environment") == wanted, (name, job_id)


@pytest.mark.parametrize("source", sorted(APPLY_TRUSTS))
@pytest.mark.parametrize("name", ["project apply.yml", "init apply.yml"])
@pytest.mark.parametrize("event", ["push", "schedule", "workflow_dispatch"])
def test_the_apply_trust_accepts_the_apply_job_on_the_default_branch(
    source: str, name: str, event: str
) -> None:
    """A merge, the nightly run and a manual run on `main`: the apply job's token is accepted,
    so the nightly drift correction runs without anyone at the keyboard."""
    token = claims(apply_job(name), github_context(event))
    assert token[f"{ISSUER}:sub"] == f"repo:{REPOSITORY}:environment:{ENVIRONMENT}"
    assert assume(APPLY_TRUSTS[source], token) == "Allowed"


@pytest.mark.parametrize("source", sorted(APPLY_TRUSTS))
def test_the_apply_trust_refuses_every_other_run(source: str) -> None:
    trust = APPLY_TRUSTS[source]
    job = apply_job("init apply.yml")
    main = github_context("push")
    refused = {
        # the apply job dispatched on another branch: the environment's `sub` is the same, only
        # the ref tells it apart (an environment with no branch rule would let it through)
        "apply job on a branch": claims(job, github_context("workflow_dispatch", branch="evil")),
        # a tag named like the default branch
        "apply job on a tag": claims(job, {**main, "ref": "refs/tags/main", "ref_name": "main"}),
        # any job on main that does not name the environment: the `sub` of the old trust policy
        "job on main without the environment": claims({}, main),
        "the plan job": claims(plan_job("init plan.yml"), github_context("pull_request")),
        "job in another environment": claims({"environment": "pypi"}, main),
        "another repository": {
            **claims(job, main),
            f"{ISSUER}:sub": f"repo:someone/else:environment:{ENVIRONMENT}",
            f"{ISSUER}:repository": "someone/else",
        },
        "another audience": {**claims(job, main), f"{ISSUER}:aud": "api://AzureADTokenExchange"},
        "no ref claim": {k: v for k, v in claims(job, main).items() if not k.endswith(":ref")},
    }
    assert_all_refused(trust, refused, accepted=claims(job, main))


@pytest.mark.parametrize("source", sorted(PLAN_TRUSTS))
@pytest.mark.parametrize("name", ["project plan.yml", "init plan.yml"])
def test_the_plan_trust_accepts_the_plan_job_and_not_the_apply_job(source: str, name: str) -> None:
    trust = PLAN_TRUSTS[source]
    token = claims(plan_job(name), github_context("pull_request", branch="add-alice"))
    assert token[f"{ISSUER}:sub"] == f"repo:{REPOSITORY}:pull_request"
    assert assume(trust, token) == "Allowed"
    apply_token = claims(apply_job(name.replace("plan", "apply")), github_context("push"))
    assert assume(trust, apply_token) == "ImplicitlyDenied"


def test_the_branch_trust_of_earlier_versions_refuses_the_apply_job() -> None:
    """Why upgrading needs the new trust policy (CHANGELOG.md): the `sub` of a job in an
    environment no longer carries the ref, so a role that trusts `ref:refs/heads/main` refuses
    it; and the check fails when the workflow and the trust policy drift apart."""
    old = docs_trust("apply")
    conditions = old["Statement"][0]["Condition"]["StringEquals"]
    conditions[f"{ISSUER}:sub"] = f"repo:{REPOSITORY}:ref:refs/heads/main"
    del conditions[f"{ISSUER}:ref"]
    token = claims(apply_job("init apply.yml"), github_context("schedule"))
    assert assume(old, token) == "ImplicitlyDenied"
    assert assume(old, claims({}, github_context("schedule"))) == "Allowed"


def test_the_trust_conditions_are_keys_aws_sts_knows() -> None:
    """`aud` and `sub` are the OIDC keys every provider has (IAM User Guide, "Available keys for
    AWS OIDC federation"); every other key must be one the Service Authorization Reference lists
    for sts:AssumeRoleWithWebIdentity (a misspelt key would simply never match)."""
    done = subprocess.run(
        [NODE or "node", str(ORACLE / "sar.cjs")],
        input=json.dumps(["sts:AssumeRoleWithWebIdentity"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = set(
        json.loads(done.stdout)["actions"]["sts:AssumeRoleWithWebIdentity"]["conditionKeys"]
    )
    for trust in [*APPLY_TRUSTS.values(), *PLAN_TRUSTS.values()]:
        [statement] = trust["Statement"]
        assert statement["Principal"] == {"Federated": PROVIDER}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert list(statement["Condition"]) == ["StringEquals"]  # never ForAllValues, no wildcard
        for key in statement["Condition"]["StringEquals"]:
            assert key in {f"{ISSUER}:aud", f"{ISSUER}:sub"} or key in listed, key


def test_the_immutable_subjects_the_docs_give_are_the_ones_github_issues() -> None:
    """docs/ci-setup.md gives every trusted `sub` in the immutable form of newer repositories:
    the apply job's, the plan job's and the verify job's."""
    text = (ROOT / "docs" / "ci-setup.md").read_text()
    given = re.findall(r"`(repo:my-org@(\d+)/research-share@(\d+):[^`]+)`", text)
    assert len(given) == 3, given
    [ids] = {(int(owner), int(repo)) for _, owner, repo in given}
    runs = {
        "apply": (apply_job("init apply.yml"), github_context("schedule")),
        "plan": (plan_job("init plan.yml"), github_context("pull_request")),
        "verify": (verify_job("init apply.yml"), github_context("schedule")),
    }
    computed = {
        claims(job, {**run, "repository": DOCS_REPOSITORY}, ids=ids)[f"{ISSUER}:sub"]
        for job, run in runs.values()
    }
    assert {sub for sub, _, _ in given} == computed


def test_the_changeover_trust_accepts_the_old_and_the_new_job_on_main_only() -> None:
    """While upgrading (docs/ci-setup.md): both subjects, the ref still required."""
    text = (ROOT / "docs" / "ci-setup.md").read_text()
    upgrading = text.index("**Upgrading from a version without the environment:**")
    found = re.compile(r'"token\.actions\.githubusercontent\.com:sub": (\[[^\]]*\])').search(
        text, upgrading
    )
    assert found, "no changeover list of subjects"
    subjects = json.loads(found.group(1).replace("OWNER/REPO", REPOSITORY))
    trust = docs_trust("apply")
    trust["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:sub"] = subjects
    new, old = apply_job("init apply.yml"), {"environment": None}
    branch = github_context("workflow_dispatch", branch="evil")
    cases = {
        "new job on main": (claims(new, github_context("schedule")), "Allowed"),
        "old job on main": (claims(old, github_context("schedule")), "Allowed"),
        "new job on a branch": (claims(new, branch), "ImplicitlyDenied"),
        "old job on a branch": (claims(old, branch), "ImplicitlyDenied"),
    }
    answers = decide([(trust, token, PROVIDER) for token, _ in cases.values()])
    assert dict(zip(cases, answers, strict=True)) == {k: v for k, (_, v) in cases.items()}


# --- the read-only verify of the apply workflow (issue 22) ----------------------------------


@pytest.mark.parametrize("source", sorted(PLAN_TRUSTS))
@pytest.mark.parametrize("name", ["project apply.yml", "init apply.yml"])
@pytest.mark.parametrize("event", ["push", "schedule", "workflow_dispatch"])
def test_the_plan_trust_accepts_the_verify_job_and_the_apply_trust_refuses_it(
    source: str, name: str, event: str
) -> None:
    """After a merge, nightly and by hand: the verify job, in no environment on `main`, gets the
    read-only role and never the apply role."""
    token = claims(verify_job(name), github_context(event))
    assert token[f"{ISSUER}:sub"] == f"repo:{REPOSITORY}:ref:refs/heads/main"
    assert f"{ISSUER}:environment" not in token
    cases = [(PLAN_TRUSTS[source], token, PROVIDER)]
    cases += [(trust, token, PROVIDER) for trust in APPLY_TRUSTS.values()]
    assert decide(cases) == ["Allowed", *["ImplicitlyDenied"] * len(APPLY_TRUSTS)]


@pytest.mark.parametrize("source", sorted(PLAN_TRUSTS))
def test_the_plan_trust_refuses_every_other_run(source: str) -> None:
    """Two subjects, and nothing else: no other branch, no tag, no other repository (its pull
    requests included), no environment's job (the apply job), no other audience or provider."""
    trust = PLAN_TRUSTS[source]
    job = verify_job("init apply.yml")
    main = github_context("schedule")
    elsewhere = {f"{ISSUER}:sub": "repo:someone/else:ref:refs/heads/main"}
    refused = {
        "verify job on a branch": claims(job, github_context("workflow_dispatch", branch="evil")),
        "verify job on a tag": claims(job, {**main, "ref": "refs/tags/main", "ref_name": "main"}),
        "the apply job": claims(apply_job("init apply.yml"), main),
        "job in another environment": claims({"environment": "pypi"}, main),
        "another repository": {**claims(job, main), **elsewhere},
        "another repository's pull request": {
            **claims(plan_job("init plan.yml"), github_context("pull_request")),
            f"{ISSUER}:sub": "repo:someone/else:pull_request",
        },
        "another audience": {**claims(job, main), f"{ISSUER}:aud": "api://AzureADTokenExchange"},
        "no audience": {k: v for k, v in claims(job, main).items() if not k.endswith(":aud")},
    }
    assert_all_refused(trust, refused, accepted=claims(job, main))


def test_the_plan_trust_of_earlier_versions_refuses_the_verify_job() -> None:
    """Why upgrading needs the plan role's new trust policy (CHANGELOG.md): the pull-request
    subject alone refuses the verify job."""
    old = docs_trust("plan")
    old["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:sub"] = (
        f"repo:{REPOSITORY}:pull_request"
    )
    token = claims(verify_job("init apply.yml"), github_context("schedule"))
    assert assume(old, token) == "ImplicitlyDenied"
    assert assume(docs_trust("plan"), token) == "Allowed"
